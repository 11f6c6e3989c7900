"""Hands queued jobs to the outbound transport and follows them until they are SUCCESS or
FAILED. All its state is in the database, so a restart resumes every unfinished job.

How work is found: a new job is handed over in memory by the API (`submit`); after each step
the job's next step is put on a timer with the state that step just committed; a sweep of
the database (at start, then every `sweep_seconds`) picks up anything else that is due. So
the database is written once per step and read only by the sweep. Due steps wait in a queue
for one of `concurrency` workers (long-lived tasks): at most that many steps talk to the
provider at once, and a step costs no task of its own.

Safety rules (the v2 mistakes): a send is retried only when the transport says the provider
surely did not accept it (`TransportError.retryable`); a hand-over cut short by a crash is
resolved with the transport's `find_sent`, never by sending again blindly, and so is a send
whose outcome the transport cannot tell (`OutcomeUnknown`: the job stays handing over and is
looked up later); a job that stays in progress longer than `limits.send_timeout_seconds` is
failed. Once a job has ended (by a poll here, or a provider's webhook), the provider's copy of
the document may go: the transport's `delete_copy`, when it has one, best effort.

Several replicas on one PostgreSQL (`leases`, store/leases.py): a replica works only the jobs it
holds a lease on: those it created (the INSERT leases them to it) and those its sweep claims
(never leased, released, or whose lease ran out: a replica that died), since jobs posted to
another replica never reach its queue. A heartbeat extends all its leases every
`heartbeat_seconds`; every change it writes to a job is conditional on still holding the lease;
a job it lets go of (a failed step) is released, and `stop` releases them all. A hand-over
claimed from a dead replica is resolved by `find_sent` before any second send, as after a
restart. A send is not started on a lease that may have run out (no heartbeat succeeded for
`lease_seconds - heartbeat_seconds`): the job is released instead, for its next owner."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from faxbot.audit import Action, AuditLog, AuditUnavailable, DocumentDetail, Outcome
from faxbot.metrics import DispatchRecorder, SweepRecorder
from faxbot.plugins.contract import (
    DeletesCopies,
    FaxStatus,
    FindsSent,
    OutboundFax,
    OutboundTransport,
    OutcomeUnknown,
    Storage,
    StoredDocument,
    TransportError,
)
from faxbot.store.jobs import Job, JobStore, Phase
from faxbot.store.leases import Leases

TERMINAL = (FaxStatus.SUCCESS, FaxStatus.FAILED)


@dataclass(frozen=True)
class DispatchPolicy:
    max_attempts: int = 5
    send_timeout_seconds: float = 900.0
    hand_over_lease_seconds: float = 120.0  # a hand-over older than this is presumed cut short
    first_poll_seconds: float = 1.0
    max_poll_seconds: float = 30.0
    retry_base_seconds: float = 2.0
    max_retry_seconds: float = 300.0
    sweep_seconds: float = 5.0  # how often the database is searched for due work
    concurrency: int = 16
    lease_seconds: float = 30.0  # with leases: how long a job's lease runs without a heartbeat
    heartbeat_seconds: float = 10.0  # with leases: how often they are extended
    claim_limit: int = 1000  # with leases: most jobs claimed by one sweep
    stop_seconds: float = 10.0  # how long `stop` waits for the steps under way


class Dispatcher:
    def __init__(
        self,
        store: JobStore,
        transport: OutboundTransport,
        finds_sent: FindsSent | None,
        storage: Storage,
        policy: DispatchPolicy,
        logger: logging.Logger,
        clock: Callable[[], float] = time.time,
        audit: AuditLog | None = None,
        metrics: DispatchRecorder | None = None,
        sweeps: SweepRecorder | None = None,
        leases: Leases | None = None,
    ) -> None:
        self._leases = leases
        # Every lease this replica holds runs at least until then (the last heartbeat's).
        self._held_until = float("inf")
        self._stopping = False
        self._steps = 0  # steps under way
        self._idle = asyncio.Event()
        self._idle.set()
        self._audit = audit
        self._metrics = metrics
        self._sweeps = sweeps
        self._store = store
        self._transport = transport
        self._finds_sent = finds_sent
        self._storage = storage
        self._policy = policy
        self._log = logger
        self._clock = clock
        self._timers: dict[str, asyncio.TimerHandle] = {}  # job id -> its next step
        self._running: set[str] = set()  # job ids whose step is queued or under way
        self._due: asyncio.Queue[Job] = asyncio.Queue()
        self._deletes_copies = transport if isinstance(transport, DeletesCopies) else None

    # -- finding work ----------------------------------------------------------------------

    def submit(self, job: Job) -> None:
        """Take charge of `job` (just queued, or found due) at its next_action_at."""
        if self._stopping or job.terminal or job.id in self._running or job.id in self._timers:
            return
        delay = job.next_action_at - self._clock()
        if delay <= 0:
            self._start(job)
            return
        loop = asyncio.get_running_loop()
        self._timers[job.id] = loop.call_at(loop.time() + delay, self._start, job)

    def forget(self, job_id: str) -> None:
        """The job ended elsewhere (a provider's webhook): its next poll is not needed."""
        timer = self._timers.pop(job_id, None)
        if timer is not None:
            timer.cancel()

    async def ended(self, job: Job) -> None:
        """A sent job has ended: the provider's copy of its document may go. Best effort: a
        failure is logged and the job's result stands."""
        if self._deletes_copies is None or job.provider_sid is None:
            return
        try:
            await self._deletes_copies.delete_copy(job.provider_sid)
        except Exception as exc:
            self._log.warning(
                "the provider's copy of the document was not deleted",
                extra={"event": "delete_copy_failed", "job_id": job.id, "error": str(exc)},
            )

    def _start(self, job: Job) -> None:
        self._timers.pop(job.id, None)
        self._running.add(job.id)
        self._due.put_nowait(job)

    async def recover(self) -> None:
        """After a restart of the only appliance on this database, hand-overs it left
        unfinished are resolved now instead of when their lease runs out."""
        now = self._clock()
        for job in await asyncio.to_thread(self._store.due, float("inf"), 100_000):
            if job.phase is Phase.HANDING_OVER:
                await self._advance(job, now)

    async def run(self) -> None:
        """Run the workers (and, with leases, the heartbeat) and sweep the database for due
        work until cancelled."""
        workers = [asyncio.create_task(self._work()) for _ in range(self._policy.concurrency)]
        if self._leases is not None:
            self._held_until = self._clock() + self._policy.lease_seconds
            workers.append(asyncio.create_task(self._heartbeat(self._leases)))
        try:
            while True:
                try:
                    if self._sweeps is None:
                        await self.sweep()
                    else:
                        with self._sweeps.timed():
                            await self.sweep()
                except Exception:  # the database is down: the next sweep tries again
                    if self._leases is None:
                        raise
                    self._log.exception("dispatch sweep failed", extra={"event": "sweep_failed"})
                await asyncio.sleep(self._policy.sweep_seconds)
        finally:
            self._cancel_timers()
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    def _cancel_timers(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    async def stop(self) -> None:
        """Take no new step, let the steps under way finish (for `stop_seconds` at most), and
        give back every lease this replica holds, so another replica takes its jobs at once
        rather than when their leases run out. Cancel `run` after this."""
        self._stopping = True
        self._cancel_timers()
        while not self._due.empty():  # queued, not started: left as they are in the database
            self._running.discard(self._due.get_nowait().id)
        try:
            await asyncio.wait_for(self._idle.wait(), self._policy.stop_seconds)
        except TimeoutError:
            self._log.warning(
                "dispatch steps still under way at stop",
                extra={"event": "dispatch_stop_timeout", "steps": self._steps},
            )
        if self._leases is not None:
            try:
                released = await asyncio.to_thread(self._leases.release)
            except Exception:
                self._log.exception(
                    "leases not released: other replicas take the jobs when they run out",
                    extra={"event": "leases_not_released"},
                )
                return
            self._log.info("leases released", extra={"event": "leases_released", "count": released})
            if self._metrics is not None:
                self._metrics.leases_held(0)

    async def _heartbeat(self, leases: Leases) -> None:
        """Extend this replica's leases every heartbeat_seconds; the count is the gauge."""
        while True:
            await asyncio.sleep(self._policy.heartbeat_seconds)
            began = self._clock()
            try:
                held = await asyncio.to_thread(leases.extend)
            except Exception as exc:
                self._log.warning(
                    "lease heartbeat failed",
                    extra={"event": "heartbeat_failed", "error": type(exc).__name__},
                )
                continue
            self._held_until = began + self._policy.lease_seconds
            if self._metrics is not None:
                self._metrics.leases_held(held)

    def _lease_may_have_run_out(self) -> bool:
        """Whether a lease of this replica may run out before a step begun now ends: no
        heartbeat succeeded for lease_seconds - heartbeat_seconds."""
        margin = self._policy.heartbeat_seconds
        return self._leases is not None and self._clock() >= self._held_until - margin

    async def _let_go(self, job: Job) -> None:
        """Release the lease on a job this replica no longer follows, for anyone to claim."""
        if self._leases is None:
            return
        try:
            await asyncio.to_thread(self._leases.release, [job.id])
        except Exception:  # it runs out at its expiry instead
            self._log.exception(
                "lease not released", extra={"event": "lease_not_released", "job_id": job.id}
            )

    async def sweep(self) -> None:
        """Take charge of the jobs due before the next sweep that are not in hand yet (after a
        restart, or left by another appliance); rows are read only for those. With leases,
        claim them (due, and not held by a live replica)."""
        if self._stopping:
            return
        horizon = self._clock() + self._policy.sweep_seconds
        if self._leases is not None:
            claimed = await asyncio.to_thread(self._leases.claim, horizon, self._policy.claim_limit)
            for job in sorted(claimed, key=lambda j: j.next_action_at):
                self.submit(job)
            if claimed:
                self._log.info(
                    "jobs claimed", extra={"event": "jobs_claimed", "count": len(claimed)}
                )
            return
        due = await asyncio.to_thread(self._store.due_ids, horizon, 10_000)
        unknown = [i for i in due if i not in self._running and i not in self._timers]
        if not unknown:
            return
        jobs = await asyncio.to_thread(self._store.get_many, unknown)
        for job in sorted(jobs, key=lambda j: j.next_action_at):
            self.submit(job)

    # -- steps -----------------------------------------------------------------------------

    async def _work(self) -> None:
        """One worker: take the next due step, do it, put the job's next step on a timer."""
        while True:
            job = await self._due.get()
            following: Job | None = None
            self._steps += 1
            self._idle.clear()
            try:
                following = await self._advance(job, self._clock())
            except Exception:
                self._log.exception(
                    "dispatch step failed", extra={"event": "dispatch_error", "job_id": job.id}
                )
                await self._let_go(job)
            finally:
                self._running.discard(job.id)
                self._steps -= 1
                if self._steps == 0:
                    self._idle.set()
            if following is not None:
                self.submit(following)

    async def _advance(self, job: Job, now: float) -> Job | None:
        """Do the job's next step; returns the job as the step left it (None: not ours)."""
        if job.phase is Phase.QUEUED:
            return await self._hand_over(job, now)
        if job.phase is Phase.HANDING_OVER:
            return await self._recover_hand_over(job)
        if job.phase is Phase.SENT:
            return await self._poll(job, now)
        return None

    def _retry_delay(self, attempts: int) -> float:
        policy = self._policy
        return float(
            min(policy.retry_base_seconds * 2 ** max(attempts - 1, 0), policy.max_retry_seconds)
        )

    async def _fail(self, job: Job, expected: Phase, error: str) -> Job | None:
        done = await self._store.finish(job, expected, FaxStatus.FAILED, error)
        if done is not None:
            self._log.info(
                "job failed", extra={"event": "job_failed", "job_id": job.id, "error": error}
            )
        return done

    async def _hand_over(self, job: Job, now: float) -> Job | None:
        if job.attempts >= self._policy.max_attempts:
            return await self._fail(
                job, Phase.QUEUED, f"gave up after {job.attempts} attempts: {job.error}"
            )
        if self._lease_may_have_run_out():
            self._log.warning(
                "send not started: this replica's lease may have run out",
                extra={"event": "lease_doubtful", "job_id": job.id},
            )
            await self._let_go(job)
            return None
        lease = now + self._policy.hand_over_lease_seconds
        taken = await self._store.start_hand_over(job, lease)
        if taken is None:
            return None  # another dispatcher took it
        document = StoredDocument(self._storage, job.document_key)
        began = time.perf_counter()
        try:
            try:
                receipt = await self._transport.send(
                    OutboundFax(job_id=job.id, to=job.to, pages=job.pages, document=document)
                )
            finally:
                if self._metrics is not None:
                    self._metrics.hand_over(time.perf_counter() - began)
        except OutcomeUnknown as exc:
            self._provider_error("send")
            if self._finds_sent is None:
                return await self._fail(taken, Phase.HANDING_OVER, str(exc))
            # Still handing over: the recovery path asks the provider (find_sent) when this
            # is due, and sends again only if the provider does not have it.
            self._log.warning(
                "send outcome unknown: it will be looked up at the provider",
                extra={"event": "send_outcome_unknown", "job_id": job.id, "error": str(exc)},
            )
            at = self._clock() + self._retry_delay(taken.attempts)
            return await self._store.postpone(taken, Phase.HANDING_OVER, at)
        except TransportError as exc:
            self._provider_error("send")
            if not exc.retryable:
                return await self._fail(taken, Phase.HANDING_OVER, str(exc))
            at = self._clock() + self._retry_delay(taken.attempts)
            self._log.info(
                "send will be retried",
                extra={
                    "event": "send_retry",
                    "job_id": job.id,
                    "attempt": taken.attempts,
                    "error": str(exc),
                },
            )
            return await self._store.requeue(taken, Phase.HANDING_OVER, at, str(exc))
        except Exception as exc:  # unknown outcome: never resend blindly
            return await self._fail(
                taken, Phase.HANDING_OVER, f"transport error: {type(exc).__name__}: {exc}"
            )
        first_poll = self._clock() + self._policy.first_poll_seconds
        sent = await self._store.handed_over(taken, receipt.provider_sid, first_poll)
        self._log.info(
            "job handed over",
            extra={"event": "job_sent", "job_id": job.id, "provider_sid": receipt.provider_sid},
        )
        # Recorded even when a webhook ended the job before this commit (sent is None then):
        # the document left all the same.
        await self._record_hand_over(taken)
        return sent

    def _provider_error(self, step: str) -> None:
        if self._metrics is not None:
            self._metrics.provider_error(step)

    async def _record_hand_over(self, job: Job) -> None:
        """The document left for the provider: a disclosure the audit log records. The fax is
        gone by now, so a failure to record is logged loudly rather than undoing anything."""
        if self._audit is None:
            return
        detail = DocumentDetail(pages=job.pages, plugin=job.backend)
        try:
            await self._audit.record(Action.FAX_HANDOVER, Outcome.OK, subject=job.id, detail=detail)
        except AuditUnavailable:
            self._log.exception(
                "hand-over not recorded in the audit log",
                extra={"event": "audit_failed", "job_id": job.id},
            )

    async def _recover_hand_over(self, job: Job) -> Job | None:
        if self._finds_sent is None:
            return await self._fail(
                job,
                Phase.HANDING_OVER,
                "the hand-over to the transport was interrupted and this transport cannot tell "
                "whether it got the fax; not sent again, to avoid a duplicate",
            )
        try:
            receipt = await self._finds_sent.find_sent(job.id)
        except TransportError as exc:  # cannot tell yet: ask again later, still not resending
            self._provider_error("find_sent")
            self._log.warning(
                "interrupted hand-over: provider lookup failed",
                extra={"event": "hand_over_lookup_failed", "job_id": job.id, "error": str(exc)},
            )
            at = self._clock() + self._retry_delay(job.attempts)
            return await self._store.postpone(job, Phase.HANDING_OVER, at)
        if receipt is None:  # the provider never got it: sending is safe
            self._log.info(
                "interrupted hand-over: not received, queued again",
                extra={"event": "hand_over_recovered", "job_id": job.id},
            )
            return await self._store.requeue(
                job, Phase.HANDING_OVER, self._clock(), "hand-over interrupted; sending again"
            )
        self._log.info(
            "interrupted hand-over: the provider has it",
            extra={
                "event": "hand_over_recovered",
                "job_id": job.id,
                "provider_sid": receipt.provider_sid,
            },
        )
        first_poll = self._clock() + self._policy.first_poll_seconds
        return await self._store.handed_over(job, receipt.provider_sid, first_poll)

    async def _poll(self, job: Job, now: float) -> Job | None:
        sent_at = job.sent_at or job.created_at
        if now - sent_at > self._policy.send_timeout_seconds:
            return await self._fail(
                job,
                Phase.SENT,
                f"timed out: still in progress after {self._policy.send_timeout_seconds:g} s",
            )
        assert job.provider_sid is not None
        try:
            update = await self._transport.get_status(job.provider_sid)
        except TransportError as exc:
            self._provider_error("status")
            if not exc.retryable:
                return await self._fail(job, Phase.SENT, str(exc))
            update = None
        if update is not None and update.status in TERMINAL:
            done = await self._store.finish(
                job, Phase.SENT, update.status, update.error, update.pages
            )
            if done is not None:
                self._log.info(
                    "job finished",
                    extra={"event": "job_finished", "job_id": job.id, "status": str(update.status)},
                )
                await self.ended(done)
            return done
        delay = min(self._policy.first_poll_seconds * 1.5**job.polls, self._policy.max_poll_seconds)
        return await self._store.poll_again(job, self._clock() + delay)
