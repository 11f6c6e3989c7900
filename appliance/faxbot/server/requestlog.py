"""One structured log line per request: method, path, status, milliseconds, key id and request
id. No other header, no query strings, no bodies: nothing there can carry a token or a
document into the log (the request id is checked to be a short plain string first)."""

from __future__ import annotations

import logging
import time
from typing import Any

from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from faxbot.server.request_ids import request_id

log = logging.getLogger("faxbot.request")


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        refused_key: str | None = None
        try:
            await self.app(scope, receive, recording_send)
        except HTTPException as exc:
            # Raised before a handler ran (the scope check's 401 and 403): the app's exception
            # handler answers it outside this middleware, so its status is taken from here.
            status = exc.status_code
            refused_key = (getattr(exc, "details", None) or {}).get("key_id")
            raise
        finally:
            state: Any = scope.get("state") or {}
            key = state.get("api_key") if isinstance(state, dict) else None
            log.info(
                "request",
                extra={
                    "event": "request",
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "ms": round((time.perf_counter() - began) * 1000, 2),
                    "key_id": getattr(key, "id", None) or refused_key,
                    "request_id": request_id(scope),
                },
            )
