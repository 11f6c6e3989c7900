"""The composition root: `create_app` takes the compiled artifact and returns the Litestar app.
Nothing happens at import; nothing reads the environment except through `env` here."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.datastructures import State

from faxbot.config.artifact import load_artifact
from faxbot.plugins.discovery import PluginSource
from faxbot.plugins.host import check_pins
from faxbot.server import logs
from faxbot.server.auth import KeyRing, RequireScope
from faxbot.server.errors import EXCEPTION_HANDLERS
from faxbot.server.openapi import openapi_config
from faxbot.server.requestlog import RequestLog
from faxbot.server.routes import fax, plugins, system
from faxbot.server.runtime import Appliance, load_registry

ALWAYS = ("health_live", "health_ready")
MULTIPART_SLACK = 64 * 1024  # form overhead allowed beyond the document limit


def route_handlers(operations: Iterable[str] | None = None) -> list[Any]:
    """The handlers for `operations` (and the health checks); all of them when None. Codegen
    builds the spec from all of them: the one source of the API's shape."""
    served = None if operations is None else set(operations) | set(ALWAYS)
    return [
        handler
        for module in (fax, plugins, system)
        for handler in module.HANDLERS
        if served is None or handler.operation_id in served or handler.operation_id is None
    ]


def create_app(
    artifact_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    source: PluginSource | None = None,
    registry_path: Path | None = None,
    workdir: Path | None = None,
    log_level: str = "info",
) -> Litestar:
    """Load the artifact (ArtifactError if it cannot be trusted), check the installed plugins
    against its pins (StartupError), and build the app. Plugins start in the app's lifespan."""
    logger = logs.configure(log_level)
    artifact = load_artifact(artifact_path)
    installed = check_pins(artifact, source or PluginSource(check_schemas=False))
    appliance = Appliance(
        artifact,
        installed,
        dict(os.environ if env is None else env),
        logger,
        load_registry(registry_path),
        workdir or Path.cwd(),
    )
    served = set(artifact["surface"]["operations"]) | set(ALWAYS)
    handlers: list[Any] = [
        h
        for module in (fax, plugins, system)
        for h in module.HANDLERS
        if h.operation_id in served or h.operation_id is None
    ]
    limit = artifact["appliance"]["limits"]["upload_max_bytes"] + MULTIPART_SLACK
    return Litestar(
        route_handlers=handlers,
        lifespan=[appliance.lifespan],
        state=State({"appliance": appliance, "keyring": KeyRing(artifact["api_keys"])}),
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=limit,
        middleware=[RequestLog, RequireScope],
        openapi_config=openapi_config(),
        logging_config=None,
        debug=False,
    )
