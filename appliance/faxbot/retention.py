"""Retention (`appliance.retention`): a periodic sweep that deletes, through the storage
plugin, the documents of sent faxes that ended and of received faxes older than their days
(the row stays, marked `document_deleted_at`), then the rows older than theirs (with their
document first, if still kept), and forgets webhook event ids and expired document links.
Days may be fractions (tests use seconds); None keeps. Documents no row refers to are the
orphan sweep's (jobs/documents.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from faxbot.artifact import Retention
from faxbot.metrics import SweepRecorder
from faxbot.plugins.contract import Storage
from faxbot.store.fleet import FleetSweeps
from faxbot.store.inbound import InboundStore
from faxbot.store.jobs import JobStore
from faxbot.store.links import LinkStore

DAY = 86400.0
BATCH = 500


class RetentionSweep:
    def __init__(
        self,
        settings: Retention,
        jobs: JobStore,
        inbound: InboundStore,
        storage: Storage,
        logger: logging.Logger,
        *,
        links: LinkStore | None = None,
        jobs_deleted: Callable[[list[str]], None] = lambda ids: None,
        clock: Callable[[], float] = time.time,
        timed: SweepRecorder | None = None,
        fleet: FleetSweeps | None = None,
    ) -> None:
        self._fleet = fleet or FleetSweeps(None)  # one replica's pass at a time
        self._timed = timed
        self._jobs_deleted = jobs_deleted  # tells the job service, which caches ended jobs
        self._settings = settings
        self._jobs = jobs
        self._inbound = inbound
        self._storage = storage
        self._links = links
        self._log = logger
        self._clock = clock

    async def run(self) -> None:
        """Sweep now, then every `sweep_seconds`, until cancelled; a failed sweep is logged
        and tried again at the next turn. It runs even when every document and row is kept:
        webhook event ids and expired links are forgotten all the same."""
        while True:
            try:
                async with self._fleet.turn("retention", self._settings.sweep_seconds) as mine:
                    if not mine:
                        pass  # another replica made this pass
                    elif self._timed is None:
                        await self.sweep()
                    else:
                        with self._timed.timed():
                            await self.sweep()
            except Exception:
                self._log.exception("retention sweep failed", extra={"event": "retention_failed"})
            await asyncio.sleep(self._settings.sweep_seconds)

    def _before(self, days: float | None) -> float | None:
        return None if days is None else self._clock() - days * DAY

    async def sweep(self) -> dict[str, int]:
        """One pass; how many of each were deleted."""
        s = self._settings
        done = {
            "outbound_documents": 0,
            "inbound_documents": 0,
            "job_rows": 0,
            "inbound_rows": 0,
        }
        before = self._before(s.outbound_document_days)
        if before is not None:
            done["outbound_documents"] = await self._documents(self._jobs, before)
        before = self._before(s.inbound_document_days)
        if before is not None:
            done["inbound_documents"] = await self._documents(self._inbound, before)
        before = self._before(s.job_row_days)
        if before is not None:
            done["job_rows"] = await self._rows(self._jobs, before, self._jobs_deleted)
        before = self._before(s.inbound_row_days)
        if before is not None:
            done["inbound_rows"] = await self._rows(self._inbound, before)
        await self._inbound.forget_events(self._clock() - s.webhook_event_days * DAY)
        if self._links is not None:
            await self._links.forget(self._clock() - 60.0)
        if any(done.values()):
            self._log.info("retention applied", extra={"event": "retention_applied", **done})
        return done

    async def _documents(self, store: JobStore | InboundStore, before: float) -> int:
        count = 0
        while True:
            due = await asyncio.to_thread(store.documents_due, before, BATCH)
            if not due:
                return count
            for _, key in due:
                await self._storage.delete(key)
            await store.document_deleted([row_id for row_id, _ in due])
            count += len(due)
            if len(due) < BATCH:
                return count

    async def _rows(
        self,
        store: JobStore | InboundStore,
        before: float,
        deleted: Callable[[list[str]], None] = lambda ids: None,
    ) -> int:
        count = 0
        while True:
            due = await asyncio.to_thread(store.rows_due, before, BATCH)
            if not due:
                return count
            for _, key, deleted_at in due:
                if deleted_at is None:
                    await self._storage.delete(key)
            ids = [row_id for row_id, _, _ in due]
            await store.delete_rows(ids)
            deleted(ids)
            count += len(due)
            if len(due) < BATCH:
                return count
