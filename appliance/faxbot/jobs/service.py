"""The job service: queue a fax (document stored, job row committed, dispatcher told) and read
jobs back. Used by the REST routes today and by anything else that queues faxes tomorrow; it
raises the domain errors of faxbot.jobs.errors, never HTTP ones.

Isolation between callers: a job belongs to the key (or auth plugin principal) that created it
(`Job.api_key_id`); a caller reads and lists only its own jobs unless it reads all
(`Caller.reads_all`). Another caller's job is answered exactly as a job that does not exist,
so that its existence is not confirmed."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from faxbot.audit import Action, AuditLog, Detail, ListDetail, Outcome, SendDetail, mask_number
from faxbot.destinations import DestinationPolicy
from faxbot.dispatch.dispatcher import Dispatcher
from faxbot.documents import kinds, renderers
from faxbot.documents import prepare as preparing
from faxbot.documents.kinds import DocumentKind
from faxbot.documents.prepare import PreparedDocument, examine, finish
from faxbot.documents.renderers import TextRenderers
from faxbot.jobs.documents import document_key
from faxbot.jobs.errors import (
    DatabaseLost,
    DatabaseUnavailable,
    DestinationRefused,
    DocumentTooComplex,
    IdempotencyConflict,
    InvalidCursor,
    InvalidRequest,
    JobError,
    JobNotFound,
    NotSending,
    RendererBusy,
    RenderFailed,
    StorageFull,
    TooManyPages,
    UnreadableDocument,
    UnsupportedDocument,
)
from faxbot.jobs.numbers import valid_number
from faxbot.plugins.contract import Storage
from faxbot.store.cursors import BadCursor
from faxbot.store.database import DatabaseReplaced, is_full, is_unavailable
from faxbot.store.jobs import UNFILTERED, Job, JobFilter, JobStore

TERMINAL_CACHE = 10_000  # finished jobs kept in memory: they never change again
INLINE_PREPARE_BYTES = 256 * 1024  # judged (and a PDF counted) on the event loop below this size
PAPER = "letter"  # what text is drawn on
CHUNK = 256 * 1024


@dataclass(frozen=True)
class Caller:
    """Who asks: the id of the API key or auth plugin principal, and whether it may read every
    caller's jobs (the scope fax:read_all) or only its own."""

    id: str
    reads_all: bool = False
    # Received faxes: those that arrived on these numbers (api_keys[].inbound_numbers), or
    # all of them with the scope inbound:read_all.
    inbound_numbers: frozenset[str] = frozenset()
    reads_all_inbound: bool = False

    def owns(self, job: Job) -> bool:
        return self.reads_all or job.api_key_id == self.id

    def receives_on(self, recipient: str | None) -> bool:
        """Whether a fax received on `recipient` is this caller's to read."""
        return self.reads_all_inbound or (
            recipient is not None and recipient in self.inbound_numbers
        )


@dataclass(frozen=True)
class Uploads:
    """Where a large upload waits on disk while it arrives, and how large a document may be."""

    folder: Path
    max_bytes: int


@dataclass(frozen=True)
class Upload:
    """A document as the client sent it: in memory, or spilled to a file, with its digest."""

    content: bytes | Path
    size: int
    sha256: str


