"""Document links (`Deps.document_links`): a short-lived, single-use URL through which a
provider fetches a stored document (Phaxio's `content_url`), served at
`GET /documents/{token}` without an API key. The token is 32 random bytes; only its SHA-256
is stored, so the database does not hold a usable link. Given to plugins only when
`appliance.public_url` is set (a link must be reachable from the provider)."""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable

from faxbot.plugins.contract import DocumentLinks, DocumentNotFound, Storage, StoredDocument
from faxbot.store.links import LinkStore

MAX_TTL_SECONDS = 24 * 3600.0
PATH = "/documents/"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class DocumentLinkService(DocumentLinks):
    def __init__(
        self,
        store: LinkStore,
        public_url: str,
        logger: logging.Logger,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._base = public_url.rstrip("/") + PATH
        self._log = logger
        self._clock = clock
        self.storage: Storage | None = None  # set once the storage plugin started

    async def link(self, document: StoredDocument, ttl_seconds: float) -> str:
        token = secrets.token_urlsafe(32)
        ttl = min(max(float(ttl_seconds), 1.0), MAX_TTL_SECONDS)
        await self._store.add(digest(token), document.key, self._clock() + ttl)
        return self._base + token

    async def open(self, token: str) -> AsyncIterator[bytes] | None:
        """The document's chunks, once per link within its time; None otherwise."""
        if self.storage is None or not token or len(token) > 128:
            return None
        key = await self._store.take(digest(token))
        if key is None:
            return None
        try:
            chunks = await self.storage.get(key)
        except DocumentNotFound:
            return None
        self._log.info("document link used", extra={"event": "document_link_used"})
        return chunks
