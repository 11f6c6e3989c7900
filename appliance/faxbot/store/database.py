"""Open the database named by the artifact and bring its schema to the newest migration.

The appliance talks to its database through the driver's own DB-API: sqlite3 (the embedded
default) or psycopg 3 (PostgreSQL). SQLAlchemy and Alembic define the schema (tables.py, from
the Job dataclass) and upgrade an older database (migrations/), and they are imported only for
such an upgrade: importing SQLAlchemy took ~125 ms of every start, and its execution path cost
more per statement than SQLite's own work for the appliance's statements. A new database gets
schema/<dialect>.sql, which is rendered from tables.py (schema_sql.py) and checked by tests
against both tables.py and the migrations, and is stamped with HEAD as Alembic would.

Readers (worker threads) take connections from a small pool; the one writer (writer.py) holds
its own connection."""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HEAD = "0006"  # the newest migration in migrations/versions; a test keeps them equal
MIGRATIONS = Path(__file__).with_name("migrations")
SCHEMA = Path(__file__).with_name("schema")
POOL_SIZE = 16  # reader connections at most; the writer holds one more
SQLITE_PREFIX = "sqlite:///"
POSTGRES_PREFIXES = ("postgresql://", "postgres://", "postgresql+psycopg://")
# Any number: the key of the PostgreSQL advisory lock that lets one appliance at a time set up
# or upgrade the schema when several start together.
MIGRATION_LOCK = 0x66617862


class DatabaseUrlError(ValueError):
    pass


class MigrationError(RuntimeError):
    """The schema cannot be brought to HEAD; the message says why."""


class DatabaseReplaced(RuntimeError):
    """The SQLite file the appliance opened was deleted or replaced while it ran: what it
    would write now would go to a file no one will read again, or to another database."""


class NewDatabaseRefused(RuntimeError):
    """An empty database where data_dir's marker says one with jobs existed."""


SQLITE_FULL = 13  # sqlite3's extended error code for "database or disk is full"
POSTGRES_DISK_FULL = "53100"
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_full(exc: BaseException) -> bool:
    """Whether `exc` says the disk (or the quota) is full, from the file system, SQLite or
    PostgreSQL."""
    if isinstance(exc, OSError) and exc.errno in FULL_ERRNOS:
        return True
    if getattr(exc, "sqlite_errorcode", None) == SQLITE_FULL:
        return True
    return getattr(exc, "sqlstate", None) == POSTGRES_DISK_FULL


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot take a write now (locked by another program,
    read-only, an I/O error, the server gone) rather than that the write itself was wrong."""
    import sqlite3

    if isinstance(exc, sqlite3.OperationalError):
        return True
    try:
        import psycopg
    except ImportError:  # without the postgres extra, every database is SQLite
        return False
    return isinstance(exc, psycopg.OperationalError)


def masked_url(url: str) -> str:
    """`url` with its password (in the user part or a `password=` parameter) replaced by
    `***`. Never raises, whatever the URL's shape: it is for messages about bad URLs too."""
    scheme, separator, rest = url.partition("://")
    if separator and "@" in rest:
        userinfo, _, host = rest.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        if colon:
            rest = f"{user}:***@{host}"
    return re.sub(r"(?i)(password=)[^&#]*", r"\1***", f"{scheme}{separator}{rest}")


def _passwords(url: str) -> list[str]:
    """The password(s) `url` holds, as written and percent-decoded (a driver's message may
    quote either)."""
    found = []
    rest = url.partition("://")[2]
    if "@" in rest:
        _, colon, password = rest.rpartition("@")[0].partition(":")
        if colon and password:
            found.append(password)
    found += re.findall(r"(?i)password=([^&#]+)", url)
    return [p for raw in found for p in {raw, urllib.parse.unquote(raw)}]


def database_url(configured: str | None, data_dir: Path) -> str:
    """The configured URL, or SQLite in data_dir."""
    return configured or f"{SQLITE_PREFIX}{data_dir / 'faxbot.sqlite3'}"


Cursor = Any  # a DB-API 2.0 cursor of the driver (sqlite3, psycopg)
Connection = Any  # a DB-API 2.0 connection of the driver


def parameter_marker(paramstyle: str) -> Callable[[str], str]:
    """How the driver's SQL names a bound parameter: `:name` (sqlite3) or `%(name)s`
    (psycopg)."""
    if paramstyle in ("named", "qmark"):  # sqlite3 takes :name with a mapping either way
        return ":{}".format
    if paramstyle == "pyformat":
        return "%({})s".format
    raise ValueError(f"unsupported DB-API paramstyle {paramstyle!r}")


