"""The generated half of the Python SDK, sdks/python/faxbot_client/_generated:
openapi-python-client run on the spec with openapi-python-client.yaml (beside this module,
package data of faxbot_codegen) gives the models; `operations.py` beside them is the
operations table (operationId -> method, path, parameters, how to read the answer) the
hand-written client calls through, as the Node SDK's `src/generated/operations.ts`. The
hand-written layer (retries, idempotency keys, typed errors, `wait`) lives beside it in
sdks/python/faxbot_client/.

The generator sees the spec with every enum a response carries opened (`open_enums`): the
appliance may add a job status or an error code later, and an older SDK must still read the
job, keeping the value it does not know as the plain string."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

from faxbot_codegen.node_sdk import Operation, operations
from faxbot_codegen.outputs import NOTICE, Outputs

FOLDER = "sdks/python/faxbot_client/_generated"
CONFIG = Path(__file__).resolve().with_name("openapi-python-client.yaml")
GENERATOR = "openapi-python-client"
SKIPPED = {".ruff_cache", "__pycache__"}  # tool caches, never part of the package


class GeneratorFailed(RuntimeError):
    """openapi-python-client failed or warned: a warning means part of the spec was dropped."""


def _header() -> str:
    # mypy checks the hand-written layer strictly and trusts the types the generator declares;
    # the generator's own code is not ours to fix (its client.py fails mypy 2's strict mode).
    return (
        f"# {NOTICE}\n"
        f"# Written by {GENERATOR} {version(GENERATOR)} with "
        "codegen/faxbot_codegen/openapi-python-client.yaml.\n"
        "# mypy: ignore-errors\n"
    )


def _run_generator(spec: dict[str, Any], work: Path) -> Path:
    source = work / "openapi.json"  # the .json suffix makes the generator parse it as JSON
    source.write_text(json.dumps(spec, indent=2, sort_keys=True), encoding="utf-8")
    out = work / "out"
    # The post-hooks call `ruff` by name: put this environment's (pinned) ruff first.
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(source),
            "--config",
            str(CONFIG),
            "--meta",
            "none",
            "--output-path",
            str(out),
            "--fail-on-warning",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    # A clean run prints only "Generating <folder>"; anything else is a warning or an error.
    said = "\n".join(
        line
        for line in f"{done.stdout}\n{done.stderr}".splitlines()
        if line.strip() and line != f"Generating {out}"
    )
    if done.returncode != 0 or said:
        raise GeneratorFailed(
            f"{GENERATOR} did not generate the Python SDK cleanly (exit {done.returncode}); "
            f"a problem with the spec is fixed at its source, the route handlers:\n{said}"
        )
    return out


_REF = "#/components/schemas/"


def _is_enum(schema: Any) -> bool:
    values = schema.get("enum") if isinstance(schema, dict) else None
    return isinstance(values, list) and all(isinstance(v, str) for v in values)


def _opened(schema: Any, enums: set[str]) -> Any:
    """`schema` with each string enum in it (by $ref, inline, as a union member or as array
    items) made "the enum or a string"."""
    if not isinstance(schema, dict):
        return schema
    if _is_enum(schema) or schema.get("$ref") in enums:
        return {"anyOf": [schema, {"type": "string"}]}
    for key in ("oneOf", "anyOf"):
        if isinstance(schema.get(key), list):
            return {**schema, key: [_opened(member, enums) for member in schema[key]]}
    if schema.get("type") == "array" and "items" in schema:
        return {**schema, "items": _opened(schema["items"], enums)}
    return schema


def open_enums(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of `spec` in which each component property holding a string enum (inline or by
    $ref, also nullable or in an array) is "the enum or a string" (`anyOf`).
    openapi-python-client turns that into `<Enum> | str`, parsed as the enum when the value is
    known and kept as the string when not; a plain enum would raise on a value the server
    added later."""
    opened = copy.deepcopy(spec)
    schemas = opened.get("components", {}).get("schemas", {})
    enums = {f"{_REF}{name}" for name, schema in schemas.items() if _is_enum(schema)}
    for schema in schemas.values():
        properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
        for name, prop in list(properties.items()):
            properties[name] = _opened(prop, enums)
    return opened


def _reader(spec: dict[str, Any], operation: Operation, models: set[str]) -> tuple[str, str]:
    """How the table reads an operation's success answer: (Python type, parse function)."""
    if operation.response == "empty":
        return "None", "_nothing"
    if operation.response == "binary":
        return "bytes", "_bytes"
    method = spec["paths"][operation.path][operation.method.lower()]
    status = min(s for s in method["responses"] if s.startswith("2"))
    schema = method["responses"][status]["content"]["application/json"].get("schema", {})
    many = schema.get("type") == "array"
    ref = str((schema.get("items", {}) if many else schema).get("$ref", ""))
    if ref.startswith(_REF):
        model = ref.removeprefix(_REF)
        if model not in models:
            raise GeneratorFailed(f"{operation.id}: {GENERATOR} made no model {model!r}")
        if many:
            return f"list[{model}]", f"_list_of({model}.from_dict)"
        return model, f"{model}.from_dict"
    if schema.get("type") == "object" and not schema.get("properties"):
        return "dict[str, Any]", "_object"
    return "Any", "_any"


