"""The dispatcher's safety rules, with scripted transports and a real SQLite database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from faxbot.dispatch.dispatcher import Dispatcher, DispatchPolicy
from faxbot.plugins.contract import (
    DocumentNotFound,
    FaxStatus,
    FindsSent,
    OutboundFax,
    OutcomeUnknown,
    Plugin,
    SendReceipt,
    StatusUpdate,
    TransportError,
)
from faxbot.store.database import Database, migrate
from faxbot.store.jobs import Job, JobStore, Phase
from faxbot.store.writer import Writer

FAST = DispatchPolicy(
    max_attempts=3,
    send_timeout_seconds=0.5,
    first_poll_seconds=0.01,
    max_poll_seconds=0.05,
    retry_base_seconds=0.01,
    sweep_seconds=0.05,
)


class NoDocuments(Plugin):
    """Storage whose documents the scripted transports never read."""

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        raise AssertionError("not used")

    async def get(self, key: str) -> AsyncIterator[bytes]:
        raise DocumentNotFound(key)

    async def delete(self, key: str) -> None:
        raise AssertionError("not used")


class Scripted(Plugin):
    """A transport whose send raises the queued errors first, then succeeds."""

    def __init__(
        self, errors: list[Exception] | None = None, statuses: list[StatusUpdate] | None = None
    ) -> None:
        self.errors = list(errors or [])
        self.statuses = list(statuses or [StatusUpdate(FaxStatus.SUCCESS)])
        self.sent: list[str] = []

    async def send(self, fax: OutboundFax) -> SendReceipt:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(fax.job_id)
        return SendReceipt(provider_sid=f"sid-{fax.job_id}")

    async def get_status(self, provider_sid: str) -> StatusUpdate:
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


class Recovering(Scripted):
    def __init__(self, known: dict[str, str]) -> None:
        super().__init__()
        self.known = known

    async def find_sent(self, job_id: str) -> SendReceipt | None:
        sid = self.known.get(job_id)
        return SendReceipt(provider_sid=sid) if sid else None


async def run(
    tmp_path: Path,
    transport: Scripted,
    prepare: Callable[[JobStore], Any] | None = None,
    seconds: float = 15.0,
) -> tuple[JobStore, Job]:
    database = Database(f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    migrate(database)
    writer = Writer(database)
    writer.open()
    store = JobStore(database, writer)
    await store.create(
        job_id="job1",
        to="+12025550143",
        pages=1,
        backend="t",
        document_key="job1.pdf",
        api_key_id="k",
        idempotency_key=None,
        request_hash="h",
    )
    if prepare is not None:
        await prepare(store)
    finds_sent = transport if isinstance(transport, FindsSent) else None
    dispatcher = Dispatcher(
        store, transport, finds_sent, NoDocuments(), FAST, logging.getLogger("test")
    )
    await dispatcher.recover()
    task = asyncio.create_task(dispatcher.run())
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        current = store.get("job1")
        if current is not None and current.terminal:
            break
        await asyncio.sleep(0.02)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    final = store.get("job1")
    await writer.close()
    database.close()
    assert final is not None
    return store, final


def test_a_retryable_failure_is_sent_again(tmp_path: Path) -> None:
    transport = Scripted(errors=[TransportError("503 before acceptance", retryable=True)])
    _, job = asyncio.run(run(tmp_path, transport))
    assert (job.status, job.attempts, transport.sent) == (FaxStatus.SUCCESS, 2, ["job1"])


def test_retries_stop_at_max_attempts(tmp_path: Path) -> None:
    errors = [TransportError("busy", retryable=True) for _ in range(5)]
    transport = Scripted(errors=errors)
    _, job = asyncio.run(run(tmp_path, transport))
    assert job.status is FaxStatus.FAILED
    assert job.error == "gave up after 3 attempts: busy"
    assert transport.sent == []


@pytest.mark.parametrize(
    "error",
    [
        TransportError("422 bad number", retryable=False),
        ConnectionResetError("reset after the body was sent"),
    ],
)
def test_an_unsafe_failure_is_never_resent(tmp_path: Path, error: Exception) -> None:
    transport = Scripted(errors=[error])
    _, job = asyncio.run(run(tmp_path, transport))
    assert job.status is FaxStatus.FAILED
    assert job.attempts == 1
    assert str(error) in (job.error or "")


def test_a_job_in_progress_too_long_times_out(tmp_path: Path) -> None:
    transport = Scripted(statuses=[StatusUpdate(FaxStatus.IN_PROGRESS)])
    _, job = asyncio.run(run(tmp_path, transport))
    assert job.status is FaxStatus.FAILED
    assert job.error == "timed out: still in progress after 0.5 s"


async def _interrupted(store: JobStore) -> Job:
    """The state a crash leaves: the hand-over started, its outcome never recorded."""
    job = store.get("job1")
    assert job is not None
    taken = await store.start_hand_over(job, lease_until=0)
    assert taken is not None and taken.phase is Phase.HANDING_OVER
    return taken


def test_an_interrupted_hand_over_the_provider_has_is_not_resent(tmp_path: Path) -> None:
    transport = Recovering({"job1": "sid-from-before"})
    _, job = asyncio.run(run(tmp_path, transport, _interrupted))
    assert (job.status, job.provider_sid) == (FaxStatus.SUCCESS, "sid-from-before")
    assert transport.sent == []


def test_an_interrupted_hand_over_the_provider_lacks_is_sent(tmp_path: Path) -> None:
    transport = Recovering({})
    _, job = asyncio.run(run(tmp_path, transport, _interrupted))
    assert job.status is FaxStatus.SUCCESS
    assert transport.sent == ["job1"]


def test_without_find_sent_an_interrupted_hand_over_fails_rather_than_risk_two(
    tmp_path: Path,
) -> None:
    transport = Scripted()
    _, job = asyncio.run(run(tmp_path, transport, _interrupted))
    assert job.status is FaxStatus.FAILED
    assert "not sent again, to avoid a duplicate" in (job.error or "")
    assert transport.sent == []


class TakenButUnanswered(Recovering):
    """The provider takes the first send, but its answer is lost (OutcomeUnknown)."""

    async def send(self, fax: OutboundFax) -> SendReceipt:
        if not self.sent:
            self.sent.append(fax.job_id)
            self.known[fax.job_id] = f"sid-{fax.job_id}"
            raise OutcomeUnknown("read timeout after the request was sent")
        return await super().send(fax)


def test_an_unknown_outcome_is_looked_up_not_sent_again(tmp_path: Path) -> None:
    transport = TakenButUnanswered({})
    _, job = asyncio.run(run(tmp_path, transport))
    assert (job.status, job.provider_sid) == (FaxStatus.SUCCESS, "sid-job1")
    assert transport.sent == ["job1"]  # once: the lookup found it


class LostOnTheWay(Recovering):
    """The first send never reached the provider, but the transport cannot tell."""

    def __init__(self) -> None:
        super().__init__({})
        self.tried = False

    async def send(self, fax: OutboundFax) -> SendReceipt:
        if not self.tried:
            self.tried = True
            raise OutcomeUnknown("connection dropped before the provider answered")
        return await super().send(fax)


def test_an_unknown_outcome_the_provider_lacks_is_sent_again(tmp_path: Path) -> None:
    transport = LostOnTheWay()
    _, job = asyncio.run(run(tmp_path, transport))
    assert job.status is FaxStatus.SUCCESS
    assert transport.sent == ["job1"]


def test_without_find_sent_an_unknown_outcome_fails(tmp_path: Path) -> None:
    transport = Scripted(errors=[OutcomeUnknown("read timeout")])
    _, job = asyncio.run(run(tmp_path, transport))
    assert job.status is FaxStatus.FAILED
    assert job.error == "read timeout"
    assert transport.sent == []


class Deleting(Scripted):
    def __init__(self, fails: bool) -> None:
        super().__init__()
        self.fails = fails
        self.deleted: list[str] = []

    async def delete_copy(self, provider_sid: str) -> None:
        self.deleted.append(provider_sid)
        if self.fails:
            raise TransportError("404 from the provider", retryable=False)


@pytest.mark.parametrize("fails", [False, True])
def test_the_providers_copy_is_deleted_once_the_job_ended(tmp_path: Path, fails: bool) -> None:
    transport = Deleting(fails)
    _, job = asyncio.run(run(tmp_path, transport))
    assert job.status is FaxStatus.SUCCESS  # a failed delete does not change the result
    assert transport.deleted == ["sid-job1"]
