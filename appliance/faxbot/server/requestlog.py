"""One structured log line per request: method, path, status, milliseconds, key id and request
id. No other header, no query strings, no bodies: nothing there can carry a token or a
document into the log (the request id is checked to be a short plain string first). The same
measurement feeds the request series of the metrics, by route template (never the raw path,
which may hold a job id)."""

from __future__ import annotations

import logging
import time
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from faxbot.metrics import HttpRecorder
from faxbot.server.request_ids import request_id

log = logging.getLogger("faxbot.request")


REFUSED_KEY = "refused_key_id"  # set in the scope's state by the scope check it refused
MAX_PATH = 256  # an unknown route's path is the client's text: a long one is cut


class RequestLog:
    """ASGI middleware around the whole app, outside its exception handlers (create_app puts
    it there), so every answer is logged with its real status: an unknown route's 404, the
    scope check's 401 and 403, the 500 of an unexpected error."""

    def __init__(self, app: ASGIApp, metrics: HttpRecorder) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            seconds = time.perf_counter() - began
            # Set by Litestar's router once a route matched (an unknown path has none).
            template: Any = scope.get("path_template")
            self.metrics.request(
                template if isinstance(template, str) else None, scope["method"], status, seconds
            )
            if log.isEnabledFor(logging.INFO):
                _log(scope, status, seconds)


def _log(scope: HTTPScope, status: int, seconds: float) -> None:
    state: Any = scope.get("state") or {}
    key = state.get("api_key") if isinstance(state, dict) else None
    refused = state.get(REFUSED_KEY) if isinstance(state, dict) else None
    log.info(
        "request",
        extra={
            "event": "request",
            "method": scope["method"],
            "path": scope["path"][:MAX_PATH],
            "status": status,
            "ms": round(seconds * 1000, 2),
            "key_id": getattr(key, "id", None) or refused,
            "request_id": request_id(scope),
        },
    )
