"""GET /config, /health/live, /health/ready."""

from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec

from faxbot.artifact import Artifact
from faxbot.server.lifecycle import Appliance
from faxbot.server.models import ConfigSummary, Health
from faxbot.server.openapi import errors
from faxbot.server.routes import Operation, operation


@operation(
    "get_config",
    tags=["system"],
    responses=errors(401, 403),
    summary="The running configuration's identity (no secrets)",
)
async def get_config(artifact: NamedDependency[Artifact]) -> ConfigSummary:
    return ConfigSummary(
        fingerprint=artifact.fingerprint,
        profile=artifact.profile,
        compiled_at=artifact.build.compiled_at,
        source_revision=artifact.build.source_revision,
        operations=list(artifact.surface.operations),
        mcp_tools=list(artifact.surface.mcp_tools),
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
async def health_ready(appliance: NamedDependency[Appliance]) -> Response[Health]:
    checks = await appliance.readiness()
    ready = all(check["ok"] for check in checks.values())
    return Response(
        Health(status="ready" if ready else "not ready", checks=checks),
        status_code=200 if ready else 503,
    )


HANDLERS: list[Operation | HTTPRouteHandler] = [get_config, health_live, health_ready]
