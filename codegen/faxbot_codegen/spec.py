"""docs/openapi.json from the route handlers (all of them: the spec describes every
operation the appliance can serve; a given artifact serves a subset), and its copy in the
appliance package, which the appliance serves at GET /openapi.json."""

from __future__ import annotations

import json
from typing import Any

from faxbot.catalog import load_catalog
from faxbot.server.app import described_app, route_handlers
from faxbot.server.request_ids import HEADER as REQUEST_ID

from faxbot_codegen.outputs import COMMAND, NOTICE

PATH = "docs/openapi.json"
PACKAGED = "appliance/faxbot/server/openapi.json"  # package data, served at GET /openapi.json
REQUEST_ID_HEADER = {
    "description": "The request's id: the client's own X-Request-Id when it sent a sane one "
    "(1-128 characters of [A-Za-z0-9._:-]), else one the appliance made. Error bodies repeat "
    "it in `request_id`; the appliance log has it on the request's line.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[A-Za-z0-9._:-]+$"},
}


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
            for response in operation.get("responses", {}).values():
                response.setdefault("headers", {})[REQUEST_ID] = {
                    "$ref": f"#/components/headers/{REQUEST_ID}"
                }
    spec["components"]["headers"] = {REQUEST_ID: REQUEST_ID_HEADER}
    return spec


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


__all__ = ["PACKAGED", "PATH", "build_spec", "render"]
