"""The appliance as the server sees it: one Python SDK client per API key (the caller's own:
no two callers share one), and each key's identity from `GET /key` (its id, scopes and the
operations it may call), remembered for a short while."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import anyio.to_thread
from faxbot_client import Faxbot

IDENTITY_SECONDS = 30.0  # a key's scopes change only with a new artifact; expiry is rare
MOST_KEYS = 256  # clients kept; the least recently used is closed past that


@dataclass(frozen=True)
class Identity:
    key_id: str
    scopes: frozenset[str]
    operations: frozenset[str]


@dataclass(frozen=True)
class Connection:
    url: str
    timeout: float = 30.0
    max_retries: int = 3


class Appliance:
    def __init__(self, connection: Connection, clock: Callable[[], float] = time.monotonic):
        self.connection = connection
        self._clients: OrderedDict[str, Faxbot] = OrderedDict()
        self._identities: dict[str, tuple[float, Identity]] = {}
        self._clock = clock

    def client(self, token: str) -> Faxbot:
        """The SDK client that calls with `token` (kept by the token's digest, not the token)."""
        digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
        found = self._clients.get(digest)
        if found is None:
            found = Faxbot(
                self.connection.url,
                token,
                timeout=self.connection.timeout,
                max_retries=self.connection.max_retries,
            )
            self._clients[digest] = found
            while len(self._clients) > MOST_KEYS:
                self._clients.popitem(last=False)[1].close()
        self._clients.move_to_end(digest)
        return found

    async def identity(self, token: str) -> Identity:
        """Who `token` is (FaxbotError when the appliance refuses it or cannot be reached)."""
        digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
        now = self._clock()
        cached = self._identities.get(digest)
        if cached is not None and now - cached[0] < IDENTITY_SECONDS:
            return cached[1]
        client = self.client(token)
        key = await anyio.to_thread.run_sync(client.get_key)
        identity = Identity(key.id, frozenset(key.scopes), frozenset(key.operations))
        self._identities[digest] = (now, identity)
        if len(self._identities) > MOST_KEYS:
            oldest = min(self._identities, key=lambda d: self._identities[d][0])
            del self._identities[oldest]
        return identity

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
