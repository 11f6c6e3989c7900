"""The MCP tool manifest `{"tools": [...]}` that both MCP servers (sdks/python/faxbot_mcp and
sdks/node/mcp) read: one tool per operation a catalog capability names in `mcp_tools`, for
which the spec has the operation. Each tool has its `inputSchema` (the operation's parameters;
for `send_fax` the MCP inputs `to` plus one of `text`, `path`, `content_base64` instead of the
REST multipart), its `outputSchema` (the operation's JSON answer with every `$ref` inlined, so
that the structured content a server returns is checked against it), annotations, and in
`_meta` what a server needs to call the REST API and gate the tool (operation, capability,
scope, the arguments only stdio offers, the document limit). Copies ship as package data in
each server's package (COPIES), written by codegen like every other output."""

from __future__ import annotations

import json
import math
from importlib import resources
from typing import Any

from faxbot.catalog import load_catalog

from faxbot_codegen.outputs import NOTICE

PATH = "docs/mcp/tools.json"
COPIES = ("sdks/python/faxbot_mcp/tools.json", "sdks/node/mcp/tools.json")
SEND_FAX = "send_fax"
INBOUND_PDF = "get_inbound_pdf"
# The largest PDF a result embeds (base64 in an embedded resource): a fax page or two. A larger
# one is saved with `save_as` (stdio) or downloaded from the REST API.
EMBED_MAX_BYTES = 128 * 1024

# The one-line text each server puts before a result's JSON: `{field}` is a field of the
# structured content (null reads "none"), `{count}` the length of its `items`.
SUMMARIES = {
    "send_fax": "Fax job {id} to {to} is {status}; follow it with get_fax_status.",
    "get_fax_status": "Fax job {id} to {to}: {status}, {pages} pages, error: {error}.",
    "list_faxes": "{count} fax jobs on this page; next_cursor: {next_cursor}.",
    "list_inbound": "{count} received faxes on this page; next_cursor: {next_cursor}.",
    "get_inbound": "Received fax {id}.",
    "get_inbound_pdf": "PDF of received fax {id}: {size_bytes} bytes; embedded: {embedded}; "
    "saved to: {saved_to}.",
}

# What an assistant can do about a failure, by the appliance's status (or what went wrong
# before an answer): both servers end a tool error's text with it.
ERROR_HINTS = {
    "400": "Fix the arguments the message names and call again.",
    "401": "The API key is missing, wrong or expired: the user must configure a valid key "
    "(FAXBOT_API_KEY over stdio, the bearer key over HTTP).",
    "403": "This API key lacks the scope for this tool: ask the operator for a key with it; "
    "retrying will not help.",
    "404": "Nothing has that id for this key: check the id (list_faxes lists this key's jobs).",
    "413": "The document is too large for the appliance: send a smaller document or fewer pages.",
    "415": "The document is neither a PDF nor UTF-8 text: send a PDF or plain text.",
    "422": "The appliance refused the request as it stands (the message says why: the "
    "document, or the recipient's number under the destination policy): change what it names; "
    "sending the same again will not help.",
    "429": "Too many requests: wait the time the message gives, then retry.",
    "5xx": "The appliance could not do it now: retry in a minute; if it persists, tell the "
    "user the fax appliance needs attention.",
    "unreachable": "The fax appliance did not answer (down, or too slow): retry in a minute; if "
    "it persists, tell the user the appliance at FAXBOT_URL is unreachable.",
    "arguments": "Fix the arguments as the message says and call again.",
}


def document_max_bytes() -> int:
    """The appliance's default upload limit (appliance.limits.upload_max_bytes): the one
    source for the size a `content_base64` document may decode to."""
    schema = json.loads(
        resources.files("faxbot.config").joinpath("fragment.schema.json").read_text("utf-8")
    )
    limits = schema["properties"]["appliance"]["properties"]["limits"]["properties"]
    return int(limits["upload_max_bytes"]["default"])


