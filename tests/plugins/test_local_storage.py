"""Local storage and its file worker: documents stored byte for byte, durable and named by
key, leftovers of a crash removed, a dead worker replaced."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from faxbot.plugins.contract import Deps, StoredDocument
from faxbot_plugin_local import SMALL_BYTES, LocalStorage, StorageKeyError

SETTINGS = {"directory": "documents", "fsync": True}
PROC_FDS = Path("/proc/self/fd")


def deps(tmp_path: Path) -> Deps:
    return Deps(data_dir=tmp_path, logger=logging.getLogger("test"))


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def open_fds() -> int:
    return sum(1 for _ in PROC_FDS.iterdir())


@pytest.fixture
def fds_are_closed() -> Iterator[None]:
    """Every file descriptor the test opened is closed by its end (Linux)."""
    if not PROC_FDS.is_dir():
        pytest.skip("needs /proc/self/fd")
    before = open_fds()
    yield
    assert open_fds() == before


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid)


def _state(pid: int) -> str:
    try:
        return (Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0]).lower()
    except (FileNotFoundError, ProcessLookupError, IndexError):  # reaped meanwhile
        return "gone"


def test_start_removes_what_a_crash_left(tmp_path: Path) -> None:
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / ".job.pdf.part").write_bytes(b"%PDF-1.7 half")
    (documents / "old.pdf").write_bytes(b"%PDF-1.7 whole")
    storage = LocalStorage()

    async def scenario() -> None:
        await storage.start(SETTINGS, deps(tmp_path))
        try:
            assert not (documents / ".job.pdf.part").exists()
            assert await StoredDocument(storage, "old.pdf").read() == b"%PDF-1.7 whole"
        finally:
            await storage.stop()

    asyncio.run(asyncio.wait_for(scenario(), 30))
    assert list(documents.iterdir()) == [documents / "old.pdf"]


def test_small_and_large_documents_are_stored_byte_for_byte(
    tmp_path: Path, fds_are_closed: None
) -> None:
    small = b"%PDF-1.7 small " + os.urandom(1500)
    parts = [os.urandom(300 * 1024) for _ in range(5)]
    large = b"".join(parts)
    assert len(large) > SMALL_BYTES
    storage = LocalStorage()
    documents = tmp_path / "documents"

    async def scenario() -> None:
        await storage.start(SETTINGS, deps(tmp_path))
        try:
            assert await storage.put("small.pdf", _chunks(small[:10], small[10:])) == len(small)
            assert await storage.put("large.pdf", _chunks(*parts)) == len(large)
            assert await StoredDocument(storage, "small.pdf").read() == small
            assert await StoredDocument(storage, "large.pdf").read() == large
            assert list(documents.glob(".*")) == []
            with pytest.raises(StorageKeyError):
                await storage.put(".hidden", _chunks(b"x"))
        finally:
            await storage.stop()

    asyncio.run(asyncio.wait_for(scenario(), 30))
    assert sorted(documents.iterdir()) == [documents / "large.pdf", documents / "small.pdf"]


def test_many_documents_at_once_are_all_stored_and_the_worker_exits_at_stop(
    tmp_path: Path, fds_are_closed: None
) -> None:
    bodies = {f"job-{i}.pdf": f"%PDF-1.7 document {i}".encode() for i in range(300)}
    storage = LocalStorage()
    documents = tmp_path / "documents"
    pids: list[int] = []

    async def scenario() -> None:
        await storage.start(SETTINGS, deps(tmp_path))
        try:
            sizes = await asyncio.gather(
                *(storage.put(key, _chunks(body)) for key, body in bodies.items())
            )
            assert storage.worker_pid is not None
            pids.append(storage.worker_pid)
            assert sizes == [len(body) for body in bodies.values()]
            for key, body in bodies.items():
                assert await StoredDocument(storage, key).read() == body
        finally:
            await storage.stop()

    asyncio.run(asyncio.wait_for(scenario(), 30))
    assert {path.name for path in documents.iterdir()} == set(bodies)
    assert not alive(pids[0])


def test_a_dead_worker_fails_its_request_and_is_replaced(tmp_path: Path) -> None:
    storage = LocalStorage()

    async def scenario() -> None:
        await storage.start(SETTINGS, deps(tmp_path))
        try:
            assert await storage.put("a.pdf", _chunks(b"%PDF-1.7 a")) == 10
            first = storage.worker_pid
            assert first is not None
            os.kill(first, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while alive(first):
                assert time.monotonic() < deadline
                await asyncio.sleep(0.01)
            # the next put may meet the dead worker's pipe or a new worker: either it fails
            # with an OSError naming the worker, or it is stored; never silently lost
            try:
                await storage.put("b.pdf", _chunks(b"%PDF-1.7 b"))
            except OSError as exc:
                assert "file worker exited" in str(exc)
            assert await storage.put("c.pdf", _chunks(b"%PDF-1.7 c")) == 10
            assert storage.worker_pid not in (None, first)
            assert await StoredDocument(storage, "c.pdf").read() == b"%PDF-1.7 c"
        finally:
            await storage.stop()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_list_documents_names_documents_stored_before_a_time(tmp_path: Path) -> None:
    """What the orphan sweep reads: documents only (no temporary `.part` file), by the time
    they were written."""
    storage = LocalStorage()

    async def scenario() -> list[str]:
        await storage.start(SETTINGS, deps(tmp_path))
        try:
            for key in ("old.pdf", "new.pdf"):
                await storage.put(key, _chunks(b"%PDF-1.7"))
            folder = tmp_path / "documents"
            os.utime(folder / "old.pdf", (time.time() - 7200, time.time() - 7200))
            (folder / ".abc.part").write_bytes(b"partial")
            os.utime(folder / ".abc.part", (time.time() - 7200, time.time() - 7200))
            return [key async for key in await storage.list_documents(time.time() - 3600)]
        finally:
            await storage.stop()

    assert asyncio.run(scenario()) == ["old.pdf"]


def test_a_wrong_list_documents_is_a_contract_problem() -> None:
    """Optional, and checked like a capability when present."""
    from faxbot.plugins.conformance import contract_problems

    class Listing(LocalStorage):
        def list_documents(self, since: float) -> Iterator[str]:  # type: ignore[override]
            return iter(())

    problems = contract_problems(Listing, LocalStorage.manifest)
    assert len(problems) == 1 and "list_documents" in problems[0], problems
    assert "must be `async def`" in problems[0] and "'since', not 'stored_before'" in problems[0]
    assert contract_problems(LocalStorage, LocalStorage.manifest) == []