class Database:
    """One database: a URL, its driver, and the readers' connection pool."""

    def __init__(self, url: str, pool_size: int = POOL_SIZE) -> None:
        if url.startswith(SQLITE_PREFIX):
            self.dialect = "sqlite"
            self.paramstyle = "named"
            self._target = url[len(SQLITE_PREFIX) :]
            if self._target in ("", ":memory:"):
                raise DatabaseUrlError(
                    "an in-memory SQLite database keeps nothing across restarts: "
                    "name a file (sqlite:///PATH), or leave database_url unset"
                )
        elif url.startswith(POSTGRES_PREFIXES):
            try:  # an unclosed `[`, a port that is no number: the driver would quote the URL
                urllib.parse.urlsplit(url).port  # noqa: B018
            except ValueError as exc:  # the URL itself may hold a password: not shown
                raise DatabaseUrlError(
                    f"malformed PostgreSQL URL ({exc}); the URL is not shown, as it may hold "
                    "a password: check its host (an IPv6 address goes in [ ]) and port"
                ) from None
            self.dialect = "postgresql"
            self.paramstyle = "pyformat"
            self._target = "postgresql://" + url.split("://", 1)[1]
        else:  # the URL itself may hold a password: only its scheme is named
            found = re.match(r"([A-Za-z][A-Za-z0-9+.-]{0,30})://", url)
            scheme = f"scheme {found.group(1)!r}" if found else "(no scheme://)"
            raise DatabaseUrlError(
                f"unsupported database URL {scheme}: use sqlite:///PATH (a file) "
                "or postgresql://USER@HOST/DATABASE"
            )
        self._file: tuple[int, int] | None = None  # SQLite: (device, inode) as opened
        self._idle: queue.LifoQueue[Connection] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(pool_size)
        self._closed = threading.Event()

    @property
    def path(self) -> Path | None:
        """The SQLite database file; None for a server database."""
        return Path(self._target) if self.dialect == "sqlite" else None

    def remember_file(self) -> None:
        """Note which file the SQLite database is (after migrate created it), for
        check_file."""
        if self.dialect == "sqlite":
            found = os.stat(self._target)  # noqa: PTH116 (per write batch: no Path object)
            self._file = (found.st_dev, found.st_ino)

    def check_file(self) -> None:
        """Raise DatabaseReplaced when the SQLite file noted by remember_file was deleted or
        replaced since (a stat: cheap enough for every write batch); nothing for a server
        database."""
        if self._file is None:
            return
        try:
            found = os.stat(self._target)  # noqa: PTH116 (per write batch: no Path object)
        except FileNotFoundError:
            raise DatabaseReplaced(
                "the database file was deleted while the appliance ran"
            ) from None
        if (found.st_dev, found.st_ino) != self._file:
            raise DatabaseReplaced("the database file was replaced while the appliance ran")

    @property
    def driver_error(self) -> type[Exception]:
        """The driver's DB-API base exception (sqlite3.Error, psycopg.Error)."""
        if self.dialect == "sqlite":
            import sqlite3

            return sqlite3.Error
        import psycopg

        error: type[Exception] = psycopg.Error
        return error

    def describe_error(self, exc: BaseException) -> str:
        """The driver's message for `exc`, with the URL's password (if any) masked, and for a
        SQLite file that cannot be opened, what to check."""
        message = f"{type(exc).__name__}: {exc}".strip()
        message = message.replace(self._target, masked_url(self._target))
        for password in _passwords(self._target):
            message = message.replace(password, "***")
        if self.dialect == "sqlite" and "unable to open" in str(exc):
            message += "; check that the file's folder exists and the appliance can write to it"
        return message

    @property
    def sqlalchemy_url(self) -> str:
        """The same database as a SQLAlchemy URL, for Alembic."""
        if self.dialect == "sqlite":
            return f"{SQLITE_PREFIX}{self._target}"
        return "postgresql+psycopg://" + self._target.split("://", 1)[1]

    def connect(self, *, autocommit: bool) -> Connection:
        """A new connection. SQLite's is always in autocommit mode: the writer issues BEGIN
        itself (sqlite3's implicit transactions would begin at the first statement)."""
        if self.dialect == "sqlite":
            import sqlite3

            connection = sqlite3.connect(
                self._target, isolation_level=None, check_same_thread=False
            )
            # FULL makes every commit durable on disk before the API answers (a 202 promises
            # the job survives a power cut). WAL is set once, in migrate(): it is stored in the
            # database file.
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute("PRAGMA busy_timeout=5000")
            return connection
        import psycopg

        return psycopg.connect(self._target, autocommit=autocommit)

    def is_broken(self, connection: Connection) -> bool:
        """True when `connection` cannot be used again (PostgreSQL: the server closed it, as
        it does to every connection when it restarts)."""
        if self.dialect == "sqlite":
            return False
        return bool(connection.closed or connection.broken)

    @contextlib.contextmanager
    def reading(self) -> Iterator[Cursor]:
        """A cursor on a pooled reader connection (autocommit: each read sees the latest
        commit). Blocking: for worker threads. A connection that failed is not reused, and
        when the server dropped it, the idle ones are dropped too (they went the same way),
        so a database restart costs one failed read, not one per pooled connection."""
        if self._closed.is_set():
            raise RuntimeError("the database is closed")
        self._slots.acquire()
        try:
            connection = self._idle_connection() or self.connect(autocommit=True)
            try:
                cursor = connection.cursor()
                try:
                    yield cursor
                finally:
                    cursor.close()
            except BaseException:
                if self.is_broken(connection):
                    self._drop_idle()
                with contextlib.suppress(Exception):
                    connection.close()
                raise
            if self._closed.is_set():
                connection.close()
            else:
                self._idle.put(connection)
        finally:
            self._slots.release()

    def _idle_connection(self) -> Connection | None:
        while True:
            try:
                connection = self._idle.get_nowait()
            except queue.Empty:
                return None
            if not self.is_broken(connection):
                return connection
            with contextlib.suppress(Exception):
                connection.close()

    def _drop_idle(self) -> None:
        while True:
            try:
                connection = self._idle.get_nowait()
            except queue.Empty:
                return
            with contextlib.suppress(Exception):
                connection.close()

    def close(self) -> None:
        """Close the idle reader connections; ones in use close when they are given back."""
        self._closed.set()
        self._drop_idle()


