"""Streamable HTTP: `Host` and `Origin` checked first (DNS rebinding: 421 for a Host, 403 for an
Origin not allowed), then the caller's own bearer key, which the appliance must know
(`GET /key`): 401 without one or with one it refuses, 503 when it cannot be asked. The
server holds no key of its own and passes each caller's key only to the appliance it serves:
the key is Faxbot's, made for this appliance, not a third party's token."""

from __future__ import annotations

import json

from faxbot_client import AuthenticationError, FaxbotError
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from faxbot_mcp.appliance import Appliance
from faxbot_mcp.server import bearer

PATH = "/mcp"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="faxbot-mcp"'}


def security(host: str, hosts: list[str], origins: list[str]) -> TransportSecuritySettings:
    """The Host and Origin values allowed: the loopback names (any port) when bound to
    loopback, else `host` itself; plus those given."""
    names = list(LOOPBACK) if host in LOOPBACK else [host]
    bracket = [f"[{n}]" if ":" in n else n for n in names]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{n}:*" for n in bracket] + [*bracket, *hosts],
        allowed_origins=[f"http://{n}:*" for n in bracket] + origins,
    )


def _refusal(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"jsonrpc": "2.0", "id": None, "error": {"code": -32001, "message": message}}
    return Response(json.dumps(body), status, headers, media_type="application/json")


class BearerGate:
    """ASGI middleware in front of the MCP endpoint."""

    def __init__(
        self, app: ASGIApp, appliance: Appliance, settings: TransportSecuritySettings
    ) -> None:
        self.app = app
        self.appliance = appliance
        self.checks = TransportSecurityMiddleware(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != PATH:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refused = await self.checks.validate_request(request, is_post=False)
        if refused is None:
            refused = await self._authenticate(request)
        if refused is not None:
            await refused(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _authenticate(self, request: Request) -> Response | None:
        token = bearer(request.headers)
        if token is None:
            return _refusal(
                401, "missing API key: send Authorization: Bearer <your Faxbot API key>", CHALLENGE
            )
        try:
            await self.appliance.identity(token)
        except AuthenticationError:
            return _refusal(401, "the appliance refused this API key", CHALLENGE)
        except FaxbotError as exc:
            if exc.status is None or exc.status >= 500:
                return _refusal(503, "the Faxbot appliance cannot be reached; retry later")
            return _refusal(401, f"the appliance refused this API key: {exc.message}", CHALLENGE)
        return None
