"""The request id: the client's own `X-Request-Id` when it sent a sane one (1-128 characters of
`[A-Za-z0-9._:-]`), else one made here (a UUID4 in hex). Every response carries it in its
`X-Request-Id` header, an error body in `request_id`, and the request's log line in its
`request_id` field, so a client's report and the appliance log meet on one string. It is
decided once per request and kept in the ASGI scope: the handlers, the error handlers, the
request log and the response hook all read the same one."""

from __future__ import annotations

import re
import uuid
from typing import Any

from litestar.types import Message, Scope

HEADER = "X-Request-Id"
_RAW_HEADER = HEADER.lower().encode("latin-1")
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_STATE_KEY = "request_id"


def request_id(scope: Scope) -> str:
    """This request's id, decided on the first call."""
    state: dict[str, Any] = scope.setdefault("state", {})
    found: str | None = state.get(_STATE_KEY)
    if found is None:
        found = state[_STATE_KEY] = _from_client(scope) or uuid.uuid4().hex
    return found


def _from_client(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == _RAW_HEADER:
            text = value.decode("latin-1")
            return text if _SANE.fullmatch(text) else None
    return None


async def send_request_id(message: Message, scope: Scope) -> None:
    """Litestar's `before_send` hook: the id on every response, errors included (the hook
    runs outside the exception handlers, so it sees the answers to unknown routes too)."""
    if message["type"] == "http.response.start":
        headers = list(message.get("headers") or ())
        headers.append((_RAW_HEADER, request_id(scope).encode("latin-1")))
        message["headers"] = headers


__all__ = ["HEADER", "request_id", "send_request_id"]
