"""The schema a new database gets (schema/<dialect>.sql + stamp) is the one the migrations
build and the one tables.py describes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from faxbot.store.database import (
    HEAD,
    MIGRATIONS,
    SCHEMA,
    Database,
    DatabaseUrlError,
    MigrationError,
    NewDatabaseRefused,
    current_revision,
    migrate,
    upgrade,
)
from faxbot.store.schema_sql import DIALECTS, render
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
            inspector.get_pk_constraint(table)["constrained_columns"],
        )
    engine.dispose()
    return schema


def test_head_is_the_newest_migration() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_schema_files_are_rendered_from_tables_py(dialect: str) -> None:
    assert (SCHEMA / f"{dialect}.sql").read_text(encoding="utf-8") == render(dialect), (
        f"store/schema/{dialect}.sql is out of date: run python -m faxbot.store.schema_sql"
    )


def test_fresh_schema_equals_the_migrated_one(tmp_path: Path) -> None:
    fresh_url, migrated_url = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    fresh, migrated = Database(fresh_url), Database(migrated_url)
    migrate(fresh)
    upgrade(migrated_url)
    assert current_revision(fresh) == current_revision(migrated) == HEAD
    fresh.close()
    migrated.close()
    assert _schema(fresh_url) == _schema(migrated_url)


def test_migrate_is_idempotent_and_sets_wal(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'c.db'}")
    migrate(database)
    migrate(database)
    assert current_revision(database) == HEAD
    database.close()
    with sqlite3.connect(tmp_path / "c.db") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)


def test_an_older_database_is_upgraded_by_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    with sqlite3.connect(tmp_path / "old.db") as connection:  # a database from before 0001
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    database = Database(url)
    migrate(database)
    assert current_revision(database) == HEAD
    database.close()
    assert "jobs" in _schema(url)


def test_a_jobs_table_faxbot_did_not_make_is_refused(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "theirs.db") as connection:
        connection.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, payload TEXT)")
        connection.execute("INSERT INTO jobs (payload) VALUES ('someone else''s')")
    database = Database(f"sqlite:///{tmp_path / 'theirs.db'}")
    with pytest.raises(MigrationError, match="a jobs table but no alembic_version stamp"):
        migrate(database)
    database.close()
    with sqlite3.connect(tmp_path / "theirs.db") as connection:  # nothing of theirs was touched
        assert connection.execute("SELECT payload FROM jobs").fetchall() == [("someone else's",)]
        tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        assert [name for (name,) in tables] == ["jobs"]


def test_a_failing_upgrade_is_one_line(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "odd.db") as connection:  # stamped with an unknown revision
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        connection.execute("INSERT INTO alembic_version VALUES ('9999')")
    database = Database(f"sqlite:///{tmp_path / 'odd.db'}")
    with pytest.raises(MigrationError, match=r"upgrading the schema to head failed: .*9999"):
        migrate(database)
    database.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root:hunter2@db/faxbot", "unsupported database URL scheme 'mysql'"),
        ("root:hunter2@db/faxbot", r"unsupported database URL \(no scheme://\)"),
        ("sqlite:///:memory:", "an in-memory SQLite database keeps nothing"),
        ("sqlite:///", "an in-memory SQLite database keeps nothing"),
        ("postgresql://fax:hunter2@[::1/faxbot", r"malformed PostgreSQL URL \(Invalid IPv6 URL"),
        ("postgresql://fax:hunter2@db:54x2/faxbot", "malformed PostgreSQL URL .*port"),
    ],
)
def test_an_unusable_url_is_refused_without_its_password(url: str, message: str) -> None:
    with pytest.raises(DatabaseUrlError, match=message) as raised:
        Database(url)
    assert "hunter2" not in str(raised.value)


def test_a_driver_message_quoting_the_url_is_masked() -> None:
    """libpq quotes a URL it cannot parse, password and all; so may other drivers."""
    url = "postgresql://fax:hunter%3F2@db/faxbot?sslmode=require&password=other-pw"
    database = Database(url)
    message = database.describe_error(
        ValueError(f"invalid URI {url!r}; password 'hunter?2', other-pw")
    )
    database.close()
    assert "hunter" not in message and "other-pw" not in message, message
    assert "postgresql://fax:***@db/faxbot?sslmode=require&password=***" in message


def test_a_missing_or_empty_database_is_refused_unless_it_may_be_created(tmp_path: Path) -> None:
    path = tmp_path / "faxbot.sqlite3"
    database = Database(f"sqlite:///{path}")
    with pytest.raises(NewDatabaseRefused, match="the database file is missing"):
        migrate(database, may_create=False)
    assert not path.exists()  # not even opened
    path.touch()
    with pytest.raises(NewDatabaseRefused, match="the database is empty"):
        migrate(database, may_create=False)
    path.unlink()
    # a WAL its deleted database left: never replayed into the new one
    Path(f"{path}-wal").write_bytes(b"\0" * 4096)
    migrate(database)
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size != 4096
    assert current_revision(database) == HEAD
    database.close()
