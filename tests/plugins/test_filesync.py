"""One syncfs thread per file system, shared by its users, answering batches of flushes."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from faxbot.plugins.filesync import FileSystemSync, open_sync


def counting(sync: FileSystemSync, calls: list[int]) -> Callable[[int], None]:
    """Wrap the real syncfs so that each pass is recorded; returns the original."""
    original = sync._syncfs

    def wrapped(fd: int) -> None:
        calls.append(fd)
        original(fd)

    sync._syncfs = wrapped
    return original


def test_flush_returns_after_a_syncfs(tmp_path: Path) -> None:
    sync = open_sync(tmp_path)
    calls: list[int] = []
    original = counting(sync, calls)

    async def scenario() -> None:
        (tmp_path / "a.txt").write_bytes(b"data")
        await asyncio.wait_for(sync.flush(), 10)

    try:
        asyncio.run(scenario())
        assert len(calls) == 1
    finally:
        sync._syncfs = original
        sync.close()


def test_users_of_one_file_system_share_it_until_the_last_close(tmp_path: Path) -> None:
    first_dir, second_dir = tmp_path / "one", tmp_path / "two"
    first_dir.mkdir()
    second_dir.mkdir()
    first = open_sync(first_dir)
    second = open_sync(second_dir)
    try:
        assert second is first
        first.close()

        async def flush() -> None:
            await asyncio.wait_for(second.flush(), 10)

        asyncio.run(flush())  # still working for the remaining user
    finally:
        second.close()

    async def after_close() -> None:
        with pytest.raises(RuntimeError):
            await asyncio.wait_for(second.flush(), 10)

    asyncio.run(after_close())
    again = open_sync(first_dir)  # a fresh flusher, not the closed one
    try:
        assert again is not first
        asyncio.run(asyncio.wait_for(again.flush(), 10))
    finally:
        again.close()


def test_many_concurrent_flushes_complete_in_few_passes(tmp_path: Path) -> None:
    sync = open_sync(tmp_path)
    calls: list[int] = []
    original = counting(sync, calls)

    async def scenario() -> None:
        await asyncio.wait_for(asyncio.gather(*(sync.flush() for _ in range(100))), 30)

    try:
        asyncio.run(scenario())
        assert 1 <= len(calls) < 100
    finally:
        sync._syncfs = original
        sync.close()


def test_a_flush_asked_during_a_pass_waits_for_the_next_pass(tmp_path: Path) -> None:
    """A pass that began before a flush was asked for may have missed its writes."""
    sync = open_sync(tmp_path)
    original = sync._syncfs
    in_pass = threading.Event()
    release = threading.Event()
    passes: list[int] = []

    def slow(fd: int) -> None:
        passes.append(fd)
        in_pass.set()
        release.wait(10)
        original(fd)

    sync._syncfs = slow

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        first = asyncio.create_task(sync.flush())
        deadline = loop.time() + 10
        while not in_pass.is_set():
            assert loop.time() < deadline, "the first pass never started"
            await asyncio.sleep(0.001)
        second = asyncio.create_task(sync.flush())
        await asyncio.sleep(0)  # queued while the first pass runs
        release.set()
        await asyncio.wait_for(first, 10)
        await asyncio.wait_for(second, 10)
        assert len(passes) == 2

    try:
        asyncio.run(scenario())
    finally:
        release.set()
        sync._syncfs = original
        sync.close()


def test_a_syncfs_error_fails_every_waiter_of_that_pass(tmp_path: Path) -> None:
    sync = open_sync(tmp_path)
    original = sync._syncfs

    def broken(_fd: int) -> None:
        raise OSError(5, "boom")

    async def scenario() -> None:
        sync._syncfs = broken
        try:
            outcomes = await asyncio.wait_for(
                asyncio.gather(*(sync.flush() for _ in range(10)), return_exceptions=True), 10
            )
        finally:
            sync._syncfs = original
        assert len(outcomes) == 10
        for outcome in outcomes:
            assert isinstance(outcome, OSError), outcome
            assert outcome.errno == 5
        await asyncio.wait_for(sync.flush(), 10)  # restored: works again

    try:
        asyncio.run(scenario())
    finally:
        sync._syncfs = original
        sync.close()


def test_writes_run_in_the_flushers_thread_in_order_before_its_syncfs(tmp_path: Path) -> None:
    sync = open_sync(tmp_path)
    events: list[str] = []
    original = sync._syncfs

    def recording_syncfs(fd: int) -> None:
        events.append("syncfs")
        original(fd)

    sync._syncfs = recording_syncfs
    loop_thread = threading.get_ident()

    def write(name: str) -> Callable[[], int]:
        def run() -> int:
            assert threading.get_ident() != loop_thread
            events.append(name)
            return (tmp_path / name).write_bytes(name.encode())

        return run

    def broken() -> int:
        events.append("broken")
        raise PermissionError(13, "Permission denied")

    async def scenario() -> list[int | BaseException]:
        return await asyncio.wait_for(
            asyncio.gather(
                sync.write_and_flush(write("one")),
                sync.write_and_flush(broken),
                sync.write_and_flush(write("three")),
                return_exceptions=True,
            ),
            10,
        )

    try:
        results = asyncio.run(scenario())
    finally:
        sync._syncfs = original
        sync.close()
    assert results[0] == 3 and results[2] == 5
    assert isinstance(results[1], PermissionError)  # only that caller hears its failure
    # in order, and every write is followed by a sync before its caller hears back
    assert [e for e in events if e != "syncfs"] == ["one", "broken", "three"]
    assert events[-1] == "syncfs"
    assert (tmp_path / "one").read_bytes() == b"one"
    assert (tmp_path / "three").read_bytes() == b"three"
