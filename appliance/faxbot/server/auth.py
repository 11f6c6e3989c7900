"""API keys from the artifact. A presented token is hashed once (SHA-256: tokens are random,
32+ bytes, so no slow KDF is needed) and compared with every key's hash in constant time,
without an early exit. Scopes are checked per route; there is no unauthenticated mode.

Rates are limited here too (ratelimit.py): each key's requests, and per client address the
requests without a valid key. An address over its limit is answered 429 before its key is even
checked, so that guessing keys is bounded."""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from faxbot.artifact import ApiKeyEntry, RateLimit
from faxbot.audit import AuditLog, Outcome
from faxbot.jobs.service import Caller
from faxbot.keys import expiry_instant
from faxbot.plugins.contract import TokenValidator
from faxbot.server.auditing import AUDITED
from faxbot.server.error_codes import ErrorCode
from faxbot.server.errors import ApiError
from faxbot.server.ratelimit import RateLimits
from faxbot.server.requestlog import REFUSED_KEY

SCOPE_OPT = "scope"
KEY_OPT = "key"  # a route that needs a valid key but no scope (opt={KEY_OPT: True})
OPERATION_OPT = "operation"  # the catalog's operationId, for the audit log
UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Bearer realm="faxbot"'}
READ_ALL_SCOPE = "fax:read_all"  # reads every key's jobs, not only the key's own
INBOUND_READ_ALL_SCOPE = "inbound:read_all"  # every number's received faxes
UNAUTHENTICATED = (ErrorCode.MISSING_API_KEY, ErrorCode.INVALID_API_KEY)


@dataclass(frozen=True)
class ApiKey:
    """A caller: a key of the artifact, or a principal of the auth plugin (no digest)."""

    id: str
    digest: bytes
    scopes: frozenset[str]
    expires_at: float | None
    rate_limit: RateLimit | None = None
    inbound_numbers: frozenset[str] = frozenset()

    @property
    def caller(self) -> Caller:
        return Caller(
            self.id,
            reads_all=READ_ALL_SCOPE in self.scopes,
            inbound_numbers=self.inbound_numbers,
            reads_all_inbound=INBOUND_READ_ALL_SCOPE in self.scopes,
        )


def _expiry(text: str | None) -> float | None:
    ends = expiry_instant(text) if text else None
    return ends.timestamp() if ends is not None else None


class KeyRing:
    def __init__(
        self,
        entries: Iterable[ApiKeyEntry],
        clock: Callable[[], float] = time.time,
        default_rate_limit: RateLimit | None = None,
    ) -> None:
        self.default_rate_limit = default_rate_limit  # of keys without one, plugin principals
        self._keys = [
            ApiKey(
                e.id,
                bytes.fromhex(e.sha256),
                frozenset(e.scopes),
                _expiry(e.expires),
                default_rate_limit if e.rate_limit is msgspec.UNSET else e.rate_limit,
                frozenset(e.inbound_numbers),
            )
            for e in entries
        ]
        self.ids = frozenset(key.id for key in self._keys)
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


def presented_token(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The token of `X-API-Key`, else of `Authorization: Bearer`, from raw ASGI headers."""
    bearer: str | None = None
    for name, value in headers:
        if name == b"x-api-key":
            token = value.decode("latin-1").strip()
            if token:
                return token
        elif name == b"authorization":
            scheme, _, rest = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and rest.strip():
                bearer = rest.strip()
    return bearer


class RequireScope:
    """ASGI middleware: a route whose handler names a scope (`opt={SCOPE_OPT: ...}`) needs a
    valid key (401 otherwise) holding that scope (403 otherwise); one marked
    `opt={KEY_OPT: True}` needs a valid key, any scope. The key is put in the connection
    state as `api_key`. A middleware rather than a Litestar guard: Litestar copies
    the route handler for every guard call, a fifth of the cost of a small request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler") if scope["type"] == ScopeType.HTTP else None
        required = handler.opt.get(SCOPE_OPT) if handler is not None else None
        if handler is not None and (required or handler.opt.get(KEY_OPT)):
            state = scope["litestar_app"].state
            limits: RateLimits = state.rate_limits
            client = scope.get("client")
            address = client[0] if client else ""
            wait = limits.address_wait(address)
            if wait:  # too many requests without a valid key: no key is checked until then
                raise rate_limited(wait, {"limit": "unauthenticated"})
            try:
                key = await authenticate(state, presented_token(scope["headers"]))
                wait = await limits.key_request(key.id, key.rate_limit)
                if wait:
                    scope.setdefault("state", {})[REFUSED_KEY] = key.id
                    raise rate_limited(wait, {"limit": "key", "key_id": key.id})
                check_scope(key, required)
            except ApiError as exc:
                if exc.code in UNAUTHENTICATED:
                    limits.unauthenticated_request(address)
                scope.setdefault("state", {})[REFUSED_KEY] = exc.details.get("key_id")
                if exc.code is not ErrorCode.RATE_LIMITED:  # a flood is not written down
                    await _record_denied(state.audit, handler.opt.get(OPERATION_OPT), exc)
                raise
            scope.setdefault("state", {})["api_key"] = key
        await self.app(scope, receive, send)


def rate_limited(seconds: int, details: dict[str, Any]) -> ApiError:
    return ApiError(
        ErrorCode.RATE_LIMITED,
        f"too many requests; retry in {seconds} s",
        {**details, "retry_after": seconds},
        headers={"Retry-After": str(max(1, math.ceil(seconds)))},
    )


async def _record_denied(audit: AuditLog | None, operation_id: str | None, exc: ApiError) -> None:
    action = AUDITED.get(operation_id or "")
    if audit is None or action is None:
        return
    await audit.record(action, Outcome.DENIED, key_id=exc.details.get("key_id"))


def api_key_of(connection: ASGIConnection[Any, Any, Any, Any]) -> ApiKey:
    """The key RequireScope accepted for this request (read from the scope: Litestar's
    `request.state` builds a new State object on every access)."""
    key: ApiKey = connection.scope["state"]["api_key"]
    return key


def caller_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Caller:
    """Who this request is, for the job service: the key's id and whether it reads all."""
    return api_key_of(connection).caller


async def authenticate(state: Any, token: str | None) -> ApiKey:
    """The key `token` names; else ApiError 401. The artifact's keys are asked first; a token
    they do not know goes to the auth plugin, when one is enabled (`state.token_validator`).
    A principal of the plugin owns the jobs it creates under its `key_id`; one that names a key
    of the artifact is refused, so that it cannot read that key's jobs."""
    keyring: KeyRing = state.keyring
    key = keyring.authenticate(token) if token else None
    validator: TokenValidator | None = state.token_validator
    if key is None and token and validator is not None:
        grant = await validator.validate_token(token)
        if grant is not None and grant.key_id not in keyring.ids:
            key = ApiKey(
                grant.key_id, b"", frozenset(grant.scopes), None, keyring.default_rate_limit
            )
    if key is None:
        code = ErrorCode.INVALID_API_KEY if token else ErrorCode.MISSING_API_KEY
        message = "missing API key" if not token else "invalid or expired API key"
        raise ApiError(
            code,
            message,
            {"accepted": ["X-API-Key", "Authorization: Bearer"]},
            headers=UNAUTHORIZED_HEADERS,
        )
    return key


def check_scope(key: ApiKey, required: str | None) -> None:
    """ApiError 403 unless `key` holds the scope `required` (None: any key will do)."""
    if required is not None and required not in key.scopes:
        raise ApiError(
            ErrorCode.MISSING_SCOPE,
            f"this API key lacks the scope {required}",
            {"required_scope": required, "key_id": key.id},
        )
