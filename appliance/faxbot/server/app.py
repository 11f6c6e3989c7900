"""The composition root: `create_app` takes the compiled artifact and returns the Litestar app.
Nothing happens at import; nothing reads the environment except through `env` here. Route
handlers get what they use (the job service, the plugin views, the artifact) through
Litestar's dependency injection."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler

from faxbot.artifact import load_artifact
from faxbot.plugins.discovery import PluginSource
from faxbot.plugins.host import check_pins
from faxbot.server import console_serving, logs
from faxbot.server.auth import KeyRing, RequireScope
from faxbot.server.diagnostics import DiagnosticsService
from faxbot.server.errors import EXCEPTION_HANDLERS
from faxbot.server.lifecycle import Appliance
from faxbot.server.openapi import openapi_config
from faxbot.server.plugin_views import PluginViews, load_registry
from faxbot.server.ratelimit import RateLimits
from faxbot.server.recent_errors import RecentErrors
from faxbot.server.request_ids import send_request_id
from faxbot.server.requestlog import RequestLog
from faxbot.server.routes import (
    diagnostics,
    documents,
    fax,
    handlers,
    inbound,
    keys,
    plugins,
    system,
    webhooks,
)

MULTIPART_SLACK = 64 * 1024  # form overhead allowed beyond the document limit
# What route handlers may ask for by parameter name (Litestar's dependency injection).
DEPENDENCIES = ("jobs", "inbound", "plugins", "artifact", "appliance", "audit", "diagnostics")


def route_handlers(operations: Iterable[str] | None = None) -> list[HTTPRouteHandler]:
    """The handlers of `operations` and the ones outside the catalog (health, the 405); all
    of them when None. Codegen builds the spec from all of them: the API's one source."""
    entries = [
        *fax.HANDLERS,
        *inbound.HANDLERS,
        *plugins.HANDLERS,
        *system.HANDLERS,
        *diagnostics.HANDLERS,
    ]
    return handlers([*entries, *keys.HANDLERS], operations)


def described_app(handlers: list[HTTPRouteHandler]) -> Litestar:
    """An app that only describes `handlers` (codegen builds the spec from it): the same
    dependency names as `create_app`, whose providers are never called."""

    def never(name: str) -> Provide:
        def provider() -> None:  # one function per name: Litestar tells providers apart by it
            raise RuntimeError(f"a described app does not serve requests ({name})")

        return Provide(provider, sync_to_thread=False)

    return Litestar(
        route_handlers=handlers,
        dependencies={name: never(name) for name in DEPENDENCIES},
        openapi_config=openapi_config(),
    )


def create_app(
    artifact_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    source: PluginSource | None = None,
    registry_path: Path | None = None,
    workdir: Path | None = None,
    log_level: str = "info",
    new_database: bool = False,
    console_dir: Path = console_serving.FOLDER,
) -> Litestar:
    """Load the artifact (ArtifactError if it cannot be trusted), check the installed plugins
    against its pins (StartupError), and build the app. Plugins start in the app's lifespan.
    `new_database` lets the start create an empty database where data_dir's marker says one
    existed (`faxbot serve --new-database`). `console_dir` holds the admin console's built
    files, served at /admin."""
    logger = logs.configure(log_level)
    artifact = load_artifact(artifact_path)
    installed = check_pins(artifact, source or PluginSource(check_schemas=False))
    appliance = Appliance(
        artifact,
        installed,
        dict(os.environ if env is None else env),
        logger,
        workdir or Path.cwd(),
        new_database=new_database,
    )
    views = PluginViews(artifact, installed, load_registry(registry_path))
    # Fed by the appliance's logger from before the plugins start until after they stop.
    recent_errors = RecentErrors(plugins=artifact.plugins)
    limits = artifact.appliance.limits

    def provide(value: Any) -> Provide:
        return Provide(lambda: value, use_cache=True, sync_to_thread=False)

    dependencies = {
        # Cached once it exists (the lifespan made it before the first request); before
        # that, or with no outbound transport, asking for it answers 503.
        "jobs": Provide(lambda: appliance.jobs, use_cache=True, sync_to_thread=False),
        "inbound": Provide(lambda: appliance.inbound, use_cache=True, sync_to_thread=False),
        "plugins": provide(views),
        "artifact": provide(artifact),
        "appliance": provide(appliance),
        "audit": Provide(lambda: appliance.audit, sync_to_thread=False),
        "diagnostics": provide(DiagnosticsService(appliance, installed, recent_errors)),
    }
    assert tuple(dependencies) == DEPENDENCIES
    app = Litestar(
        route_handlers=[
            *route_handlers(artifact.surface.operations),
            webhooks.handler(limits.webhook_body_bytes),
            documents.get_document_link,
            *console_serving.handlers(console_dir),
        ],
        dependencies=dependencies,
        lifespan=[lambda _app: recent_errors.installed(logger), appliance.lifespan],
        state=State(
            {
                "appliance": appliance,
                "keyring": KeyRing(artifact.api_keys, default_rate_limit=limits.key_rate_limit),
                "rate_limits": RateLimits(limits.unauthenticated_rate_limit),
                "audit": None,  # the audit log, once the lifespan opened it
                "token_validator": None,  # the auth plugin, once started
                "upload_max_bytes": limits.upload_max_bytes,
                "legacy_calls": system.LegacyCalls(logger),
            }
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=limits.upload_max_bytes + MULTIPART_SLACK,
        middleware=[RequireScope],
        before_send=[send_request_id],
        # No spec rendering and no schema pages here (Litestar's load their code from a CDN):
        # GET /openapi.json serves the committed spec (routes/system.py).
        openapi_config=None,
        logging_config=None,
        debug=False,
    )
    # The request log goes around the app's exception handlers, not around each route (where
    # Litestar puts `middleware`): an unknown route's 404 and a refused key's 401 are answered
    # by those handlers, and are logged with their status only from out here.
    app.asgi_handler = RequestLog(app.asgi_handler, appliance.metrics.http)
    return app
