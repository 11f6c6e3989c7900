"""The schema a new database gets (tables + stamp) is the one the migrations build."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from faxbot.store.database import HEAD, MIGRATIONS, current_revision, migrate, upgrade
from sqlalchemy import create_engine, inspect


def _schema(url: str) -> dict[str, object]:
    engine = create_engine(url)
    inspector = inspect(engine)
    schema: dict[str, object] = {}
    for table in sorted(inspector.get_table_names()):
        schema[table] = (
            sorted(
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ),
            sorted(str(i["name"]) for i in inspector.get_indexes(table)),
            sorted(str(u["name"]) for u in inspector.get_unique_constraints(table)),
        )
    engine.dispose()
    return schema


def test_head_is_the_newest_migration() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD


def test_fresh_schema_equals_the_migrated_one(tmp_path: Path) -> None:
    fresh_url, migrated_url = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    fresh = create_engine(fresh_url)
    migrate(fresh)
    migrated = create_engine(migrated_url)
    upgrade(migrated)
    assert current_revision(fresh) == current_revision(migrated) == HEAD
    fresh.dispose()
    migrated.dispose()
    assert _schema(fresh_url) == _schema(migrated_url)


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    migrate(engine)
    migrate(engine)
    assert current_revision(engine) == HEAD
    engine.dispose()