class JobService:
    def __init__(
        self,
        store: JobStore,
        storage: Storage,
        dispatcher: Dispatcher,
        *,
        backend: str,
        uploads: Uploads,
        max_pages: int,
        destinations: DestinationPolicy,
        renderers: TextRenderers,
        logger: logging.Logger,
        audit: AuditLog | None = None,
    ) -> None:
        self._destinations = destinations
        self._audit = audit  # every send and read is recorded before it is answered
        self._store = store
        self._storage = storage
        self._dispatcher = dispatcher
        self._backend = backend
        self.uploads = uploads
        self._max_pages = max_pages
        self._renderers = renderers
        self._log = logger
        self._finished: OrderedDict[str, Job] = OrderedDict()

    async def send(
        self, *, to: str | None, upload: Upload | None, key_id: str, idempotency_key: str | None
    ) -> Job:
        """Queue a fax of `upload` to `to`; the document and the job are on disk when this
        returns. With an idempotency key already used by `key_id`, the earlier job.

        The audit log (when on) records the send before anything is stored, so a fax whose
        send could not be recorded is never queued; a failure after that is recorded too."""
        try:
            return await self._send(to, upload, key_id, idempotency_key)
        except (StorageFull, DatabaseLost, DatabaseUnavailable):
            raise  # recorded as an error where it happened
        except JobError as exc:
            failed_here = isinstance(exc, (NotSending, RendererBusy, RenderFailed))
            outcome = Outcome.ERROR if failed_here else Outcome.REJECTED
            await self._record(Action.FAX_SEND, outcome, key_id)
            raise

    async def _send(
        self, to: str | None, upload: Upload | None, key_id: str, idempotency_key: str | None
    ) -> Job:
        number = valid_number(to)
        refusal = self._destinations.refusal(number)
        if refusal is not None:
            raise DestinationRefused(
                refusal.message,
                {
                    "field": "to",
                    "rule": refusal.rule,
                    "region": refusal.region,
                    "calling_code": refusal.calling_code,
                    "number_type": refusal.number_type,
                },
            )
        if upload is None:
            raise InvalidRequest(
                "missing field `file`: a PDF or UTF-8 text document", {"field": "file"}
            )
        request_hash = hashlib.sha256(f"{number}\n{upload.sha256}".encode()).hexdigest()
        if idempotency_key is not None:
            earlier = await asyncio.to_thread(
                self._store.by_idempotency_key, key_id, idempotency_key
            )
            if earlier is not None:
                return await self._replayed(earlier, request_hash, key_id)
        document = await self._prepare(upload)
        job_id = secrets.token_hex(16)
        key = document_key(job_id)
        detail = SendDetail(pages=document.pages, plugin=self._backend, to=mask_number(number))
        await self._record(Action.FAX_SEND, Outcome.OK, key_id, job_id, detail)
        try:
            await self._storage.put(key, _chunks(document.content))
            job, created = await self._store.create(
                job_id=job_id,
                to=number,
                pages=document.pages,
                backend=self._backend,
                document_key=key,
                api_key_id=key_id,
                idempotency_key=idempotency_key,
                request_hash=request_hash,
            )
        except BaseException as exc:
            # Cancelled (the client went away) the cleanup still runs; its own failure is
            # left to the orphan sweep and never hides the request's error.
            await asyncio.shield(self._forget_document(job_id, key))
            if isinstance(exc, Exception):
                await self._record(Action.FAX_SEND, Outcome.ERROR, key_id, job_id)
                if is_full(exc):
                    raise StorageFull(
                        "the appliance's storage is full: the fax was not queued; try again "
                        "once space is freed"
                    ) from exc
                if isinstance(exc, DatabaseReplaced):
                    raise DatabaseLost(f"{exc}: the fax was not queued") from exc
                if is_unavailable(exc):
                    raise DatabaseUnavailable(
                        f"the database could not take the write ({type(exc).__name__}): "
                        "the fax was not queued; try again shortly"
                    ) from exc
            raise
        if not created:  # a concurrent request with the same key won the race
            await self._storage.delete(key)
            await self._record(Action.FAX_SEND, Outcome.REJECTED, key_id, job_id)
            return await self._replayed(job, request_hash, key_id)
        self._dispatcher.submit(job)
        self._log.info(
            "job queued",
            extra={"event": "job_queued", "job_id": job_id, "pages": job.pages, "key_id": key_id},
        )
        return job

    async def _forget_document(self, job_id: str, key: str) -> None:
        """Delete the document of a job whose row may not have been committed, unless a row
        refers to it after all (a commit whose answer was lost); when that cannot be told
        (the database is down too), the orphan sweep decides later."""
        try:
            if not await asyncio.to_thread(self._store.existing, [job_id]):
                await self._storage.delete(key)
        except Exception:
            self._log.warning(
                "a failed request's document is left to the orphan sweep",
                extra={"event": "document_left", "job_id": job_id},
            )

    async def _replayed(self, earlier: Job, request_hash: str, key_id: str) -> Job:
        """The job an idempotency key already made, answered again (and recorded again)."""
        job = _replay(earlier, request_hash)
        detail = SendDetail(pages=job.pages, plugin=job.backend, to=mask_number(job.to))
        await self._record(Action.FAX_SEND, Outcome.OK, key_id, job.id, detail)
        return job

    async def _prepare(self, upload: Upload) -> PreparedDocument:
        """The document to store for `upload`: judged and counted here (streaming, bounded
        whatever the upload), and a text drawn by a render worker, off the event loop."""
        content, limit = upload.content, self._max_pages
        try:
            if upload.size <= INLINE_PREPARE_BYTES:  # judging is cheaper than a thread hop
                kind = kinds.judge(content)
                if kind is DocumentKind.PDF:  # so is counting a PDF's pages, in C
                    examined = examine(content, max_pages=limit, kind=kind)
                else:  # laying out a text is Python: ~1 ms per 200 lines
                    examined = await asyncio.to_thread(examine, content, max_pages=limit, kind=kind)
            else:
                examined = await asyncio.to_thread(examine, content, max_pages=limit)
            rendered = None
            if examined.kind is DocumentKind.TEXT:
                rendered = await self._renderers.render(content, PAPER)
            return finish(examined, content, rendered)
        except kinds.UnsupportedDocument as exc:
            raise UnsupportedDocument(str(exc), {"field": "file"}) from None
        except preparing.TooManyPages as exc:
            details: dict[str, object] = {"field": "file", "max_pages": exc.max_pages}
            if exc.pages is not None:
                details["pages"] = exc.pages
            raise TooManyPages(str(exc), details) from None
        except kinds.DocumentTooComplex as exc:
            raise DocumentTooComplex(str(exc), {"field": "file"}) from None
        except kinds.DocumentError as exc:  # damaged, encrypted, empty
            raise UnreadableDocument(str(exc), {"field": "file"}) from None
        except renderers.RenderersBusy as exc:
            raise RendererBusy(str(exc)) from None
        except renderers.RenderUnavailable as exc:
            raise RenderFailed(str(exc)) from None

    async def _record(
        self,
        action: Action,
        outcome: Outcome,
        key_id: str,
        subject: str | None = None,
        detail: Detail | None = None,
    ) -> None:
        if self._audit is not None:
            await self._audit.record(action, outcome, key_id=key_id, subject=subject, detail=detail)

    async def get(self, job_id: str, caller: Caller) -> Job:
        """The job `job_id`, read by `caller`: JobNotFound when there is none, or when it is
        another caller's and `caller` does not read all."""
        job = await self._get(job_id)
        if job is None or not caller.owns(job):
            await self._record(Action.FAX_STATUS_READ, Outcome.NOT_FOUND, caller.id)
            raise JobNotFound(f"no fax job with id {job_id[:64]!r}", {"id": job_id[:64]})
        await self._record(Action.FAX_STATUS_READ, Outcome.OK, caller.id, job.id)
        return job

    def forget(self, job_ids: list[str]) -> None:
        """These jobs' rows were deleted (retention): no longer answered from memory."""
        for job_id in job_ids:
            self._finished.pop(job_id, None)

    async def _get(self, job_id: str) -> Job | None:
        finished = self._finished.get(job_id)
        if finished is not None:
            return finished
        job = await asyncio.to_thread(self._store.get, job_id)
        if job is None:
            return None
        if job.terminal:
            self._finished[job_id] = job
            if len(self._finished) > TERMINAL_CACHE:
                self._finished.popitem(last=False)
        return job

    async def page(
        self, limit: int, cursor: str | None, caller: Caller, filters: JobFilter = UNFILTERED
    ) -> tuple[list[Job], str | None]:
        """The jobs `filters` select among those `caller` may read, newest first, `limit` at a
        time, and the cursor of the next page (valid with the same filters only)."""
        key_id = caller.id
        owner = None if caller.reads_all else caller.id
        try:
            jobs, next_cursor = await asyncio.to_thread(
                self._store.page, limit, cursor, filters, owner
            )
        except BadCursor as exc:
            await self._record(Action.FAX_LIST_READ, Outcome.REJECTED, key_id)
            raise InvalidCursor(str(exc), {"field": "cursor"}) from None
        await self._record(
            Action.FAX_LIST_READ, Outcome.OK, key_id, detail=ListDetail(count=len(jobs))
        )
        return jobs, next_cursor


def _replay(earlier: Job, request_hash: str) -> Job:
    if earlier.request_hash != request_hash:
        raise IdempotencyConflict(
            "this Idempotency-Key was used for a different fax (another number or "
            "document); use a new key for a new fax",
            {"idempotency_key": earlier.idempotency_key, "job_id": earlier.id},
        )
    return earlier


async def _chunks(content: bytes | Path) -> AsyncIterator[bytes]:
    if isinstance(content, bytes):
        yield content
        return
    with content.open("rb") as handle:
        while chunk := await asyncio.to_thread(handle.read, CHUNK):
            yield chunk
