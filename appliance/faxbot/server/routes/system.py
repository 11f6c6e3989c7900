"""GET /config, /health/live, /health/ready."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.openapi import ResponseSpec

from faxbot.server.auth import SCOPE_OPT
from faxbot.server.models import ConfigSummary, Health
from faxbot.server.openapi import SECURITY, errors
from faxbot.server.runtime import Appliance


@get(
    "/config",
    operation_id="get_config",
    tags=["system"],
    security=SECURITY,
    responses=errors(401, 403),
    opt={SCOPE_OPT: "admin:read"},
    summary="The running configuration's identity (no secrets)",
)
async def get_config(request: Request[Any, Any, Any]) -> ConfigSummary:
    artifact = request.app.state.appliance.artifact
    return ConfigSummary(
        fingerprint=artifact["fingerprint"],
        profile=artifact["profile"],
        compiled_at=artifact["build"]["compiled_at"],
        source_revision=artifact["build"]["source_revision"],
        operations=artifact["surface"]["operations"],
        mcp_tools=artifact["surface"]["mcp_tools"],
    )


@get("/health/live", operation_id="health_live", tags=["system"], summary="The process is up")
async def health_live() -> Health:
    return Health(status="ok", checks={})


@get(
    "/health/ready",
    operation_id="health_ready",
    tags=["system"],
    responses={
        503: ResponseSpec(Health, description="Not ready: see checks.", generate_examples=False)
    },
    summary="Artifact loaded, plugins started, storage and database reachable",
)
async def health_ready(request: Request[Any, Any, Any]) -> Response[Health]:
    appliance: Appliance = request.app.state.appliance
    checks = await appliance.readiness()
    ready = all(check["ok"] for check in checks.values())
    return Response(
        Health(status="ready" if ready else "not ready", checks=checks),
        status_code=200 if ready else 503,
    )


HANDLERS = [get_config, health_live, health_ready]
