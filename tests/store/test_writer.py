"""The database writer: group commit on a real SQLite file, failures per batch, close and
cancellation."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from faxbot.store import writer as writer_module
from faxbot.store.database import Cursor, Database, migrate
from faxbot.store.writer import Writer


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    migrate(database)
    with database.reading() as cursor:
        cursor.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)")
    yield database
    database.close()


def rows(database: Database) -> dict[str, int]:
    """What a separate connection sees: only committed rows."""
    with database.reading() as cursor:
        cursor.execute("SELECT k, v FROM t")
        return {str(k): int(v) for k, v in cursor.fetchall()}


def insert(key: str, value: int) -> Callable[[Cursor], int]:
    def operation(cursor: Cursor) -> int:
        cursor.execute("INSERT INTO t (k, v) VALUES (:k, :v)", {"k": key, "v": value})
        return value * 10

    return operation


@pytest.fixture
def commits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per COMMIT the writer makes."""
    counted: list[int] = []
    commit = writer_module._commit

    def counting(connection: Any) -> None:
        counted.append(1)
        commit(connection)

    monkeypatch.setattr(writer_module, "_commit", counting)
    return counted


def test_concurrent_writes_are_committed_together_and_return_their_values(
    database: Database, commits: list[int]
) -> None:
    async def scenario() -> list[int]:
        writer = Writer(database)
        writer.open()
        try:
            return await asyncio.wait_for(
                asyncio.gather(*(writer.write(insert(f"k{i}", i)) for i in range(50))),
                10,
            )
        finally:
            await asyncio.wait_for(writer.close(), 10)

    values = asyncio.run(scenario())
    assert values == [i * 10 for i in range(50)]
    assert rows(database) == {f"k{i}": i for i in range(50)}
    assert 1 <= len(commits) < 50  # group commit: fewer commits than writes


def test_a_failing_operation_fails_its_whole_batch_and_nothing_of_it_is_written(
    database: Database,
) -> None:
    boom = ValueError("boom")

    def failing(cursor: Cursor) -> int:
        cursor.execute("INSERT INTO t (k, v) VALUES ('bad', 0)")
        raise boom

    async def scenario() -> None:
        writer = Writer(database)
        writer.open()
        try:
            outcomes = await asyncio.wait_for(
                asyncio.gather(
                    writer.write(insert("a", 1)),
                    writer.write(failing),
                    writer.write(insert("b", 2)),
                    return_exceptions=True,
                ),
                10,
            )
            assert all(outcome is boom for outcome in outcomes), outcomes
            assert rows(database) == {}
            assert await asyncio.wait_for(writer.write(insert("c", 3)), 10) == 30
            assert rows(database) == {"c": 3}
        finally:
            await asyncio.wait_for(writer.close(), 10)

    asyncio.run(scenario())


def test_write_after_close_raises(database: Database) -> None:
    ran: list[str] = []

    def operation(_cursor: Cursor) -> None:
        ran.append("ran")

    async def scenario() -> None:
        writer = Writer(database)
        writer.open()
        assert await asyncio.wait_for(writer.write(insert("a", 1)), 10) == 10
        await asyncio.wait_for(writer.close(), 10)
        with pytest.raises(RuntimeError, match="closed"):
            await writer.write(operation)

    asyncio.run(scenario())
    assert ran == []
    assert rows(database) == {"a": 1}


def test_a_write_cancelled_before_its_batch_starts_is_not_run(database: Database) -> None:
    ran: list[str] = []

    def recorded(key: str) -> Callable[[Cursor], int]:
        inner = insert(key, 1)

        def operation(cursor: Cursor) -> int:
            ran.append(key)
            return inner(cursor)

        return operation

    async def scenario() -> None:
        writer = Writer(database)
        writer.open()
        entered: list[str] = []

        async def call(key: str) -> int:
            entered.append(key)
            return await writer.write(recorded(key))

        try:
            # Cancelled before it ever ran: write() is never entered.
            never = asyncio.create_task(call("never"))
            never.cancel()
            # Queued (write() entered, the batch scheduled), then cancelled before the batch.
            kept = asyncio.create_task(call("kept"))
            dropped = asyncio.create_task(call("dropped"))
            await asyncio.sleep(0)
            assert entered == ["kept", "dropped"]
            assert ran == []
            dropped.cancel()
            assert await asyncio.wait_for(kept, 10) == 10
            for task in (never, dropped):
                with pytest.raises(asyncio.CancelledError):
                    await task
            assert await asyncio.wait_for(writer.write(recorded("later")), 10) == 10
        finally:
            await asyncio.wait_for(writer.close(), 10)

    asyncio.run(scenario())
    assert ran == ["kept", "later"]
    assert rows(database) == {"kept": 1, "later": 1}


def test_close_fails_the_writes_queued_behind_the_batch_under_way(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    committing = threading.Event()
    release = threading.Event()

    commit = writer_module._commit

    def hold_commit(connection: Any) -> None:  # runs in the writer's thread
        if not committing.is_set():
            committing.set()
            release.wait(10)
        commit(connection)

    monkeypatch.setattr(writer_module, "_commit", hold_commit)

    async def scenario() -> None:
        writer = Writer(database)
        writer.open()
        first = asyncio.create_task(writer.write(insert("first", 1)))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while not committing.is_set():  # the first batch is committing in the thread
            assert loop.time() < deadline, "the first batch never reached COMMIT"
            await asyncio.sleep(0.001)
        queued = asyncio.create_task(writer.write(insert("queued", 2)))
        await asyncio.sleep(0)  # queued behind the batch under way
        closing = asyncio.create_task(writer.close())
        await asyncio.sleep(0)
        release.set()
        assert await asyncio.wait_for(first, 10) == 10
        await asyncio.wait_for(closing, 10)
        # "fail the writes still queued": the queued write must not hang forever
        with pytest.raises(RuntimeError, match="closed"):
            await asyncio.wait_for(queued, 2)

    try:
        asyncio.run(scenario())
    finally:
        release.set()
