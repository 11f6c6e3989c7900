"""The dispatcher with leases, on a real PostgreSQL and scripted transports: it starts no send
on a lease that may have run out (no heartbeat for lease_seconds - heartbeat_seconds) and
gives the job back instead, it gives back the lease of a job whose step failed, and its
heartbeat keeps its leases and the gauge."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from faxbot.dispatch.dispatcher import Dispatcher, DispatchPolicy
from faxbot.metrics import Metrics
from faxbot.plugins.contract import FaxStatus, StatusUpdate
from faxbot.store.database import Database, migrate
from faxbot.store.jobs import Job, JobStore, Lease, Phase
from faxbot.store.leases import Leases
from faxbot.store.writer import Writer

from tests.dispatch.test_dispatcher import NoDocuments, Scripted

LOG = logging.getLogger("test.dispatch.leases")


@dataclass
class Clock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class Broken(Scripted):
    """A transport whose status check fails in a way the dispatcher does not expect."""

    async def get_status(self, provider_sid: str) -> StatusUpdate:
        raise RuntimeError("the status check broke")


@pytest.fixture
def database(postgres_database: Database) -> Iterator[Database]:
    migrate(postgres_database)
    yield postgres_database


async def _create(store: JobStore, job_id: str) -> Job:
    job, _ = await store.create(
        job_id=job_id,
        to="+12025550143",
        pages=1,
        backend="test",
        document_key=f"{job_id}.pdf",
        api_key_id="k1",
        idempotency_key=None,
        request_hash="h",
    )
    return job


def _dispatcher(
    database: Database, clock: Clock, transport: Scripted, policy: DispatchPolicy
) -> tuple[Dispatcher, JobStore, Writer, Metrics]:
    writer = Writer(database)
    writer.open()
    lease = Lease("a", policy.lease_seconds)
    store = JobStore(database, writer, clock, lease)
    metrics = Metrics()
    dispatcher = Dispatcher(
        store,
        transport,
        None,
        NoDocuments(),
        policy,
        LOG,
        clock=clock,
        metrics=metrics.dispatch("test"),
        leases=Leases(database, lease, clock),
    )
    return dispatcher, store, writer, metrics


async def _until(check: object, seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.02)):
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not in time")


def test_no_send_is_started_on_a_lease_that_may_have_run_out(database: Database) -> None:
    clock = Clock()
    transport = Scripted()
    # No heartbeat comes in this test: the last one is the start's.
    policy = DispatchPolicy(lease_seconds=30, heartbeat_seconds=3600, sweep_seconds=3600)
    dispatcher, store, writer, _ = _dispatcher(database, clock, transport, policy)

    async def scenario() -> None:
        running = asyncio.create_task(dispatcher.run())
        await asyncio.sleep(0.05)
        clock.now += 25  # past lease_seconds - heartbeat_seconds since the last heartbeat
        job = await _create(store, "1" * 32)
        dispatcher.submit(job)
        await _until(lambda: store.get(job.id).lease_owner is None)  # type: ignore[union-attr]
        assert transport.sent == []
        now = store.get(job.id)
        assert now is not None and now.phase is Phase.QUEUED and now.attempts == 0
        await dispatcher.stop()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await writer.close()

    asyncio.run(scenario())


def test_a_job_whose_step_failed_is_given_back(database: Database) -> None:
    clock = Clock()
    transport = Broken()
    policy = DispatchPolicy(first_poll_seconds=0.01, sweep_seconds=3600)
    dispatcher, store, writer, _ = _dispatcher(database, clock, transport, policy)

    async def scenario() -> None:
        running = asyncio.create_task(dispatcher.run())
        job = await _create(store, "2" * 32)
        dispatcher.submit(job)
        await _until(lambda: store.get(job.id).lease_owner is None)  # type: ignore[union-attr]
        now = store.get(job.id)
        assert now is not None and now.phase is Phase.SENT  # for any replica's next claim
        assert transport.sent == [job.id]
        await dispatcher.stop()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await writer.close()

    asyncio.run(scenario())


def test_the_heartbeat_keeps_the_leases_and_counts_them(database: Database) -> None:
    clock = Clock()
    transport = Scripted(statuses=[StatusUpdate(FaxStatus.IN_PROGRESS)])
    policy = DispatchPolicy(
        lease_seconds=30, heartbeat_seconds=0.05, sweep_seconds=3600, first_poll_seconds=3600
    )
    dispatcher, store, writer, metrics = _dispatcher(database, clock, transport, policy)

    async def scenario() -> None:
        running = asyncio.create_task(dispatcher.run())
        jobs = [await _create(store, f"{n}".rjust(32, "3")) for n in range(3)]
        for job in jobs:
            dispatcher.submit(job)
        await _until(lambda: b"faxbot_leases_held 3.0" in metrics.render())
        clock.now += 29
        await asyncio.sleep(0.2)  # beats at the new time
        expiry = {j.lease_expires_at for j in store.get_many([j.id for j in jobs])}
        assert expiry and min(e for e in expiry if e is not None) > clock.now + 29
        await dispatcher.stop()  # gives them back
        assert b"faxbot_leases_held 0.0" in metrics.render()
        assert {j.lease_owner for j in store.get_many([j.id for j in jobs])} == {None}
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await writer.close()

    asyncio.run(scenario())
