"""API keys from the artifact. A presented token is hashed once (SHA-256: tokens are random,
32+ bytes, so no slow KDF is needed) and compared with every key's hash in constant time,
without an early exit. Scopes are checked per route; there is no unauthenticated mode."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from faxbot.keys import parse_expiry
from faxbot.server.errors import ApiError

SCOPE_OPT = "scope"
UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Bearer realm="faxbot"'}


@dataclass(frozen=True)
class ApiKey:
    id: str
    digest: bytes
    scopes: frozenset[str]
    expires_at: float | None


def _expiry(text: str | None) -> float | None:
    if not text:
        return None
    parsed = parse_expiry(text)
    if parsed is None:
        return None
    if parsed.tzinfo is None:  # a date: 00:00 UTC of that day
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


class KeyRing:
    def __init__(
        self, entries: Iterable[Mapping[str, Any]], clock: Callable[[], float] = time.time
    ) -> None:
        self._keys = [
            ApiKey(
                e["id"],
                bytes.fromhex(e["sha256"]),
                frozenset(e["scopes"]),
                _expiry(e.get("expires")),
            )
            for e in entries
        ]
        self._clock = clock

    def __len__(self) -> int:
        return len(self._keys)

    def authenticate(self, token: str) -> ApiKey | None:
        digest = hashlib.sha256(token.encode("utf-8")).digest()
        found: ApiKey | None = None
        for key in self._keys:  # no early exit: the time does not depend on which key matched
            if hmac.compare_digest(digest, key.digest):
                found = key
        if found is None:
            return None
        if found.expires_at is not None and self._clock() >= found.expires_at:
            return None
        return found


def presented_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    token = connection.headers.get("x-api-key")
    if token:
        return token.strip()
    authorization = connection.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def require_scope(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Litestar guard: a valid key (401 otherwise) holding the route's scope (403 otherwise).
    Async although it never awaits: Litestar runs a sync guard in a worker thread."""
    keyring: KeyRing = connection.app.state.keyring
    token = presented_token(connection)
    key = keyring.authenticate(token) if token else None
    if key is None:
        message = "missing API key" if not token else "invalid or expired API key"
        raise ApiError(
            401,
            message,
            {"accepted": ["X-API-Key", "Authorization: Bearer"]},
            headers=UNAUTHORIZED_HEADERS,
        )
    connection.state.api_key = key
    scope = handler.opt.get(SCOPE_OPT)
    if scope and scope not in key.scopes:
        raise ApiError(
            403,
            f"this API key lacks the scope {scope}",
            {"required_scope": scope, "key_id": key.id},
        )


def utc_iso(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )
