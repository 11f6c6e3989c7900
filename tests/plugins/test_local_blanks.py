"""Blank files made ahead of need, and the local storage plugin that writes into them."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from faxbot.plugins.contract import Deps
from faxbot_plugin_local import SMALL_BYTES, LocalStorage
from faxbot_plugin_local.blanks import PREFIX, Blanks

SETTINGS = {"directory": "documents", "fsync": True}
PROC_FDS = Path("/proc/self/fd")


def deps(tmp_path: Path) -> Deps:
    return Deps(data_dir=tmp_path, logger=logging.getLogger("test"))


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def blank_files(folder: Path) -> set[Path]:
    return set(folder.glob(f"{PREFIX}*"))


def open_fds() -> int:
    return sum(1 for _ in PROC_FDS.iterdir())


def take_within(blanks: Blanks, seconds: float = 10.0) -> tuple[int, Path]:
    deadline = time.monotonic() + seconds
    while True:
        blank = blanks.take()
        if blank is not None:
            return blank
        assert time.monotonic() < deadline, "no blank was made in time"
        time.sleep(0.001)


def wait_for_stock(folder: Path, count: int, seconds: float = 10.0) -> None:
    """start() does not wait for the first stock: the helper thread makes it."""
    deadline = time.monotonic() + seconds
    while len(blank_files(folder)) < count:
        assert time.monotonic() < deadline, "the first stock was not made in time"
        time.sleep(0.001)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "blanks"
    path.mkdir()
    return path


@pytest.fixture
def fds_are_closed() -> Iterator[None]:
    """Every file descriptor the test opened is closed by its end (Linux)."""
    if not PROC_FDS.is_dir():
        pytest.skip("needs /proc/self/fd")
    before = open_fds()
    yield
    assert open_fds() == before


def test_start_removes_leftovers_and_makes_the_stock(folder: Path, fds_are_closed: None) -> None:
    (folder / f"{PREFIX}x").write_bytes(b"left by a crash")
    (folder / "keep.pdf").write_bytes(b"%PDF")
    blanks = Blanks(folder, stock=8)
    blanks.start()
    try:
        assert not (folder / f"{PREFIX}x").exists()
        assert (folder / "keep.pdf").read_bytes() == b"%PDF"
        wait_for_stock(folder, 8)
        assert len(blank_files(folder)) == 8
        fd, path = take_within(blanks)
        try:
            assert path.parent == folder
            assert path.name.startswith(PREFIX)
            assert path.stat().st_size == 0
            assert os.write(fd, b"written") == 7
        finally:
            os.close(fd)
        assert path.read_bytes() == b"written"
        path.unlink()
    finally:
        blanks.stop()


def test_taking_more_than_the_stock_is_refilled(folder: Path, fds_are_closed: None) -> None:
    blanks = Blanks(folder, stock=8)
    blanks.start()
    taken: list[tuple[int, Path]] = []
    try:
        for _ in range(3 * 8):
            taken.append(take_within(blanks))
        assert len({path for _, path in taken}) == 3 * 8
        assert len({fd for fd, _ in taken}) == 3 * 8
        assert all(path.exists() for _, path in taken)
        # the stock is made again once below half
        deadline = time.monotonic() + 10
        while len(blank_files(folder)) - len(taken) < 8 // 2:
            assert time.monotonic() < deadline, "the stock was not refilled"
            time.sleep(0.001)
    finally:
        for fd, path in taken:
            os.close(fd)
            path.unlink()
        blanks.stop()
    assert blank_files(folder) == set()


def test_take_returns_none_when_out_and_recovers_after_a_failed_refill(
    tmp_path: Path, folder: Path, fds_are_closed: None
) -> None:
    blanks = Blanks(folder, stock=4)
    blanks.start()
    wait_for_stock(folder, 4)
    away = tmp_path / "away"
    taken: list[tuple[int, Path]] = []
    try:
        folder.rename(away)  # the refills fail now, as on a full disk
        for _ in range(4):  # made before the rename (their files are there), maybe not yet
            taken.append(take_within(blanks))  # handed to the stock: poll
        assert blanks.take() is None
        away.rename(folder)
        taken.append(take_within(blanks))
    finally:
        if away.exists():
            away.rename(folder)
        for fd, path in taken:
            os.close(fd)
            path.unlink()
        blanks.stop()
    assert list(folder.iterdir()) == []


def test_stop_closes_and_deletes_every_remaining_blank(folder: Path, fds_are_closed: None) -> None:
    (folder / "stored.pdf").write_bytes(b"%PDF")
    blanks = Blanks(folder, stock=16)
    blanks.start()
    fd, path = take_within(blanks)
    os.close(fd)
    path.unlink()
    blanks.stop()
    assert list(folder.iterdir()) == [folder / "stored.pdf"]


def test_local_storage_start_removes_what_a_crash_left(tmp_path: Path) -> None:
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / f"{PREFIX}x").write_bytes(b"")
    (documents / ".job.pdf.part").write_bytes(b"%PDF-1.7 half")
    (documents / "old.pdf").write_bytes(b"%PDF-1.7 whole")
    storage = LocalStorage()

    async def scenario() -> None:
        await storage.start(SETTINGS, deps(tmp_path))
        try:
            assert not (documents / f"{PREFIX}x").exists()
            assert not (documents / ".job.pdf.part").exists()
            assert (await storage.get("old.pdf")).read_bytes() == b"%PDF-1.7 whole"
            wait_for_stock(documents, 1)  # a fresh stock
        finally:
            await storage.stop()

    asyncio.run(asyncio.wait_for(scenario(), 30))
    assert list(documents.iterdir()) == [documents / "old.pdf"]


def test_local_storage_stores_small_and_large_documents_byte_for_byte(
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
            assert (await storage.get("small.pdf")).read_bytes() == small
            assert (await storage.get("large.pdf")).read_bytes() == large
            assert list(documents.glob(".*.part")) == []
        finally:
            await storage.stop()

    asyncio.run(asyncio.wait_for(scenario(), 30))
    assert sorted(documents.iterdir()) == [documents / "large.pdf", documents / "small.pdf"]


def test_local_storage_stores_more_documents_than_blanks_and_stop_removes_the_rest(
    tmp_path: Path, fds_are_closed: None
) -> None:
    bodies = {f"job-{i}.pdf": f"%PDF-1.7 document {i}".encode() for i in range(300)}
    storage = LocalStorage()
    documents = tmp_path / "documents"

    async def scenario() -> None:
        await storage.start(SETTINGS, deps(tmp_path))
        try:
            sizes = await asyncio.gather(
                *(storage.put(key, _chunks(body)) for key, body in bodies.items())
            )
            assert sizes == [len(body) for body in bodies.values()]
            for key, body in bodies.items():
                assert (await storage.get(key)).read_bytes() == body
        finally:
            await storage.stop()

    asyncio.run(asyncio.wait_for(scenario(), 30))
    assert {path.name for path in documents.iterdir()} == set(bodies)


def test_a_failed_refill_leaks_no_descriptor_and_no_file(
    folder: Path, fds_are_closed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import faxbot_plugin_local.blanks as blanks_module

    real_open = os.open
    calls = [0]

    def open_then_fail(path: str | os.PathLike[str], flags: int, mode: int = 0o777) -> int:
        calls[0] += 1
        if calls[0] > 3:
            raise OSError(24, "Too many open files")
        return real_open(path, flags, mode)

    monkeypatch.setattr(blanks_module.os, "open", open_then_fail)
    blanks = Blanks(folder, stock=8)
    with pytest.raises(OSError, match="Too many open files"):
        blanks._make(8)
    assert calls[0] == 4
    assert blank_files(folder) == set()  # the three made before the failure are gone


def test_stop_after_a_failed_start_does_not_raise(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(self: Path, pattern: str) -> list[Path]:
        raise PermissionError(13, "Permission denied", str(self))

    blanks = Blanks(folder, stock=4)
    with monkeypatch.context() as patch:
        patch.setattr(Path, "glob", unreadable)
        with pytest.raises(PermissionError):
            blanks.start()
    blanks.stop()  # LocalStorage.stop() calls it after a failed start
    assert blank_files(folder) == set()
