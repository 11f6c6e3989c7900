"""The inbound service: store a received fax (its document through the storage plugin first,
then its row, one per fax at its provider) and read received faxes back, isolated by number.

Isolation: a caller reads the faxes that arrived on its numbers (`api_keys[].inbound_numbers`)
or, with the scope inbound:read_all, every one. Another number's fax is answered exactly as
one that does not exist. The service raises domain errors, never HTTP ones."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from faxbot.audit import Action, AuditLog, Detail, DocumentDetail, ListDetail, Outcome
from faxbot.jobs.documents import inbound_document_key
from faxbot.jobs.errors import InvalidCursor, JobError
from faxbot.jobs.service import Caller
from faxbot.plugins.contract import (
    DeletesCopies,
    DocumentNotFound,
    InboundTransport,
    ReceivedFax,
    Storage,
)
from faxbot.store.cursors import BadCursor
from faxbot.store.inbound import (
    RECEIVED,
    InboundFax,
    InboundFilter,
    InboundStore,
)

_E164 = re.compile(r"^\+[1-9]\d{1,14}$")


class InboundNotFound(JobError):
    """No received fax with that id that the caller may read."""


class DocumentGone(JobError):
    """The received fax's document was deleted (retention)."""


class DocumentTooLarge(Exception):
    """The provider's document is larger than the webhook body limit."""


@dataclass(frozen=True)
class InboundSource:
    """The inbound provider: its plugin id, how its PDFs are fetched, and its copies deleted."""

    plugin: str
    transport: InboundTransport | None
    deletes_copies: DeletesCopies | None


def e164_or_none(number: str | None) -> str | None:
    """`number` when it is E.164 (what filters and isolation compare), else None."""
    if number is None:
        return None
    number = number.strip()
    return number if _E164.match(number) else None


