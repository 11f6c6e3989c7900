"""docs/openapi.json from the route handlers (all of them: the spec describes every
operation the appliance can serve; a given artifact serves a subset)."""

from __future__ import annotations

import json
from typing import Any

from faxbot.catalog import load_catalog
from faxbot.server.app import described_app, route_handlers

from faxbot_codegen.outputs import COMMAND, NOTICE

PATH = "docs/openapi.json"


def build_spec() -> dict[str, Any]:
    app = described_app(route_handlers())
    spec: dict[str, Any] = app.openapi_schema.to_schema()
    spec["info"]["x-generated-by"] = NOTICE
    spec["info"]["x-regenerate"] = COMMAND
    catalog = load_catalog()
    for path_item in spec["paths"].values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            declared = catalog.operations.get(operation["operationId"])
            if declared is not None:  # the scope is documented where clients look for it
                operation["x-faxbot-scope"] = declared.scope
    return spec


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


__all__ = ["PATH", "build_spec", "render"]
