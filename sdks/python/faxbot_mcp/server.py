"""The MCP server: `tools/list` and `tools/call` from the manifest, gated per caller. Over stdio
the caller is the key in FAXBOT_API_KEY; over HTTP each request's bearer key (checked before
the request reaches here, see http.py), so no two callers share an identity."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import mcp_types as types
from faxbot_client import FaxbotError
from mcp.server import Server, ServerRequestContext

from faxbot_mcp.appliance import Appliance
from faxbot_mcp.calls import Documents, call_tool
from faxbot_mcp.manifest import Manifest, ToolSpec, Transport

NAME = "faxbot"
VERSION = "3.0.0.dev0"
INSTRUCTIONS = (
    "Send faxes and follow them on a Faxbot appliance. send_fax queues a fax and returns its "
    "job; get_fax_status tells where it is (queued, in_progress, SUCCESS, FAILED). Received "
    "faxes, when this key may read them: list_inbound, get_inbound, get_inbound_pdf."
)
log = logging.getLogger("faxbot_mcp")


@dataclass(frozen=True)
class Settings:
    transport: Transport
    read_only: bool = False
    documents: Documents = field(default_factory=Documents)
    api_key: str | None = None  # stdio: the key of FAXBOT_API_KEY


def bearer(headers: Any) -> str | None:
    """The token of an `Authorization: Bearer` header, else None."""
    scheme, _, token = str(headers.get("authorization", "")).partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class Tools:
    """What one caller may list and call."""

    def __init__(self, manifest: Manifest, appliance: Appliance, settings: Settings) -> None:
        self.manifest = manifest
        self.appliance = appliance
        self.settings = settings

    def token(self, ctx: ServerRequestContext[Any, Any]) -> str:
        if self.settings.transport == "stdio":
            return self.settings.api_key or ""
        request = ctx.request
        return (bearer(request.headers) if request is not None else None) or ""

    async def visible(self, token: str) -> list[ToolSpec]:
        """The tools the key may use here; when the appliance cannot say (down, or the key
        refused), every tool of the manifest (read-only mode still applies): a call then
        answers with a tool error that says why, which helps an assistant more than no tools."""
        read_only = self.settings.read_only
        try:
            identity = await self.appliance.identity(token)
        except FaxbotError as exc:
            log.warning("GET /key failed, tools listed ungated: %s", exc)
            return self.manifest.visible(
                (t.operation_id for t in self.manifest.tools), read_only=read_only
            )
        return self.manifest.visible(identity.operations, read_only=read_only)

    async def list_tools(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        transport = self.settings.transport
        tools = await self.visible(self.token(ctx))
        return types.ListToolsResult(
            tools=[types.Tool.model_validate(tool.listing(transport)) for tool in tools]
        )

    async def call_tool(
        self, ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        token = self.token(ctx)
        try:
            return await call_tool(
                self.manifest,
                self.appliance,
                token,
                await self.visible(token),
                params.name,
                params.arguments,
                self.settings.transport,
                self.settings.documents,
            )
        except Exception:  # the server never crashes on a call; the log says what happened
            log.exception("tool %s failed unexpectedly", params.name)
            return types.CallToolResult(
                content=[types.TextContent(text=f"{params.name} failed inside faxbot-mcp")],
                is_error=True,
            )


def build_server(tools: Tools) -> Server[Any]:
    return Server(
        NAME,
        version=VERSION,
        title="Faxbot",
        instructions=INSTRUCTIONS,
        on_list_tools=tools.list_tools,
        on_call_tool=tools.call_tool,
    )
