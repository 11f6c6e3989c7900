"""Job leases on a real PostgreSQL (tests/postgres_server.py), two replicas as two stores,
each with its own writer (its own connection) and its own clock: claims with SKIP LOCKED take
disjoint jobs, a lease is taken over only once it ran out, a replica that lost its lease cannot
overwrite the new owner's progress, a provider's report ends a job whoever holds it, and two
replicas racing one idempotency key make one job."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from faxbot.plugins.contract import FaxStatus
from faxbot.store.database import Database, migrate
from faxbot.store.fleet import FleetSweeps
from faxbot.store.jobs import Job, JobStore, Lease, Phase, ReportResult
from faxbot.store.leases import Leases
from faxbot.store.writer import Writer

LEASE = 30.0


@dataclass
class Clock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Replica:
    store: JobStore
    leases: Leases
    writer: Writer


@pytest.fixture
def database(postgres_database: Database) -> Iterator[Database]:
    migrate(postgres_database)
    yield postgres_database


def _replica(database: Database, owner: str, clock: Clock) -> Replica:
    writer = Writer(database)
    writer.open()
    lease = Lease(owner, LEASE)
    return Replica(JobStore(database, writer, clock, lease), Leases(database, lease, clock), writer)


def _create(replica: Replica, job_id: str, key: str | None = None) -> Any:
    return replica.store.create(
        job_id=job_id,
        to="+12025550143",
        pages=1,
        backend="test",
        document_key=f"{job_id}.pdf",
        api_key_id="k1",
        idempotency_key=key,
        request_hash="h",
    )


def _ids(jobs: list[Job]) -> set[str]:
    return {job.id for job in jobs}


def test_a_job_is_leased_to_the_replica_that_created_it_and_taken_over_only_after_expiry(
    database: Database,
) -> None:
    clock = Clock()
    a, b = _replica(database, "a", clock), _replica(database, "b", clock)

    async def scenario() -> None:
        job, _ = await _create(a, "1" * 32)
        assert (job.lease_owner, job.lease_expires_at) == ("a", clock.now + LEASE)
        assert b.leases.claim(clock.now + 5, 100) == []  # a holds it
        clock.now += LEASE - 1
        assert a.leases.extend() == 1  # the heartbeat: a still holds it
        clock.now += LEASE - 1
        assert b.leases.claim(clock.now + 5, 100) == []
        clock.now += 2  # a's last heartbeat was a lease ago: a died
        taken = b.leases.claim(clock.now + 5, 100)
        assert _ids(taken) == {job.id}
        assert taken[0].lease_owner == "b"
        assert (a.leases.held(), b.leases.held()) == (0, 1)
        assert a.leases.extend() == 0  # a's heartbeat no longer extends it
        await a.writer.close()
        await b.writer.close()

    asyncio.run(scenario())


def test_a_replica_that_lost_its_lease_cannot_overwrite_the_new_owners_progress(
    database: Database,
) -> None:
    clock = Clock()
    a, b = _replica(database, "a", clock), _replica(database, "b", clock)

    async def scenario() -> None:
        job, _ = await _create(a, "2" * 32)
        handing = await a.store.start_hand_over(job, clock.now + 120)
        assert handing is not None
        # a is paused past its lease; b takes the job over and resolves the hand-over
        clock.now += LEASE + 1
        (taken,) = b.leases.claim(clock.now + 5, 100)
        assert taken.phase is Phase.HANDING_OVER
        assert taken.next_action_at <= clock.now  # a cut-off hand-over is looked up now
        sent = await b.store.handed_over(taken, "sid-of-b", clock.now + 1)
        assert sent is not None
        # a wakes up and writes what its own step found: every write of it is refused
        assert await a.store.handed_over(handing, "sid-of-a", clock.now + 1) is None
        assert await a.store.requeue(handing, Phase.HANDING_OVER, clock.now, "x") is None
        assert await a.store.poll_again(sent, clock.now + 9) is None
        assert await a.store.finish(sent, Phase.SENT, FaxStatus.FAILED, "late") is None
        now = b.store.get(job.id)
        assert now is not None
        assert (now.provider_sid, now.phase, now.lease_owner) == ("sid-of-b", Phase.SENT, "b")
        assert now.polls == 0 and now.error is None
        # b ends it: the lease goes with the job's end
        done = await b.store.finish(sent, Phase.SENT, FaxStatus.SUCCESS, None)
        assert done is not None and done.lease_owner is None
        assert b.leases.held() == 0
        await a.writer.close()
        await b.writer.close()

    asyncio.run(scenario())


def test_two_replicas_claiming_at_once_take_disjoint_jobs(database: Database) -> None:
    clock = Clock()
    a, b, maker = (_replica(database, name, clock) for name in ("a", "b", "maker"))

    async def scenario() -> None:
        for n in range(300):
            await _create(maker, f"{n:032x}")
        clock.now += LEASE + 1  # the maker died: its 300 jobs are anyone's
        claims = await asyncio.gather(
            *(asyncio.to_thread(r.leases.claim, clock.now + 5, 40) for r in (a, b) * 5)
        )
        mine_a = set().union(*(_ids(c) for c in claims[0::2]))
        mine_b = set().union(*(_ids(c) for c in claims[1::2]))
        assert not mine_a & mine_b
        assert len(mine_a) + len(mine_b) == 300
        assert (a.leases.held(), b.leases.held()) == (len(mine_a), len(mine_b))
        assert a.leases.release() == len(mine_a)  # a stops: its jobs are free at once
        assert _ids(b.leases.claim(clock.now + 5, 1000)) == mine_a
        for replica in (a, b, maker):
            await replica.writer.close()

    asyncio.run(scenario())


def test_a_report_delivered_to_another_replica_ends_the_job_and_its_lease(
    database: Database,
) -> None:
    clock = Clock()
    a, b = _replica(database, "a", clock), _replica(database, "b", clock)

    async def scenario() -> None:
        job, _ = await _create(a, "3" * 32)
        handing = await a.store.start_hand_over(job, clock.now + 120)
        assert handing is not None
        sent = await a.store.handed_over(handing, "sid-3", clock.now + 1)
        assert sent is not None
        result, ended = await b.store.apply_report(
            backend="test", event_id="e-1", provider_sid="sid-3", status=FaxStatus.SUCCESS
        )
        assert result is ReportResult.APPLIED and ended is not None
        now = a.store.get(job.id)
        assert now is not None
        assert (now.status, now.phase, now.lease_owner) == (FaxStatus.SUCCESS, Phase.DONE, None)
        assert await a.store.poll_again(sent, clock.now + 5) is None  # a's poll is too late
        assert a.leases.held() == 0
        await a.writer.close()
        await b.writer.close()

    asyncio.run(scenario())


def test_two_replicas_racing_one_idempotency_key_make_one_job(database: Database) -> None:
    clock = Clock()
    replicas = [_replica(database, f"r{n}", clock) for n in range(2)]

    async def scenario() -> None:
        for attempt in range(20):
            key = f"same-key-{attempt}"
            ids = [f"{attempt:02d}{n}".ljust(32, "0") for n in range(len(replicas))]
            results = await asyncio.gather(
                *(_create(r, job_id, key) for job_id, r in zip(ids, replicas, strict=True))
            )
            assert sorted(created for _, created in results) == [False, True]
            assert len({job.id for job, _ in results}) == 1
        with database.reading() as cursor:
            cursor.execute("SELECT count(*) FROM jobs")
            assert cursor.fetchone()[0] == 20
        for replica in replicas:
            await replica.writer.close()

    asyncio.run(scenario())


def test_a_sweep_passes_once_per_interval_across_replicas(database: Database) -> None:
    clock = Clock()
    a, b = FleetSweeps(database, "a", clock), FleetSweeps(database, "b", clock)
    every = 3600.0

    async def scenario() -> None:
        async with a.turn("retention", every) as mine:
            assert mine
            async with b.turn("retention", every) as theirs:
                assert not theirs  # a's pass is under way
            async with b.turn("orphans", every) as other_sweep:
                assert other_sweep  # another sweep, its own lock and record
        clock.now += every / 2
        async with b.turn("retention", every) as theirs:
            assert not theirs  # a made this interval's pass
        clock.now += every / 2
        async with b.turn("retention", every) as theirs:
            assert theirs  # the next interval's, made by whoever comes first
        async with a.turn("retention", every) as mine:
            assert not mine
        with database.reading() as cursor:
            cursor.execute("SELECT name, replica FROM sweep_passes ORDER BY name")
            assert cursor.fetchall() == [("orphans", "b"), ("retention", "b")]

    asyncio.run(scenario())


def test_leases_refuse_sqlite(tmp_path: Any) -> None:
    sqlite = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with pytest.raises(ValueError, match="PostgreSQL"):
        Leases(sqlite, Lease("a", LEASE))
