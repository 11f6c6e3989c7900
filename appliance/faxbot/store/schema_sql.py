"""Render schema/<dialect>.sql, the DDL a new database gets, from the SQLAlchemy tables.

The appliance runs these files without importing SQLAlchemy (database.py). Tests check that
the files equal what this renders from tables.py, and that they build the same schema as the
migrations. After changing the Job dataclass (jobs.py: the columns) or tables.py (keys and
indexes), and adding the migration, run:

    python -m faxbot.store.schema_sql
"""

from __future__ import annotations

import sys

from faxbot.store.database import SCHEMA

DIALECTS = ("sqlite", "postgresql")
# What Alembic creates to record the revision (alembic.runtime.migration), kept identical.
VERSION_TABLE = (
    "CREATE TABLE alembic_version (\n"
    "\tversion_num VARCHAR(32) NOT NULL, \n"
    "\tCONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n"
    ")"
)


def render(dialect_name: str) -> str:
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.engine import Dialect
    from sqlalchemy.schema import CreateIndex, CreateTable

    from faxbot.store.tables import metadata

    dialects: dict[str, Dialect] = {
        "sqlite": sqlite.dialect(),
        "postgresql": postgresql.dialect(),  # type: ignore[no-untyped-call]
    }
    dialect = dialects[dialect_name]
    statements = []
    for table in metadata.sorted_tables:
        statements.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        statements.extend(
            str(CreateIndex(index).compile(dialect=dialect)).strip()
            for index in sorted(table.indexes, key=lambda i: str(i.name))
        )
    statements.append(VERSION_TABLE)
    header = (
        f"-- The newest schema for {dialect_name}, rendered from faxbot/store/tables.py by\n"
        "-- `python -m faxbot.store.schema_sql`. Do not edit by hand.\n"
    )
    return header + "".join(f"\n{statement};\n" for statement in statements)


def main() -> None:
    for dialect in DIALECTS:
        path = SCHEMA / f"{dialect}.sql"
        path.write_text(render(dialect), encoding="utf-8")
        sys.stdout.write(f"wrote {path}\n")


if __name__ == "__main__":
    main()