def _tables(cursor: Cursor, dialect: str) -> set[str]:
    if dialect == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
    return {str(row[0]) for row in cursor.fetchall()}


def _revision(cursor: Cursor, tables: set[str]) -> str | None:
    if "alembic_version" not in tables:
        return None
    cursor.execute("SELECT version_num FROM alembic_version")
    row = cursor.fetchone()
    return str(row[0]) if row else None


def current_revision(database: Database) -> str | None:
    with database.reading() as cursor:
        return _revision(cursor, _tables(cursor, database.dialect))


def schema_statements(dialect: str) -> list[str]:
    """The statements that create the newest schema on an empty database of `dialect`."""
    lines = (SCHEMA / f"{dialect}.sql").read_text(encoding="utf-8").splitlines()
    text = "\n".join(line for line in lines if not line.startswith("--"))
    return [statement.strip() for statement in text.split(";") if statement.strip()]


def migrate(database: Database, *, may_create: bool = True) -> None:
    """Bring the schema to HEAD: an empty database gets schema/<dialect>.sql and the stamp, in
    one transaction; an older one is upgraded by Alembic (imported only then). With
    `may_create` False an empty database is refused (NewDatabaseRefused), and left empty."""
    if database.path is not None and not database.path.exists():
        # Not even opened: SQLite would create the file and replay a WAL left beside it
        # (its deleted database's pages) into the new one.
        if not may_create:
            raise NewDatabaseRefused("the database file is missing")
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{database.path}{suffix}").unlink(missing_ok=True)
    connection = database.connect(autocommit=database.dialect == "sqlite")
    try:
        cursor = connection.cursor()
        if database.dialect == "sqlite":
            # Readers run beside the one writer; persistent in the database file.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("BEGIN IMMEDIATE")  # other appliances wait until this is done
        else:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        tables = _tables(cursor, database.dialect)
        revision = _revision(cursor, tables)
        if revision is None and "jobs" in tables:
            raise MigrationError(
                "the database has a jobs table but no alembic_version stamp, so it was not set "
                "up by Faxbot; give the appliance an empty database (or its own schema)"
            )
        if revision is None and not tables:
            if not may_create:
                raise NewDatabaseRefused("the database is empty")
            for statement in schema_statements(database.dialect):
                cursor.execute(statement)
            marker = parameter_marker(database.paramstyle)("v")
            cursor.execute(
                f"INSERT INTO alembic_version (version_num) VALUES ({marker})",  # noqa: S608
                {"v": HEAD},
            )
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.close()
    if revision != HEAD and (revision is not None or tables):
        upgrade(database.sqlalchemy_url)


def upgrade(url: str, target: str = "head") -> None:
    """Run the Alembic migrations up to `target` on the SQLAlchemy `url`; MigrationError with
    the reason in one line when that fails."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":  # one appliance at a time; Alembic then
                # reads the revision again and does nothing if another one got there first
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            config.attributes["connection"] = connection
            command.upgrade(config, target)
    except Exception as exc:  # SQLAlchemy's and Alembic's errors
        raise MigrationError(
            f"upgrading the schema to {target} failed: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        engine.dispose()
