"""The Node SDK's typed layer, `sdks/node/src/generated/`: one TypeScript interface per
component schema, and the operations table (operationId -> method, path, parameters,
scope, request and response types) the hand-written client in `sdks/node/src/` calls
through. Everything comes from the spec; the templates are in `templates/node/`.

The admin console's API types, `console/src/api/generated/`, are the same two files from
the same templates: the console is an HTTP client of the same API, in a browser, so the
files hold types and a plain table only (nothing from `node:`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from faxbot_codegen.outputs import NOTICE, Outputs

FOLDER = "sdks/node/src/generated"
CONSOLE_FOLDER = "console/src/api/generated"
TEMPLATES = Path(__file__).parent / "templates" / "node"
FILES = ("operations.ts", "types.ts")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_REF = "#/components/schemas/"


def ts_type(schema: dict[str, Any] | bool) -> str:
    """The TypeScript type of a JSON schema: `| null` for nullable, `T[]` for arrays,
    `Record<string, unknown>` for free objects, `unknown` for the empty schema."""
    if schema is True or schema == {}:
        return "unknown"
    if schema is False:
        return "never"
    assert isinstance(schema, dict)
    if "$ref" in schema:
        ref = str(schema["$ref"])
        if not ref.startswith(_REF):
            raise ValueError(f"unsupported $ref {ref}")
        return ref.removeprefix(_REF)
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return _union([json.dumps(value) for value in schema["enum"]])
    for key in ("oneOf", "anyOf"):
        if key in schema:
            rest = {k: v for k, v in schema.items() if k != key}
            members = [ts_type({**rest, **member}) for member in schema[key]]
            return _union(members)
    if "allOf" in schema:
        return " & ".join(_wrap(ts_type(member)) for member in schema["allOf"])
    declared = schema.get("type")
    if isinstance(declared, list):
        return _union([ts_type({**schema, "type": one}) for one in declared])
    nullable = schema.get("nullable") is True
    base = _single(schema, declared)
    return _union([base, "null"]) if nullable else base


def _single(schema: dict[str, Any], declared: Any) -> str:
    if declared == "string":
        return "Blob" if schema.get("format") == "binary" else "string"
    if declared in ("integer", "number"):
        return "number"
    if declared == "boolean":
        return "boolean"
    if declared == "null":
        return "null"
    if declared == "array":
        return f"{_wrap(ts_type(schema.get('items', {})))}[]"
    if declared == "object" or "properties" in schema or "additionalProperties" in schema:
        return _object(schema)
    return "unknown"


def _object(schema: dict[str, Any]) -> str:
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    if not properties:
        value = "unknown" if extra in (True, {}) else ts_type(extra)
        return f"Record<string, {value}>"
    required = set(schema.get("required", []))
    fields = [
        f"{property_name(name)}{'' if name in required else '?'}: {ts_type(properties[name])}"
        for name in sorted(properties)
    ]
    return "{ " + "; ".join(fields) + " }"


def _union(members: list[str]) -> str:
    unique = list(dict.fromkeys(members))  # keeps the spec's order: `string | null`
    if "unknown" in unique:
        return "unknown"
    return " | ".join(_wrap(m) if " & " in m else m for m in unique)


def _wrap(type_: str) -> str:
    return f"({type_})" if (" | " in type_ or " & " in type_) else type_


def property_name(name: str) -> str:
    return name if _IDENTIFIER.match(name) else json.dumps(name)


def doc(text: str | None) -> str:
    """One line for a JSDoc comment, which `*/` would end early."""
    return " ".join((text or "").split()).replace("*/", "*\\/")


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    optional: bool
    description: str


@dataclass(frozen=True)
class Schema:
    name: str
    description: str
    fields: list[Field] | None  # None: not an object with properties, see `alias`
    alias: str


@dataclass(frozen=True)
class Part:
    """A request's path, query, header or body: its fields and whether it may be left out."""

    key: str
    fields: list[Field]
    optional: bool


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    path: str
    summary: str
    scope: str | None
    path_params: list[str]
    query_params: list[str]
    header_params: list[str]
    body: str | None  # "multipart" | "json"
    response: str  # "json" | "binary" | "empty"
    response_type: str
    parts: list[Part]


def _fields(properties: dict[str, Any], required: set[str]) -> list[Field]:
    return [
        Field(
            property_name(name),
            ts_type(properties[name]),
            name not in required,
            doc(_description(properties[name])),
        )
        for name in sorted(properties)
    ]


def _description(schema: dict[str, Any] | bool) -> str | None:
    return schema.get("description") if isinstance(schema, dict) else None


