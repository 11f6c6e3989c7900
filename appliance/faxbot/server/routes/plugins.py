"""GET /plugins, /plugins/{id}, /plugins/{id}/config, /plugin-registry; and the 405 that
explains config is changed through config.d, never through the API."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, route
from litestar.params import FromPath

from faxbot.server.auth import SCOPE_OPT
from faxbot.server.errors import ApiError
from faxbot.server.models import PluginConfig, PluginDetail, PluginSummary
from faxbot.server.openapi import SECURITY, errors
from faxbot.server.runtime import Appliance

READ_ONLY = {
    "how": "Edit the plugin's settings in config.d in a pull request; CI runs "
    "`faxbot config check` and `faxbot config plan`, the image build runs "
    "`faxbot config compile`, and the new image is deployed.",
    "docs": "docs/config.md",
}


def _appliance(request: Request[Any, Any, Any]) -> Appliance:
    found: Appliance = request.app.state.appliance
    return found


def _known(appliance: Appliance, plugin_id: str) -> None:
    if plugin_id not in appliance.artifact["plugins"]:
        raise ApiError(
            404,
            f"no plugin {plugin_id[:64]!r} in this appliance's configuration",
            {"known": sorted(appliance.artifact["plugins"])},
        )


@get(
    "/plugins",
    operation_id="list_plugins",
    tags=["plugins"],
    security=SECURITY,
    responses=errors(401, 403),
    opt={SCOPE_OPT: "plugins:read"},
    summary="Plugins this appliance's artifact names",
)
async def list_plugins(request: Request[Any, Any, Any]) -> list[PluginSummary]:
    appliance = _appliance(request)
    return [appliance.plugin_summary(pid) for pid in sorted(appliance.artifact["plugins"])]


@get(
    "/plugins/{plugin_id:str}",
    operation_id="get_plugin",
    tags=["plugins"],
    security=SECURITY,
    responses=errors(400, 401, 403, 404),
    opt={SCOPE_OPT: "plugins:read"},
    summary="A plugin's manifest and enabled state",
)
async def get_plugin(request: Request[Any, Any, Any], plugin_id: FromPath[str]) -> PluginDetail:
    appliance = _appliance(request)
    _known(appliance, plugin_id)
    return appliance.plugin_detail(plugin_id)


@get(
    "/plugins/{plugin_id:str}/config",
    operation_id="get_plugin_config",
    tags=["plugins"],
    security=SECURITY,
    responses=errors(400, 401, 403, 404),
    opt={SCOPE_OPT: "plugins:read"},
    summary="A plugin's settings, secrets masked",
)
async def get_plugin_config(
    request: Request[Any, Any, Any], plugin_id: FromPath[str]
) -> PluginConfig:
    appliance = _appliance(request)
    _known(appliance, plugin_id)
    return appliance.plugin_config(plugin_id)


@route(
    "/plugins/{plugin_id:str}/config",
    http_method=["PUT", "PATCH", "POST", "DELETE"],
    include_in_schema=False,
    status_code=405,
)
async def change_plugin_config(plugin_id: FromPath[str]) -> None:
    raise ApiError(
        405,
        "configuration is read-only: this appliance runs a compiled artifact",
        {**READ_ONLY, "plugin": plugin_id[:64]},
        headers={"Allow": "GET"},
    )


@get(
    "/plugin-registry",
    operation_id="get_plugin_registry",
    tags=["plugins"],
    security=SECURITY,
    responses=errors(401, 403, 404),
    opt={SCOPE_OPT: "plugins:read"},
    summary="The curated plugin registry",
)
async def get_plugin_registry(request: Request[Any, Any, Any]) -> dict[str, Any]:
    registry = _appliance(request).registry
    if registry is None:
        raise ApiError(404, "no plugin registry installed with this appliance")
    return registry


HANDLERS = [list_plugins, get_plugin, get_plugin_config, change_plugin_config, get_plugin_registry]