class InboundService:
    def __init__(
        self,
        store: InboundStore,
        storage: Storage,
        source: InboundSource,
        *,
        max_document_bytes: int,
        logger: logging.Logger,
        audit: AuditLog | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._storage = storage
        self.source = source
        self._max_bytes = max_document_bytes
        self._log = logger
        self._audit = audit
        self._clock = clock

    # -- receiving -------------------------------------------------------------------------

    async def receive(self, fax: ReceivedFax) -> tuple[InboundFax, bool]:
        """Store `fax` (a second delivery of a stored one returns that one and False). The
        document is durable before the row; a failure in between leaves a document that the
        orphan sweep deletes. After the row is committed, the provider's copy may go."""
        provider = self.source.plugin
        earlier = await asyncio.to_thread(self._store.by_provider_sid, provider, fax.provider_sid)
        if earlier is not None:
            return earlier, False
        fax_id = secrets.token_hex(16)
        key = inbound_document_key(fax_id)
        await self._storage.put(key, await self._document(fax))
        now = self._clock()
        row = InboundFax(
            id=fax_id,
            sender=e164_or_none(fax.sender),
            recipient=e164_or_none(fax.recipient),
            pages=fax.pages,
            received_at=fax.received_at,
            provider=provider,
            provider_sid=fax.provider_sid,
            status=RECEIVED,
            document_key=key,
            document_deleted_at=None,
            created_at=now,
        )
        try:
            inserted = await self._store.insert(row)
        except BaseException:
            await asyncio.shield(self._forget_document(fax_id, key))
            raise
        if not inserted:  # the same fax, delivered twice at once: the other one won
            await self._storage.delete(key)
            stored = await asyncio.to_thread(
                self._store.by_provider_sid, provider, fax.provider_sid
            )
            if stored is None:
                raise RuntimeError(f"received fax {fax.provider_sid!r} neither inserted nor found")
            return stored, False
        self._log.info(
            "fax received",
            extra={"event": "fax_received", "inbound_id": fax_id, "plugin": provider},
        )
        await self._delete_copy(fax.provider_sid, fax_id)
        return row, True

    async def _document(self, fax: ReceivedFax) -> AsyncIterator[bytes]:
        if fax.document is not None:
            return _one(fax.document)
        if self.source.transport is None:
            raise DocumentNotFound(f"no document with received fax {fax.provider_sid!r}")
        chunks = await self.source.transport.get_inbound_pdf(fax.provider_sid)
        return _bounded(chunks, self._max_bytes)

    async def _forget_document(self, fax_id: str, key: str) -> None:
        try:
            if not await asyncio.to_thread(self._store.existing, [fax_id]):
                await self._storage.delete(key)
        except Exception:
            self._log.warning(
                "a received fax's document is left to the orphan sweep",
                extra={"event": "document_left", "inbound_id": fax_id},
            )

    async def _delete_copy(self, provider_sid: str, fax_id: str) -> None:
        if self.source.deletes_copies is None:
            return
        try:
            await self.source.deletes_copies.delete_copy(provider_sid)
        except Exception as exc:
            self._log.warning(
                "the provider's copy of a received fax was not deleted",
                extra={"event": "delete_copy_failed", "inbound_id": fax_id, "error": str(exc)},
            )

    # -- reading ---------------------------------------------------------------------------

    async def _record(
        self,
        action: Action,
        outcome: Outcome,
        caller: Caller,
        subject: str | None = None,
        detail: Detail | None = None,
    ) -> None:
        if self._audit is not None:
            await self._audit.record(
                action, outcome, key_id=caller.id, subject=subject, detail=detail
            )

    async def get(
        self, fax_id: str, caller: Caller, action: Action = Action.INBOUND_READ
    ) -> InboundFax:
        """The received fax `fax_id` if `caller` may read it, else InboundNotFound."""
        fax = await asyncio.to_thread(self._store.get, fax_id[:64])
        if fax is None or not caller.receives_on(fax.recipient):
            await self._record(action, Outcome.NOT_FOUND, caller)
            raise InboundNotFound(f"no received fax with id {fax_id[:64]!r}", {"id": fax_id[:64]})
        detail = DocumentDetail(pages=fax.pages, plugin=fax.provider)
        await self._record(action, Outcome.OK, caller, fax.id, detail)
        return fax

    async def document(
        self, fax_id: str, caller: Caller
    ) -> tuple[InboundFax, AsyncIterator[bytes]]:
        """The received fax and its PDF's chunks (the first chunk read already, so that a
        missing document is an error before anything is answered)."""
        fax = await self.get(fax_id, caller, Action.DOCUMENT_DOWNLOAD)
        if fax.document_deleted_at is not None:
            raise DocumentGone(
                "the received fax's document was deleted under appliance.retention",
                {"id": fax.id},
            )
        try:
            chunks = await self._storage.get(fax.document_key)
            first = await anext(chunks, b"")
        except DocumentNotFound:
            raise DocumentGone(
                "the received fax's document is no longer stored", {"id": fax.id}
            ) from None
        return fax, _prepend(first, chunks)

    async def page(
        self, limit: int, cursor: str | None, caller: Caller, filters: InboundFilter
    ) -> tuple[list[InboundFax], str | None]:
        numbers = None if caller.reads_all_inbound else caller.inbound_numbers
        try:
            found, next_cursor = await asyncio.to_thread(
                self._store.page, limit, cursor, filters, numbers
            )
        except BadCursor as exc:
            await self._record(Action.INBOUND_LIST_READ, Outcome.REJECTED, caller)
            raise InvalidCursor(str(exc), {"field": "cursor"}) from None
        await self._record(
            Action.INBOUND_LIST_READ, Outcome.OK, caller, detail=ListDetail(count=len(found))
        )
        return found, next_cursor


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for chunk in rest:
        yield chunk


async def _bounded(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    total = 0
    async for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise DocumentTooLarge(f"the provider's document is larger than {limit} bytes")
        yield chunk
