"""Document links in the database (the document_links table, migration 0003): the SHA-256 of
each link's token, the document it serves, until when, and whether it was used. Taking a link
is one compare-and-set UPDATE, so a link serves its document once, even to two callers at
the same time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from faxbot.store.database import Database, parameter_marker
from faxbot.store.writer import Writer


class LinkStore:
    def __init__(
        self, database: Database, writer: Writer, clock: Callable[[], float] = time.time
    ) -> None:
        self._writer = writer
        self._clock = clock
        bind = parameter_marker(database.paramstyle)
        self._insert = (
            "INSERT INTO document_links (token_sha256, document_key, expires_at, used_at, "  # noqa: S608
            f"created_at) VALUES ({bind('digest')}, {bind('key')}, {bind('expires')}, NULL, "
            f"{bind('now')})"
        )
        self._take = (
            f"UPDATE document_links SET used_at = {bind('now')} WHERE token_sha256 = "  # noqa: S608
            f"{bind('digest')} AND used_at IS NULL AND expires_at > {bind('now')}"
        )
        self._key = f"SELECT document_key FROM document_links WHERE token_sha256 = {bind('digest')}"  # noqa: S608
        self._forget = f"DELETE FROM document_links WHERE expires_at < {bind('before')}"  # noqa: S608

    async def add(self, digest: str, document_key: str, expires_at: float) -> None:
        params = {
            "digest": digest,
            "key": document_key,
            "expires": expires_at,
            "now": self._clock(),
        }
        sql = self._insert
        await self._writer.write(lambda cursor: cursor.execute(sql, params))

    async def take(self, digest: str) -> str | None:
        """The document key of an unused, unexpired link, marking it used; else None."""
        params = {"digest": digest, "now": self._clock()}
        take, key = self._take, self._key

        def run(cursor: Any) -> str | None:
            if cursor.execute(take, params).rowcount != 1:
                return None
            cursor.execute(key, params)
            row = cursor.fetchone()
            return str(row[0]) if row else None

        return await self._writer.write(run)

    async def forget(self, before: float) -> None:
        """Delete the links that expired before `before`."""
        sql = self._forget
        await self._writer.write(lambda cursor: cursor.execute(sql, {"before": before}))
