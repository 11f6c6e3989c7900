"""GET /key: the calling key's own id and scopes, and the operations it may call here. Any valid
key may ask about itself (and only about itself): an MCP server learns from it which tools a
caller's key may list and call, without holding a key of its own."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler

from faxbot.artifact import Artifact
from faxbot.catalog import load_catalog
from faxbot.server.auth import api_key_of
from faxbot.server.models import KeyInfo
from faxbot.server.openapi import errors
from faxbot.server.routes import Operation, operation


@operation(
    "get_key",
    tags=["system"],
    responses=errors(401),
    summary="The calling API key: its id, scopes and the operations it may call",
    description="Any valid key, no scope: the key's own id and scopes, and the operations this "
    "appliance serves (its active capabilities) that the key's scopes allow. MCP servers use it "
    "to list only the tools a caller may use.",
)
async def get_key(request: Request[Any, Any, Any], artifact: NamedDependency[Artifact]) -> KeyInfo:
    key = api_key_of(request)
    catalog = load_catalog()
    allowed = [
        operation_id
        for operation_id in sorted(artifact.surface.operations)
        if operation_id in catalog.operations
        and catalog.operations[operation_id].scope in (None, *key.scopes)
    ]
    return KeyInfo(id=key.id, scopes=sorted(key.scopes), operations=allowed)


HANDLERS: list[Operation | HTTPRouteHandler] = [get_key]
