"""Status reports applied to jobs (JobStore.apply_report), on a real SQLite file and a real
PostgreSQL server: forward only, once per event, matched by job id or provider id, and a
report that races the hand-over's commit still lands."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from faxbot.plugins.contract import FaxStatus
from faxbot.store.database import Database, migrate
from faxbot.store.jobs import Job, JobStore, Phase, ReportResult
from faxbot.store.writer import Writer


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "postgresql":
        found: Database = request.getfixturevalue("postgres_database")
        migrate(found)
        yield found
        return
    database = Database(f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    migrate(database)
    yield database
    database.close()


async def _job(store: JobStore, job_id: str = "a" * 32) -> Job:
    job, _ = await store.create(
        job_id=job_id,
        to="+12025550143",
        pages=1,
        backend="phaxio",
        document_key=f"{job_id}.pdf",
        api_key_id="k",
        idempotency_key=None,
        request_hash="h",
    )
    return job


def test_reports_move_a_job_forward_once(database: Database) -> None:
    async def scenario() -> None:
        writer = Writer(database)
        writer.open()
        store = JobStore(database, writer)
        try:
            job = await _job(store)
            taken = await store.start_hand_over(job, lease_until=0)
            assert taken is not None
            sent = await store.handed_over(taken, "sid-1", next_poll_at=0)
            assert sent is not None

            def report(event: str, status: FaxStatus, sid: str = "sid-1", **more: object):  # type: ignore[no-untyped-def]
                return store.apply_report(
                    backend="phaxio", event_id=event, provider_sid=sid, status=status, **more
                )

            assert (await report("e1", FaxStatus.IN_PROGRESS))[0] is ReportResult.UNCHANGED
            result, done = await report("e2", FaxStatus.FAILED, error="busy", pages=2)
            assert result is ReportResult.APPLIED and done is not None
            assert (done.phase, done.status, done.error, done.pages) == (
                Phase.DONE,
                FaxStatus.FAILED,
                "busy",
                2,
            )
            assert (await report("e2", FaxStatus.SUCCESS))[0] is ReportResult.DUPLICATE
            assert (await report("e3", FaxStatus.SUCCESS))[0] is ReportResult.UNCHANGED
            assert (await report("e4", FaxStatus.SUCCESS, sid="nope"))[0] is ReportResult.UNKNOWN
            other_backend = await store.apply_report(
                backend="sinch",
                event_id="e5",
                provider_sid="sid-1",
                status=FaxStatus.SUCCESS,
            )
            assert other_backend[0] is ReportResult.UNKNOWN  # another plugin's ids are not ours
            stored = store.get(job.id)
            assert stored is not None and stored.status is FaxStatus.FAILED
        finally:
            await writer.close()

    asyncio.run(scenario())


def test_a_report_racing_the_hand_over_still_lands(database: Database) -> None:
    async def scenario() -> None:
        writer = Writer(database)
        writer.open()
        store = JobStore(database, writer)
        try:
            job = await _job(store, "b" * 32)
            taken = await store.start_hand_over(job, lease_until=0)
            assert taken is not None
            # the provider calls back before the dispatcher committed the hand-over
            early, seen = await store.apply_report(
                backend="phaxio",
                event_id="early",
                provider_sid="sid-2",
                job_id=job.id,
                status=FaxStatus.IN_PROGRESS,
            )
            assert early is ReportResult.APPLIED and seen is not None
            assert (seen.phase, seen.provider_sid) == (Phase.HANDING_OVER, "sid-2")
            final, ended = await store.apply_report(
                backend="phaxio",
                event_id="final",
                provider_sid="sid-2",
                status=FaxStatus.SUCCESS,
            )
            assert final is ReportResult.APPLIED and ended is not None
            assert ended.status is FaxStatus.SUCCESS and ended.terminal
            # the dispatcher's commit comes late: it finds the job moved on and leaves it
            assert await store.handed_over(taken, "sid-2", next_poll_at=0) is None
            stored = store.get(job.id)
            assert stored is not None
            assert (stored.status, stored.provider_sid) == (FaxStatus.SUCCESS, "sid-2")
        finally:
            await writer.close()

    asyncio.run(scenario())
