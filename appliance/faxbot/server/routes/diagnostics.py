"""GET /diagnostics: what a support ticket needs, secrets, numbers and tokens masked
(server/diagnostics.py builds it). Reading it is audited as a read of the configuration."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler

from faxbot.audit import Action, AuditLog, ConfigDetail, Outcome
from faxbot.server.auth import api_key_of
from faxbot.server.diagnostics import DiagnosticsService
from faxbot.server.models import Diagnostics
from faxbot.server.openapi import errors
from faxbot.server.routes import Operation, operation


@operation(
    "get_diagnostics",
    tags=["system"],
    responses=errors(401, 403),
    summary="The appliance's state for a support ticket: versions, checks, plugins, warnings "
    "and recent errors (secrets, numbers and tokens masked)",
)
async def get_diagnostics(
    request: Request[Any, Any, Any],
    diagnostics: NamedDependency[DiagnosticsService],
    audit: NamedDependency[AuditLog | None],
) -> Diagnostics:
    found = await diagnostics.diagnose()
    if audit is not None:
        key_id = api_key_of(request).id
        await audit.record(Action.CONFIG_READ, Outcome.OK, key_id=key_id, detail=ConfigDetail())
    return found


HANDLERS: list[Operation | HTTPRouteHandler] = [get_diagnostics]
