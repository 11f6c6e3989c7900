"""The job store on a real SQLite file and a real PostgreSQL server: what the dispatcher's
sweep asks for, and jobs that read back as each step returned them."""

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


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "postgresql":
        database: Database = request.getfixturevalue("postgres_database")
        migrate(database)
        yield database
        return
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


def test_every_step_returns_the_job_as_stored(database: Database) -> None:
    """Each step's job equals the job read back: every column, the enums as enums, the
    nullable ones both empty and set, and the job a step started from unchanged."""
    clock = Clock()

    async def scenario() -> None:
        writer = Writer(database)
        writer.open()
        store = JobStore(database, writer, clock=clock)
        job, created = await store.create(
            job_id="job", to="+12025550143", pages=1, backend="test", document_key="job.pdf",
            api_key_id="k", idempotency_key="key-1", request_hash="h",
        )  # fmt: skip
        assert created and job == store.get("job")
        assert (job.to, job.status, job.phase, job.sent_at) == (
            "+12025550143", FaxStatus.QUEUED, Phase.QUEUED, None,
        )  # fmt: skip
        clock.now += 1
        taken = await store.start_hand_over(job, lease_until=2000.0)
        assert taken is not None and taken == store.get("job")
        assert (taken.phase, taken.status, taken.attempts, taken.next_action_at) == (
            Phase.HANDING_OVER, FaxStatus.IN_PROGRESS, 1, 2000.0,
        )  # fmt: skip
        assert (job.phase, job.attempts, job.updated_at) == (Phase.QUEUED, 0, 1000.0)
        assert await store.start_hand_over(job, lease_until=2000.0) is None  # not twice
        clock.now += 1
        sent = await store.handed_over(taken, "sid-1", next_poll_at=3000.0)
        assert sent is not None and sent == store.get("job")
        assert (sent.phase, sent.provider_sid, sent.sent_at) == (Phase.SENT, "sid-1", 1002.0)
        polled = await store.poll_again(sent, at=4000.0)
        assert polled is not None and polled == store.get("job") and polled.polls == 1
        done = await store.finish(polled, Phase.SENT, FaxStatus.FAILED, "no answer", pages=3)
        assert done is not None and done == store.get("job")
        assert (done.status, done.error, done.pages, done.terminal) == (
            FaxStatus.FAILED, "no answer", 3, True,
        )  # fmt: skip
        assert store.by_idempotency_key("k", "key-1") == done
        await writer.close()

    asyncio.run(scenario())
