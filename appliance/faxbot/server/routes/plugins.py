"""GET /plugins, /plugins/{id}, /plugins/{id}/config, /plugin-registry; and the 405 that
explains config is changed through config.d, never through the API."""

from __future__ import annotations

from typing import Any

from litestar import Request, route
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from faxbot.audit import Action, AuditLog, ConfigDetail, Outcome
from faxbot.server.auth import api_key_of
from faxbot.server.error_codes import ErrorCode
from faxbot.server.errors import ApiError
from faxbot.server.models import PluginConfig, PluginDetail, PluginSummary
from faxbot.server.openapi import errors
from faxbot.server.plugin_views import PluginViews
from faxbot.server.routes import Operation, operation

READ_ONLY = {
    "how": "Edit the plugin's settings in config.d in a pull request; CI runs "
    "`faxbot config check` and `faxbot config plan`, the image build runs "
    "`faxbot config compile`, and the new image is deployed.",
    "docs": "docs/config.md",
}


@operation(
    "list_plugins",
    tags=["plugins"],
    responses=errors(401, 403),
    summary="Plugins this appliance's artifact names",
)
async def list_plugins(plugins: NamedDependency[PluginViews]) -> list[PluginSummary]:
    return [plugins.summary(plugin_id) for plugin_id in plugins.ids()]


@operation(
    "get_plugin",
    tags=["plugins"],
    responses=errors(400, 401, 403, 404),
    summary="A plugin's manifest and enabled state",
)
async def get_plugin(
    plugins: NamedDependency[PluginViews], plugin_id: FromPath[str]
) -> PluginDetail:
    return plugins.detail(plugin_id)


@operation(
    "get_plugin_config",
    tags=["plugins"],
    responses=errors(400, 401, 403, 404),
    summary="A plugin's settings, secrets masked",
)
async def get_plugin_config(
    request: Request[Any, Any, Any],
    plugins: NamedDependency[PluginViews],
    audit: NamedDependency[AuditLog | None],
    plugin_id: FromPath[str],
) -> PluginConfig:
    config = plugins.config(plugin_id)
    if audit is not None:
        detail = ConfigDetail(plugin=plugin_id)
        key_id = api_key_of(request).id
        await audit.record(Action.CONFIG_READ, Outcome.OK, key_id=key_id, detail=detail)
    return config


@route(
    "/plugins/{plugin_id:str}/config",
    http_method=["PUT", "PATCH", "POST", "DELETE"],
    include_in_schema=False,
    status_code=405,
)
async def change_plugin_config(plugin_id: FromPath[str]) -> None:
    raise ApiError(
        ErrorCode.METHOD_NOT_ALLOWED,
        "configuration is read-only: this appliance runs a compiled artifact",
        {**READ_ONLY, "plugin": plugin_id[:64]},
        headers={"Allow": "GET"},
    )


@operation(
    "get_plugin_registry",
    tags=["plugins"],
    responses=errors(401, 403),
    summary="The curated plugin registry",
)
async def get_plugin_registry(plugins: NamedDependency[PluginViews]) -> dict[str, Any]:
    return plugins.registry()


HANDLERS: list[Operation | HTTPRouteHandler] = [
    list_plugins,
    get_plugin,
    get_plugin_config,
    change_plugin_config,
    get_plugin_registry,
]
