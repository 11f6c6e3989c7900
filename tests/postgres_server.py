"""A real PostgreSQL server on loopback for the portability tests (a pytest plugin, loaded by
tests/conftest.py): a throwaway cluster made with initdb, started once per test session when a
test asks for it, and removed after. `scripts/setup --tests` installs Debian's postgresql
package; as root, the server runs as the `postgres` user (it refuses to run as root)."""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from faxbot.store.database import Database
from sqlalchemy import create_engine, text

from tests.server.conftest import free_port

POSTGRES_ROOT = Path("/usr/lib/postgresql")
USER = "faxbot"


def _bin_dir() -> Path:
    found = sorted(POSTGRES_ROOT.glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        pytest.fail(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): "
            "run scripts/setup --tests, which installs Debian's postgresql package"
        )
    return found[-1].parent


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The server's base URL (SQLAlchemy, psycopg), user `faxbot`, trust auth on loopback."""
    with running_postgres() as url:
        yield url


@contextlib.contextmanager
def running_postgres() -> Iterator[str]:
    """A throwaway cluster, started here and removed at the end; its base URL. The fixture's
    body, also used by the benches in bench/ (outside pytest)."""
    bin_dir = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="faxbot-pg-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(root, account.pw_uid, account.pw_gid)
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data = root / "data"
    subprocess.run(
        [*as_postgres, str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "-A", "trust",
         "-E", "UTF8", "--no-sync"],
        check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    log = (root / "server.log").open("wb")
    server = subprocess.Popen(
        [*as_postgres, str(bin_dir / "postgres"), "-D", str(data), "-p", str(port),
         "-k", str(root), "-c", "listen_addresses=127.0.0.1"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"postgresql+psycopg://{USER}@127.0.0.1:{port}"
    probe = create_engine(f"{url}/postgres")
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                with probe.connect() as connection:
                    connection.execute(text("SELECT 1"))
                break
            except Exception:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RuntimeError(
                        "PostgreSQL did not start: " + (root / "server.log").read_text()[-2000:]
                    ) from None
                time.sleep(0.1)
        yield url
    finally:
        probe.dispose()
        server.terminate()
        server.wait(30)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def new_database(postgres_server: str) -> Iterator[str]:
    """A new, empty database on the server, dropped at the end; its URL."""
    name = f"t_{secrets.token_hex(8)}"
    admin = create_engine(f"{postgres_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{postgres_server}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A new, empty database on the server for one test; dropped after it."""
    with new_database(postgres_server) as url:
        yield url


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[Database]:
    """The appliance's own Database (store/database.py) on a fresh database."""
    database = Database(postgres_url)
    try:
        yield database
    finally:
        database.close()
