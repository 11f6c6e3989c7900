"""The MCP tool manifest `{"tools": [...]}`: one tool per catalog capability that names one,
for which the spec has the operation. The input schema is the operation's parameters and
body (a binary file becomes base64 text, as MCP arguments are JSON); the REST operation,
capability and scope ride in `_meta` for the MCP servers, which call the REST API."""

from __future__ import annotations

import json
from typing import Any

from faxbot.catalog import load_catalog

from faxbot_codegen.outputs import NOTICE

PATH = "docs/mcp/tools.json"


def _operations(spec: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    found = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "operationId" in operation:
                found[operation["operationId"]] = (method.upper(), path, operation)
    return found


def _argument_name(parameter: dict[str, Any]) -> str:
    return str(parameter["name"]).lower().replace("-", "_")


def _input_schema(operation: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for parameter in operation.get("parameters", []):
        name = _argument_name(parameter)
        schema = dict(parameter.get("schema", {}))
        if "oneOf" in schema:  # Optional[str]: an optional argument of the non-null type
            schema = {**next(s for s in schema.pop("oneOf") if s.get("type") != "null"), **schema}
        if parameter.get("description"):
            schema["description"] = parameter["description"]
        properties[name] = schema
        if parameter.get("required"):
            required.append(name)
    body = operation.get("requestBody", {}).get("content", {})
    for media in body.values():
        form = media.get("schema", {})
        for name, declared in form.get("properties", {}).items():
            argument = dict(declared)
            if argument.get("format") == "binary":
                argument = {
                    "type": "string",
                    "contentEncoding": "base64",
                    "description": argument.get("description", "") + " Base64-encoded.",
                }
            properties[name] = argument
        required += form.get("required", [])
    return {
        "type": "object",
        "properties": properties,
        "required": sorted(set(required)),
        "additionalProperties": False,
    }


def build_manifest(spec: dict[str, Any]) -> dict[str, Any]:
    catalog = load_catalog()
    operations = _operations(spec)
    tools = []
    for capability in catalog.capabilities.values():
        if not capability.mcp_tool or not capability.operations:
            continue
        operation_id = capability.operations[0]
        if operation_id not in operations:
            continue  # no handler yet: no tool
        method, path, operation = operations[operation_id]
        read_only = method == "GET"
        tools.append(
            {
                "name": capability.mcp_tool,
                "description": f"{operation.get('summary', '')}. {capability.description}".strip(),
                "inputSchema": _input_schema(operation),
                "annotations": {
                    "title": operation.get("summary", capability.mcp_tool),
                    "readOnlyHint": read_only,
                    "destructiveHint": False,
                    "idempotentHint": read_only,
                    "openWorldHint": not read_only,  # a write reaches a fax provider
                },
                "_meta": {
                    "faxbot/operationId": operation_id,
                    "faxbot/method": method,
                    "faxbot/path": path,
                    "faxbot/capability": capability.name,
                    "faxbot/scope": catalog.operations[operation_id].scope,
                },
            }
        )
    return {"$comment": NOTICE, "tools": sorted(tools, key=lambda t: t["name"])}


def render(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
