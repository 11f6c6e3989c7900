"""Received faxes in the database (the inbound_faxes table, migration 0003), in plain SQL on
the driver's DB-API like jobs.py. One row per fax at its provider: (provider, provider_sid) is
unique, so a webhook delivered twice stores one fax. Reads are synchronous, for worker
threads; writes go through the one database writer."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from faxbot.store import cursors
from faxbot.store.database import Database, parameter_marker
from faxbot.store.writer import Writer

RECEIVED = "received"  # the one status a stored received fax has today
COLUMNS = (
    "id",
    "sender",
    "recipient",
    "pages",
    "received_at",
    "provider",
    "provider_sid",
    "status",
    "document_key",
    "document_deleted_at",
    "created_at",
)
BY_IDS_CHUNK = 500
MAX_NUMBERS = 500  # numbers in one `recipient IN (...)`: a key's inbound_numbers


@dataclass(frozen=True)
class InboundFax:
    """A received fax: one row of inbound_faxes, its fields in COLUMNS' order."""

    id: str
    sender: str | None  # E.164, when the provider knew it
    recipient: str | None  # our number it arrived on (E.164)
    pages: int | None
    received_at: float  # epoch seconds, as the provider said
    provider: str  # the plugin id that received it
    provider_sid: str
    status: str
    document_key: str
    document_deleted_at: float | None  # retention deleted the document then
    created_at: float  # when the appliance stored it


@dataclass(frozen=True)
class InboundFilter:
    """Which received faxes a page lists; None is any. Times are epoch seconds: `since`
    inclusive, `until` exclusive, of received_at."""

    to: str | None = None
    sender: str | None = None
    since: float | None = None
    until: float | None = None

    def digest(self) -> str:
        return cursors.filters_digest(self.to, self.sender, self.since, self.until)


def encode_cursor(fax: InboundFax, filters: InboundFilter) -> str:
    return cursors.encode(fax.received_at, fax.id, filters.digest())


def decode_cursor(cursor: str, filters: InboundFilter) -> tuple[float, str]:
    return cursors.decode(cursor, filters.digest(), "to, from, received_since and received_until")


