"""Everything `faxbot serve` creates under data_dir is its own: files 0600 and folders 0700
whatever the umask it was started with (documents over 1 MiB, spill files in incoming/, the
SQLite database and its WAL were 0644 under umask 022: patient documents readable by any
local user)."""

from __future__ import annotations

import os
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.conftest import Appliance, build, one_page_pdf

pytestmark = pytest.mark.slow
BOUNDARY = "faxbotmodes"


@pytest.fixture
def umask_022() -> Iterator[None]:
    """`faxbot serve` inherits the test's umask: the common default, which lets others read."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def large_pdf() -> bytes:
    """A valid PDF over 1 MiB (a comment after its end): the storage's spill-and-move path."""
    return one_page_pdf() + b"\n%" + b"x" * (2 * 1024 * 1024) + b"\n"


def spill_mode_mid_upload(appliance: Appliance) -> int:
    """The mode of the spill file an upload in progress has in incoming/: the request is sent
    up to the middle of its document over a raw socket, and left hanging there."""
    document = large_pdf()
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="to"\r\n\r\n+12025550143\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    length = len(head) + len(document) + len(tail)
    request = (
        f"POST /fax HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {appliance.tokens['admin']}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()
    incoming = appliance.data_dir / "incoming"
    with socket.create_connection(("127.0.0.1", appliance.port), timeout=30) as sock:
        sock.sendall(request + head + document[: len(document) * 3 // 4])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            spilled = list(incoming.iterdir())
            if spilled:
                return stat.S_IMODE(spilled[0].stat().st_mode)
            time.sleep(0.05)
    raise AssertionError("no spill file appeared in incoming/")


def modes_under(root: Path) -> dict[str, int]:
    """The mode of `root` and of everything under it (what vanished meanwhile skipped)."""
    found: dict[str, int] = {}
    for path in [root, *root.rglob("*")]:
        try:
            found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
        except FileNotFoundError:
            continue
    return found


def test_everything_under_data_dir_is_private_under_umask_022(
    tmp_path: Path, umask_022: None
) -> None:
    appliance = build(tmp_path, extra="appliance:\n  audit_log: true\n")
    appliance.start()
    try:
        with appliance.client() as client:
            for body in (one_page_pdf(), large_pdf()):
                answer = client.post(
                    "/fax", data={"to": "+12025550143"}, files={"file": ("a.pdf", body)}
                )
                assert answer.status_code == 202, answer.text
            assert spill_mode_mid_upload(appliance) == 0o600
            made = {p.name for p in appliance.data_dir.rglob("*")}
            # while it runs: the database's WAL and shared memory, the lock, the audit log
            for name in ("faxbot.sqlite3-wal", "faxbot.sqlite3-shm", "faxbot.lock"):
                assert name in made, sorted(made)
            assert "audit.jsonl" in made
            modes = modes_under(appliance.data_dir)
            documents = list((appliance.data_dir / "documents").iterdir())
            sizes = sorted(p.stat().st_size for p in documents)
            assert len(documents) == 2 and sizes[-1] > 1024 * 1024 > sizes[0]
    finally:
        appliance.stop()
    wrong = {
        name: oct(mode)
        for name, mode in modes.items()
        if mode != (0o700 if (appliance.data_dir / name).is_dir() else 0o600)
    }
    assert not wrong, wrong


@pytest.mark.usefixtures("umask_022")
def test_an_appliance_in_a_host_process_gives_the_umask_back(tmp_path: Path) -> None:
    """The appliance sets a private umask while it runs; a process that hosts it (a test
    runner, an embedding program) has its own back once it stops."""
    from faxbot.artifact import artifact_bytes, write_atomic
    from faxbot.config.compiler import compile_config
    from faxbot.plugins.discovery import PluginSource
    from faxbot.server.app import create_app
    from litestar.testing import TestClient

    from tests.conftest import REPO

    result = compile_config(REPO / "config.d", PluginSource())
    assert result.artifact is not None
    artifact = tmp_path / "faxbot.resolved.json"
    write_atomic(artifact, artifact_bytes(result.artifact))
    app = create_app(artifact, env={}, source=PluginSource(), workdir=tmp_path, log_level="error")
    with TestClient(app) as client:
        assert client.get("/health/ready").status_code == 200
        assert current_umask() == 0o077
    assert current_umask() == 0o022


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
