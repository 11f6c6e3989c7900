"""GET /config, /health/live, /health/ready; the spec at /openapi.json; the Prometheus series
at /metrics; and the legacy GET /health that Faxbot v2 clients call."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

from litestar import MediaType, Request, Response, get
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec

from faxbot.artifact import Artifact
from faxbot.metrics import CONTENT_TYPE
from faxbot.server.auth import KEY_OPT, SCOPE_OPT
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


SPEC = "openapi.json"  # package data: a copy of docs/openapi.json that `faxbot codegen` keeps


@cache
def packaged_spec() -> bytes:
    """The spec as committed in docs/openapi.json, byte for byte (read on first use)."""
    return resources.files("faxbot.server").joinpath(SPEC).read_bytes()


@get(
    "/openapi.json",
    include_in_schema=False,
    media_type=MediaType.JSON,
    cache=False,
    opt={KEY_OPT: True},
)
async def get_openapi() -> Response[bytes]:
    """Any valid API key, no scope: the spec names no key, setting or plugin of this
    appliance, but an unauthenticated caller learns nothing from an appliance it cannot use
    (the spec is public in the repository and the SDKs for those who need it without one)."""
    return Response(packaged_spec(), media_type=MediaType.JSON)


METRICS_SCOPE = "metrics:read"


@get("/metrics", include_in_schema=False, cache=False, opt={SCOPE_OPT: METRICS_SCOPE})
async def get_metrics(appliance: NamedDependency[Appliance]) -> Response[bytes]:
    """The appliance's series in the Prometheus text format, for a key with metrics:read.
    Not in the spec: a Prometheus server scrapes it, no SDK or MCP tool calls it. Rendered
    in a thread: the jobs gauge reads the database."""
    body = await asyncio.to_thread(appliance.metrics.render)
    return Response(body, media_type=CONTENT_TYPE)


class LegacyCalls:
    """Counts calls of a deprecated route and says so in the log: the first call, then at
    most one line a minute with the calls since the last line (a v2 client may poll it)."""

    INTERVAL = 60.0

    def __init__(self, logger: logging.Logger, clock: Callable[[], float] = time.monotonic) -> None:
        self._log = logger
        self._clock = clock
        self._last: float | None = None
        self._calls = 0

    def called(self, path: str, replacement: str) -> None:
        self._calls += 1
        now = self._clock()
        if self._last is not None and now - self._last < self.INTERVAL:
            return
        self._log.warning(
            "deprecated route called",
            extra={
                "event": "deprecated_route",
                "path": path,
                "replacement": replacement,
                "calls": self._calls,
            },
        )
        self._last, self._calls = now, 0


@get("/health", include_in_schema=False)
async def legacy_health(request: Request[Any, Any, Any]) -> dict[str, str]:
    """Faxbot v2's health check (`check_health()` of the v2 SDK): kept for those clients,
    deprecated for /health/live, and not in the spec so no SDK grows a method for it."""
    request.app.state.legacy_calls.called("/health", "/health/live")
    return {"status": "ok"}


HANDLERS: list[Operation | HTTPRouteHandler] = [
    get_config,
    health_live,
    health_ready,
    get_openapi,
    get_metrics,
    legacy_health,
]