def _schema(name: str, schema: dict[str, Any]) -> Schema:
    description = doc(schema.get("description"))
    if schema.get("type") == "object" and schema.get("properties"):
        fields = _fields(schema["properties"], set(schema.get("required", [])))
        return Schema(name, description, fields, "")
    return Schema(name, description, None, ts_type(schema))


def _parameter_part(key: str, parameters: list[dict[str, Any]]) -> Part | None:
    if not parameters:
        return None
    fields = [
        Field(
            property_name(p["name"]),
            ts_type(p.get("schema", {})),
            not p.get("required", False),
            doc(p.get("description")),
        )
        for p in sorted(parameters, key=lambda p: str(p["name"]))
    ]
    return Part(key, fields, all(f.optional for f in fields))


def _body(operation: dict[str, Any]) -> tuple[str | None, Part | None]:
    request = operation.get("requestBody")
    if not request:
        return None, None
    content = request.get("content", {})
    if "multipart/form-data" in content:
        kind, media = "multipart", content["multipart/form-data"]
    elif "application/json" in content:
        kind, media = "json", content["application/json"]
    else:
        raise ValueError(f"{operation['operationId']}: unsupported request body {sorted(content)}")
    schema = media.get("schema", {})
    if "properties" in schema:
        fields = _fields(schema["properties"], set(schema.get("required", [])))
        return kind, Part("body", fields, not request.get("required", False))
    return kind, Part("body", [Field("value", ts_type(schema), False, "")], False)


def _response(operation: dict[str, Any]) -> tuple[str, str]:
    """The first 2xx response: how the client reads it and its type."""
    responses = operation.get("responses", {})
    for status in sorted(s for s in responses if s.startswith("2")):
        content = responses[status].get("content", {})
        if not content:
            return "empty", "undefined"
        if "application/json" in content:
            return "json", ts_type(content["application/json"].get("schema", {}))
        return "binary", "Blob"
    return "empty", "undefined"


def _operation(method: str, path: str, operation: dict[str, Any]) -> Operation:
    parameters = operation.get("parameters", [])

    def located(where: str) -> list[dict[str, Any]]:
        return [p for p in parameters if p.get("in") == where]

    body_kind, body = _body(operation)
    response, response_type = _response(operation)
    parts = [
        part
        for part in (
            _parameter_part("path", located("path")),
            _parameter_part("query", located("query")),
            _parameter_part("header", located("header")),
            body,
        )
        if part is not None
    ]
    return Operation(
        id=operation["operationId"],
        method=method.upper(),
        path=path,
        summary=doc(operation.get("summary")),
        scope=operation.get("x-faxbot-scope"),
        path_params=sorted(p["name"] for p in located("path")),
        query_params=sorted(p["name"] for p in located("query")),
        header_params=sorted(p["name"] for p in located("header")),
        body=body_kind,
        response=response,
        response_type=response_type,
        parts=parts,
    )


def operations(spec: dict[str, Any]) -> list[Operation]:
    found = [
        _operation(method, path, item[method])
        for path, item in spec["paths"].items()
        for method in METHODS
        if isinstance(item.get(method), dict) and "operationId" in item[method]
    ]
    return sorted(found, key=lambda o: o.id)


def schemas(spec: dict[str, Any]) -> list[Schema]:
    declared = spec.get("components", {}).get("schemas", {})
    return [_schema(name, declared[name]) for name in sorted(declared)]


def referenced(schemas_: list[Schema], operations_: list[Operation]) -> list[str]:
    """The schema names the operations table mentions: what operations.ts imports."""
    names = {s.name for s in schemas_}
    types = [o.response_type for o in operations_]
    types += [f.type for o in operations_ for part in o.parts for f in part.fields]
    words = {word for t in types for word in re.findall(r"[A-Za-z_$][A-Za-z0-9_$]*", t)}
    return sorted(names & words)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - the output is TypeScript, not HTML
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["js"] = lambda value: json.dumps(value, ensure_ascii=False)
    return env


def render(spec: dict[str, Any]) -> dict[str, str]:
    """File name -> text, for each of FILES."""
    env = _environment()
    declared, table = schemas(spec), operations(spec)
    context = {
        "notice": NOTICE,
        "title": spec["info"]["title"],
        "version": spec["info"]["version"],
        "schemas": declared,
        "operations": table,
        "imports": referenced(declared, table),
    }
    return {name: env.get_template(f"{name}.j2").render(context) for name in FILES}


def generate(spec: dict[str, Any], outputs: Outputs, folder: str = FOLDER) -> None:
    """FILES into `folder`: the Node SDK's (FOLDER) or the console's (CONSOLE_FOLDER)."""
    outputs.own(folder)
    for name, text in render(spec).items():
        outputs.add(f"{folder}/{name}", text)


__all__ = ["CONSOLE_FOLDER", "FOLDER", "generate", "operations", "render", "schemas", "ts_type"]
