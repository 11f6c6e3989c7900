"""Open the database named by the artifact and bring its schema to the newest migration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text

from faxbot.store.tables import metadata

HEAD = "0001"  # the newest migration in migrations/versions; a test keeps them equal

MIGRATIONS = Path(__file__).with_name("migrations")


def database_url(configured: str | None, data_dir: Path) -> str:
    """The SQLAlchemy URL: the configured one, or SQLite in data_dir."""
    if configured:
        if configured.startswith("postgres://"):
            return "postgresql+psycopg://" + configured[len("postgres://") :]
        if configured.startswith("postgresql://"):
            return "postgresql+psycopg://" + configured[len("postgresql://") :]
        return configured
    return f"sqlite:///{data_dir / 'faxbot.sqlite3'}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN itself
    # (the recipe in SQLAlchemy's SQLite dialect documentation).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # FULL makes every commit durable on disk before the API answers (a 202 promises the job
    # survives a power cut). WAL is set once, in migrate(): it is stored in the database file.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


POOL_SIZE = 16  # readers; the writer holds one more. No overflow: a new SQLite connection
# per burst costs more than waiting for a pooled one.


def open_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False},
            pool_size=POOL_SIZE + 1,
            max_overflow=0,
            pool_timeout=30,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        return engine
    return create_engine(url, pool_size=POOL_SIZE + 1, max_overflow=4, pool_pre_ping=True)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
        return str(row[0]) if row else None


def migrate(engine: Engine) -> None:
    """Bring the schema to HEAD. A new database gets the tables at once and is stamped (the
    way Alembic's docs set up a fresh database); an older one is upgraded by Alembic, which is
    imported only then (it costs 10 MB and 0.2 s at every start otherwise)."""
    if engine.dialect.name == "sqlite":
        # Readers run beside the one writer; persistent in the database file. Outside any
        # transaction, so on the driver's connection (in autocommit, see _sqlite_pragmas).
        raw = engine.raw_connection()
        try:
            raw.driver_connection.execute("PRAGMA journal_mode=WAL")  # type: ignore[union-attr]
        finally:
            raw.close()
    revision = current_revision(engine)
    if revision == HEAD:
        return
    with engine.begin() as connection:
        if revision is None and not inspect(connection).get_table_names():
            metadata.create_all(connection)
            connection.execute(
                text(
                    "CREATE TABLE alembic_version (version_num VARCHAR(32) "
                    "NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY "
                    "(version_num))"
                )
            )
            connection.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": HEAD})
            return
    upgrade(engine)


def upgrade(engine: Engine, target: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, target)