def operations_module(spec: dict[str, Any], models: set[str]) -> str:
    table = operations(spec)
    readers = {op.id: _reader(spec, op, models) for op in table}
    used = sorted(m for m in models if any(re.search(rf"\b{m}\b", t) for t, _ in readers.values()))
    lines = [
        f"# {NOTICE}",
        f'"""The operations of the {spec["info"]["title"]} API {spec["info"]["version"]} '
        "(paths in docs/openapi.json), by operationId:",
        'what the hand-written client (faxbot_client/client.py) calls through."""',
        "",
        "from __future__ import annotations",
        "",
        "from collections.abc import Callable",
        "from dataclasses import dataclass",
        "from typing import Any, Generic, Literal, TypeVar",
        "",
        *([_import_models(used), ""] if used else []),
        'T = TypeVar("T")',
        "",
        "",
        "@dataclass(frozen=True)",
        "class Operation(Generic[T]):",
        "    id: str",
        "    method: str",
        '    path: str  # the path template; "{name}" is a path parameter',
        "    path_params: tuple[str, ...]",
        "    query_params: tuple[str, ...]",
        "    header_params: tuple[str, ...]",
        '    body: Literal["json", "multipart"] | None  # how the request body is sent',
        '    response: Literal["binary", "empty", "json"]  # how the success answer is read',
        "    scope: str | None  # the API key scope it needs; None for the health checks",
        "    answers: tuple[int, ...]  # the statuses whose body is the success type",
        "    parse: Callable[[Any], T]  # the answer (JSON, or bytes when binary) to its type",
        "",
        "",
        "def _list_of(parse: Callable[[Any], T]) -> Callable[[Any], list[T]]:",
        "    def parse_all(data: Any) -> list[T]:",
        "        if not isinstance(data, list):",
        '            raise TypeError(f"expected a JSON array, got {type(data).__name__}")',
        "        return [parse(item) for item in data]",
        "",
        "    return parse_all",
        "",
        "",
        "def _object(data: Any) -> dict[str, Any]:",
        "    if not isinstance(data, dict):",
        '        raise TypeError(f"expected a JSON object, got {type(data).__name__}")',
        "    return data",
        "",
        "",
        "def _bytes(data: bytes) -> bytes:",
        "    return data",
        "",
        "",
        "def _nothing(data: Any) -> None:",
        "    return None",
        "",
        "",
        "def _any(data: Any) -> Any:",
        "    return data",
        "",
    ]
    for op in table:
        kind, parse = readers[op.id]
        lines += [
            "",
            f"{op.id.upper()}: Operation[{kind}] = Operation(",
            f"    id={_literal(op.id)},",
            f"    method={_literal(op.method)},",
            f"    path={_literal(op.path)},",
            f"    path_params={_tuple(op.path_params)},",
            f"    query_params={_tuple(op.query_params)},",
            f"    header_params={_tuple(op.header_params)},",
            f"    body={_literal(op.body)},",
            f"    response={_literal(op.response)},",
            f"    scope={_literal(op.scope)},",
            f"    answers={_tuple(_answers(spec, op))},",
            f"    parse={parse},",
            ")",
            f'"""{op.method} {op.path}{": " + op.summary if op.summary else ""}"""',
        ]
    lines += [
        "",
        "OPERATIONS: dict[str, Operation[Any]] = {",
        *(f"    {op.id.upper()}.id: {op.id.upper()}," for op in table),
        "}",
        '"""Every operation in the spec, by operationId."""',
        "",
    ]
    return "\n".join(lines)


def _literal(value: str | None) -> str:
    """A Python literal in the quotes ruff format writes."""
    return "None" if value is None else json.dumps(value, ensure_ascii=False)


def _import_models(names: list[str]) -> str:
    line = f"from .models import {', '.join(names)}"
    if len(line) <= 100:
        return line
    return "from .models import (\n" + "".join(f"    {name},\n" for name in names) + ")"


def _answers(spec: dict[str, Any], operation: Operation) -> list[int]:
    """The statuses answered with the success body (GET /health/ready: 200 and 503, both a
    Health): the client returns those instead of raising."""
    responses = spec["paths"][operation.path][operation.method.lower()]["responses"]
    success = min(s for s in responses if s.startswith("2"))
    body = responses[success].get("content")
    return sorted(int(s) for s in responses if s == success or responses[s].get("content") == body)


def _tuple(names: list[str] | list[int]) -> str:
    items = [_literal(n) if isinstance(n, str) else str(n) for n in names]
    if len(items) == 1:
        return f"({items[0]},)"
    return "(" + ", ".join(items) + ")"


def _models(out: Path) -> set[str]:
    init = (out / "models" / "__init__.py").read_text(encoding="utf-8")
    return set(re.findall(r"^from \.[a-z0-9_]+ import (\w+)$", init, re.MULTILINE))


def generate(spec: dict[str, Any], outputs: Outputs) -> None:
    with tempfile.TemporaryDirectory(prefix="faxbot-python-sdk-") as temporary:
        out = _run_generator(open_enums(spec), Path(temporary))
        outputs.add(f"{FOLDER}/operations.py", operations_module(spec, _models(out)))
        header = _header()
        for path in sorted(out.rglob("*")):
            rel = path.relative_to(out)
            if not path.is_file() or SKIPPED.intersection(rel.parts):
                continue
            content = path.read_bytes()
            if path.suffix == ".py":
                content = header.encode("utf-8") + content
            outputs.add(f"{FOLDER}/{rel.as_posix()}", content)
    outputs.own(FOLDER)


__all__ = ["FOLDER", "GeneratorFailed", "generate", "open_enums", "operations_module"]
