"""A job's document in storage: its key, and the sweep that deletes documents no job refers
to. A document is stored before its job row is committed (a job never refers to a document
that is not there), so a request that fails in between, or a process that dies there, leaves
a document behind; the request deletes it when it can tell no row refers to it, and the sweep
catches the rest: at start and every SWEEP_SECONDS, documents older than GRACE_SECONDS whose
job does not exist are deleted. The same holds for received faxes (stored before their row,
issue 12): `inbound-<id>.pdf` without a row is deleted too. Only keys of the forms the job and
inbound services make are considered: whatever else the storage holds is not theirs."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable

from faxbot.metrics import SweepRecorder
from faxbot.plugins.contract import ListsDocuments, Storage
from faxbot.store.fleet import FleetSweeps
from faxbot.store.inbound import InboundStore
from faxbot.store.jobs import JobStore

# Longer than any request can take between storing its document and committing its job (the
# next step after the document is durable), so a document is never swept before its job.
GRACE_SECONDS = 3600.0
SWEEP_SECONDS = 3600.0
BATCH = 500  # documents looked up in one query
_DOCUMENT_KEY = re.compile(r"^([0-9a-f]{32})\.pdf$")
_INBOUND_KEY = re.compile(r"^inbound-([0-9a-f]{32})\.pdf$")


def document_key(job_id: str) -> str:
    """The storage key of job `job_id`'s document."""
    return f"{job_id}.pdf"


def inbound_document_key(fax_id: str) -> str:
    """The storage key of received fax `fax_id`'s document."""
    return f"inbound-{fax_id}.pdf"


def inbound_of(key: str) -> str | None:
    """The id of the received fax whose document `key` is, or None."""
    found = _INBOUND_KEY.match(key)
    return found.group(1) if found else None


def job_of(key: str) -> str | None:
    """The id of the job whose document `key` is, or None for a key that is not a job's."""
    found = _DOCUMENT_KEY.match(key)
    return found.group(1) if found else None


class OrphanSweep:
    """Deletes the documents no job refers to, once they are older than `grace_seconds`."""

    def __init__(
        self,
        store: JobStore,
        storage: Storage,
        listing: ListsDocuments,
        logger: logging.Logger,
        *,
        grace_seconds: float = GRACE_SECONDS,
        clock: Callable[[], float] = time.time,
        inbound: InboundStore | None = None,
        timed: SweepRecorder | None = None,
        fleet: FleetSweeps | None = None,
    ) -> None:
        self._fleet = fleet or FleetSweeps(None)  # one replica's pass at a time
        self._timed = timed
        self._inbound = inbound
        self._store = store
        self._storage = storage
        self._listing = listing
        self._log = logger
        self._grace = grace_seconds
        self._clock = clock

    async def run(self, every: float = SWEEP_SECONDS) -> None:
        """Sweep now, then every `every` seconds, until cancelled; a failed sweep is logged
        and tried again at the next turn."""
        while True:
            try:
                async with self._fleet.turn("orphans", every) as mine:
                    if not mine:
                        pass  # another replica made this pass
                    elif self._timed is None:
                        await self.sweep()
                    else:
                        with self._timed.timed():
                            await self.sweep()
            except Exception:
                self._log.exception("document sweep failed", extra={"event": "sweep_failed"})
            await asyncio.sleep(every)

    async def sweep(self) -> int:
        """Delete the unreferenced documents older than the grace period; how many."""
        deleted = 0
        batch: list[tuple[str, str]] = []
        received: list[tuple[str, str]] = []
        async for key in await self._listing.list_documents(self._clock() - self._grace):
            job_id = job_of(key)
            if job_id is not None:
                batch.append((key, job_id))
            fax_id = inbound_of(key) if self._inbound is not None else None
            if fax_id is not None:
                received.append((key, fax_id))
            if len(batch) >= BATCH:
                deleted += await self._delete_unreferenced(batch)
                batch = []
            if len(received) >= BATCH:
                deleted += await self._delete_unreceived(received)
                received = []
        if batch:
            deleted += await self._delete_unreferenced(batch)
        if received:
            deleted += await self._delete_unreceived(received)
        if deleted:
            self._log.warning(
                f"deleted {deleted} stored documents no job refers to (left by failed or "
                "interrupted requests)",
                extra={"event": "orphans_deleted", "count": deleted},
            )
        return deleted

    async def _delete_unreceived(self, batch: list[tuple[str, str]]) -> int:
        assert self._inbound is not None
        existing = await asyncio.to_thread(self._inbound.existing, [i for _, i in batch])
        orphans = [key for key, fax_id in batch if fax_id not in existing]
        for key in orphans:
            await self._storage.delete(key)
        return len(orphans)

    async def _delete_unreferenced(self, batch: list[tuple[str, str]]) -> int:
        existing = await asyncio.to_thread(self._store.existing, [job for _, job in batch])
        orphans = [key for key, job in batch if job not in existing]
        for key in orphans:
            await self._storage.delete(key)
        return len(orphans)