def _operations(spec: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    found = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "operationId" in operation:
                found[operation["operationId"]] = (method.upper(), path, operation)
    return found


def _inline(schema: Any, components: dict[str, Any]) -> Any:
    """`schema` with every `#/components/schemas/X` reference replaced by X itself (without
    its `title`): a tool's schemas stand alone, as MCP clients read them."""
    if isinstance(schema, list):
        return [_inline(item, components) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        target = {k: v for k, v in components[name].items() if k != "title"}
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return {**_inline(target, components), **_inline(rest, components)}
    return {key: _inline(value, components) for key, value in schema.items() if key != "title"}


def _argument_name(parameter: dict[str, Any]) -> str:
    return str(parameter["name"]).lower().replace("-", "_")


def _parameters(operation: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """The operation's path, query and header parameters as an object schema."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for parameter in operation.get("parameters", []):
        name = _argument_name(parameter)
        schema = _inline(dict(parameter.get("schema", {})), components)
        if "oneOf" in schema:  # Optional[X]: an optional argument of the non-null type
            schema = {**next(s for s in schema.pop("oneOf") if s.get("type") != "null"), **schema}
        if parameter.get("description"):
            schema["description"] = parameter["description"]
        properties[name] = schema
        if parameter.get("required"):
            required.append(name)
    return {"type": "object", "properties": properties, "required": sorted(required)}


def _send_fax_input(operation: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """`to` and the Idempotency-Key from the spec; the document as one of three MCP inputs
    instead of the multipart file. "Exactly one of" is said in the descriptions and enforced
    by the servers (a tool error), not as a top-level oneOf: several assistants' APIs refuse
    a tool whose input schema has one."""
    form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    headers = _parameters(operation, components)["properties"]
    limit = document_max_bytes()
    one_of = "Give exactly one of `text`, `path` and `content_base64`."
    properties = {
        "to": _inline(form["properties"]["to"], components),
        "text": {
            "type": "string",
            "minLength": 1,
            "description": "The document as plain text; the appliance renders it to PDF. " + one_of,
        },
        "path": {
            "type": "string",
            "minLength": 1,
            "description": "A PDF or text file on the machine running the MCP server, inside "
            "one of its document directories (stdio only; symlinks are resolved before the "
            "check). " + one_of,
        },
        "content_base64": {
            "type": "string",
            "contentEncoding": "base64",
            "maxLength": 4 * math.ceil(limit / 3),
            "description": f"The document (PDF or UTF-8 text), base64-encoded; at most "
            f"{limit} bytes once decoded. " + one_of,
        },
        **headers,
    }
    return {"type": "object", "properties": properties, "required": ["to"]}


def _inbound_pdf_output() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "The received fax."},
            "content_type": {"type": "string", "const": "application/pdf"},
            "size_bytes": {"type": "integer", "minimum": 0},
            "sha256": {"type": "string", "description": "Hex SHA-256 of the PDF."},
            "embedded": {
                "type": "boolean",
                "description": "Whether the PDF is in this result as an embedded resource.",
            },
            "saved_to": {
                "type": ["string", "null"],
                "description": "The file the server saved the PDF to (stdio with `save_as`).",
            },
        },
        "required": ["id", "content_type", "size_bytes", "sha256", "embedded", "saved_to"],
    }


def _inbound_pdf_input(operation: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    schema = _parameters(operation, components)
    schema["properties"]["save_as"] = {
        "type": "string",
        "minLength": 1,
        "description": "A file name to save the PDF under, inside the server's save "
        "directory (stdio only). Without it the PDF is embedded in the result when it is "
        "small enough.",
    }
    return schema


def _output(operation: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    for status, response in sorted(operation["responses"].items()):
        if status.startswith("2"):
            media = response.get("content", {}).get("application/json")
            if media is not None:
                schema: dict[str, Any] = _inline(media["schema"], components)
                return schema
    raise ValueError(f"{operation['operationId']}: no JSON success answer to describe")


def _tool(
    name: str, capability: str, spec_operation: tuple[str, str, dict[str, Any]], spec: Any
) -> dict[str, Any]:
    catalog = load_catalog()
    method, path, operation = spec_operation
    components = spec.get("components", {}).get("schemas", {})
    meta: dict[str, Any] = {
        "faxbot/operationId": name,
        "faxbot/method": method,
        "faxbot/path": path,
        "faxbot/capability": capability,
        "faxbot/scope": catalog.operations[name].scope,
    }
    if name == SEND_FAX:
        inputs = _send_fax_input(operation, components)
        meta["faxbot/stdioOnly"] = ["path"]
        meta["faxbot/documentMaxBytes"] = document_max_bytes()
    elif name == INBOUND_PDF:
        inputs = _inbound_pdf_input(operation, components)
        meta["faxbot/stdioOnly"] = ["save_as"]
        meta["faxbot/embedMaxBytes"] = EMBED_MAX_BYTES
    else:
        inputs = _parameters(operation, components)
    output = _inbound_pdf_output() if name == INBOUND_PDF else _output(operation, components)
    read_only = method == "GET"
    summary = operation.get("summary", name)
    description = catalog.capabilities[capability].description
    return {
        "name": name,
        "title": summary,
        "description": f"{summary}. {description}",
        "inputSchema": {**inputs, "additionalProperties": False},
        "outputSchema": output,
        "annotations": {
            "title": summary,
            "readOnlyHint": read_only,
            "destructiveHint": False,
            "idempotentHint": read_only,
            "openWorldHint": not read_only,  # a write reaches a fax provider
        },
        "_meta": {**meta, "faxbot/summary": SUMMARIES[name]},
    }


def build_manifest(spec: dict[str, Any]) -> dict[str, Any]:
    catalog = load_catalog()
    operations = _operations(spec)
    tools = [
        _tool(name, capability.name, operations[name], spec)
        for capability in catalog.capabilities.values()
        for name in capability.mcp_tools
        if name in operations  # no handler yet: no tool
    ]
    return {
        "$comment": NOTICE,
        "errorHints": ERROR_HINTS,
        "tools": sorted(tools, key=lambda t: t["name"]),
    }


def render(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
