"""The job store's reads on a real SQLite file: what the dispatcher's sweep asks for."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from faxbot.plugins.contract import FaxStatus
from faxbot.store.database import Database, migrate
from faxbot.store.jobs import BY_IDS_CHUNK, JobStore, Phase
from faxbot.store.writer import Writer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    migrate(database)
    yield database
    database.close()


def test_due_ids_and_get_many(database: Database) -> None:
    clock = Clock()

    async def scenario() -> JobStore:
        writer = Writer(database)
        writer.open()
        store = JobStore(database, writer, clock=clock)
        for n in range(4):
            clock.now = 1000.0 + n  # created, and due, at 1000, 1001, 1002, 1003
            await store.create(
                job_id=f"job{n}", to="+12025550143", pages=1, backend="test",
                document_key=f"job{n}.pdf", api_key_id="k", idempotency_key=None,
                request_hash="h",
            )  # fmt: skip
        first = store.get("job0")
        assert first is not None
        await store.finish(first, Phase.QUEUED, FaxStatus.SUCCESS, None)  # done: never due
        await writer.close()
        return store

    store = asyncio.run(scenario())
    assert store.due_ids(1002.5, 100) == ["job1", "job2"]  # oldest due first, done ones left out
    assert store.due_ids(1e9, 2) == ["job1", "job2"]
    assert [j.id for j in store.due(1e9, 100)] == ["job1", "job2", "job3"]
    # more ids than one SELECT takes, most of them unknown: the known ones, each once
    asked = [f"nope{n}" for n in range(BY_IDS_CHUNK * 2)] + ["job3", "job1", "job0"]
    assert sorted(j.id for j in store.get_many(asked)) == ["job0", "job1", "job3"]
    assert store.get_many([]) == []


def test_a_transition_returns_the_job_as_stored(database: Database) -> None:
    async def scenario() -> None:
        writer = Writer(database)
        writer.open()
        store = JobStore(database, writer, clock=Clock())
        job, _ = await store.create(
            job_id="job", to="+12025550143", pages=1, backend="test", document_key="job.pdf",
            api_key_id="k", idempotency_key=None, request_hash="h",
        )  # fmt: skip
        taken = await store.start_hand_over(job, lease_until=2000.0)
        assert taken is not None
        assert taken == store.get("job")  # every field, as read back
        assert (taken.phase, taken.status, taken.attempts) == (
            Phase.HANDING_OVER,
            FaxStatus.IN_PROGRESS,
            1,
        )
        assert job.phase is Phase.QUEUED  # the job it came from is unchanged
        assert await store.start_hand_over(job, lease_until=2000.0) is None  # not twice
        await writer.close()

    asyncio.run(scenario())