class InboundStore:
    def __init__(
        self, database: Database, writer: Writer, clock: Callable[[], float] = time.time
    ) -> None:
        self._database = database
        self._writer = writer
        self._clock = clock
        bind = self._bind = parameter_marker(database.paramstyle)
        names = ", ".join(COLUMNS)
        self._select = f"SELECT {names} FROM inbound_faxes"  # noqa: S608
        self._insert = (
            f"INSERT INTO inbound_faxes ({names}) VALUES "  # noqa: S608
            f"({', '.join(bind(c) for c in COLUMNS)}) ON CONFLICT DO NOTHING"
        )
        self._get = f"{self._select} WHERE id = {bind('id')}"
        self._by_sid = (
            f"{self._select} WHERE provider = {bind('provider')} "
            f"AND provider_sid = {bind('provider_sid')}"
        )

    def _many(self, sql: str, params: dict[str, Any]) -> list[InboundFax]:
        with self._database.reading() as cursor:
            cursor.execute(sql, params)
            return [InboundFax(*row) for row in cursor.fetchall()]

    def get(self, fax_id: str) -> InboundFax | None:
        found = self._many(self._get, {"id": fax_id})
        return found[0] if found else None

    def by_provider_sid(self, provider: str, provider_sid: str) -> InboundFax | None:
        found = self._many(self._by_sid, {"provider": provider, "provider_sid": provider_sid})
        return found[0] if found else None

    async def insert(self, fax: InboundFax) -> bool:
        """Insert the row; durable when this returns. False when the provider's fax is stored
        already (a concurrent delivery of the same fax won)."""
        values = {name: getattr(fax, name) for name in COLUMNS}
        sql = self._insert
        return bool(await self._writer.write(lambda cursor: cursor.execute(sql, values).rowcount))

    def page(
        self,
        limit: int,
        cursor: str | None,
        filters: InboundFilter,
        numbers: frozenset[str] | None,
    ) -> tuple[list[InboundFax], str | None]:
        """The received faxes `filters` select, newest first; only those received on
        `numbers` unless it is None. BadCursor for another filter's cursor."""
        bind = self._bind
        where: list[str] = []
        params: dict[str, Any] = {}
        after = decode_cursor(cursor, filters) if cursor else None
        if numbers is not None:
            allowed = sorted(numbers)[:MAX_NUMBERS]
            if not allowed:
                return [], None
            where.append(f"recipient IN ({', '.join(bind(f'n{i}') for i in range(len(allowed)))})")
            params.update({f"n{i}": number for i, number in enumerate(allowed)})
        for name, condition in (
            ("to", "recipient = {}"),
            ("sender", "sender = {}"),
            ("since", "received_at >= {}"),
            ("until", "received_at < {}"),
        ):
            value = getattr(filters, name)
            if value is not None:
                where.append(condition.format(bind(name)))
                params[name] = value
        if after is not None:
            params["after_at"], params["after_id"] = after
            where.append(
                f"(received_at < {bind('after_at')} OR (received_at = {bind('after_at')} "
                f"AND id < {bind('after_id')}))"
            )
        params["limit"] = limit + 1
        sql = (
            f"{self._select}{' WHERE ' + ' AND '.join(where) if where else ''} "
            f"ORDER BY received_at DESC, id DESC LIMIT {bind('limit')}"
        )
        found = self._many(sql, params)
        more = len(found) > limit
        found = found[:limit]
        return found, (encode_cursor(found[-1], filters) if more and found else None)

    def existing(self, ids: Iterable[str]) -> set[str]:
        """Those of `ids` that have a row."""
        wanted = list(ids)
        found: set[str] = set()
        with self._database.reading() as cursor:
            for start in range(0, len(wanted), BY_IDS_CHUNK):
                chunk = wanted[start : start + BY_IDS_CHUNK]
                markers = ", ".join(self._bind(f"id{n}") for n in range(len(chunk)))
                cursor.execute(
                    f"SELECT id FROM inbound_faxes WHERE id IN ({markers})",  # noqa: S608
                    {f"id{n}": i for n, i in enumerate(chunk)},
                )
                found.update(str(row[0]) for row in cursor.fetchall())
        return found

    # -- retention ---------------------------------------------------------------------------

    def documents_due(self, before: float, limit: int) -> list[tuple[str, str]]:
        """(id, document key) of faxes stored before `before` whose document is still kept."""
        bind = self._bind
        sql = (
            f"SELECT id, document_key FROM inbound_faxes WHERE created_at < {bind('before')} "  # noqa: S608
            f"AND document_deleted_at IS NULL ORDER BY created_at LIMIT {bind('limit')}"
        )
        with self._database.reading() as cursor:
            cursor.execute(sql, {"before": before, "limit": limit})
            return [(str(r[0]), str(r[1])) for r in cursor.fetchall()]

    async def document_deleted(self, ids: list[str]) -> None:
        now = self._clock()
        bind = self._bind
        sql = (
            f"UPDATE inbound_faxes SET document_deleted_at = {bind('now')} WHERE id = {bind('id')}"  # noqa: S608
        )

        def run(cursor: Any) -> None:
            for fax_id in ids:
                cursor.execute(sql, {"now": now, "id": fax_id})

        await self._writer.write(run)

    def rows_due(self, before: float, limit: int) -> list[tuple[str, str, float | None]]:
        """(id, document key, document_deleted_at) of faxes stored before `before`."""
        bind = self._bind
        sql = (
            "SELECT id, document_key, document_deleted_at FROM inbound_faxes WHERE "  # noqa: S608
            f"created_at < {bind('before')} ORDER BY created_at LIMIT {bind('limit')}"
        )
        with self._database.reading() as cursor:
            cursor.execute(sql, {"before": before, "limit": limit})
            return [(str(r[0]), str(r[1]), r[2]) for r in cursor.fetchall()]

    async def delete_rows(self, ids: list[str]) -> None:
        sql = f"DELETE FROM inbound_faxes WHERE id = {self._bind('id')}"  # noqa: S608

        def run(cursor: Any) -> None:
            for fax_id in ids:
                cursor.execute(sql, {"id": fax_id})

        await self._writer.write(run)

    async def forget_events(self, before: float) -> None:
        """Forget the webhook events applied before `before` (a provider's redelivery comes
        within hours, not days)."""
        sql = f"DELETE FROM webhook_events WHERE received_at < {self._bind('before')}"  # noqa: S608
        await self._writer.write(lambda cursor: cursor.execute(sql, {"before": before}))
