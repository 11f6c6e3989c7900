"""Validate data against a JSON Schema and turn each failure into a located Diagnostic with a
plain message and a "did you mean". Used for the fragment schema and for plugin settings.

Messages are built here rather than taken from jsonschema, whose messages quote the value:
a value is quoted only when the path is not secret."""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from faxbot.config.codes import Code, schema_code
from faxbot.config.diagnostics import Diagnostic, Mark
from faxbot.kernel.keypath import KeyPath

_GOT_TYPES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}
_JSON_TYPES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


@cache
def fragment_schema() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("fragment.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator_for(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(
        json.loads(schema_json), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def validator(schema: Mapping[str, Any]) -> Draft202012Validator:
    return _validator_for(json.dumps(schema, sort_keys=True))


def did_you_mean(word: str, choices: Any) -> str:
    match = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def show(value: Any) -> str:
    """A short rendering of a non-secret value for a message."""
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, dict | list):
        return _JSON_TYPES[json_type(value)]
    return json.dumps(value)


class Locator:
    """Where to point for a path: a value mark, or a key mark for unknown keys."""

    def __init__(
        self,
        value_mark: Callable[[KeyPath], Mark | None],
        key_mark: Callable[[KeyPath], Mark | None],
        is_secret: Callable[[KeyPath], bool],
    ) -> None:
        self.value_mark = value_mark
        self.key_mark = key_mark
        self.is_secret = is_secret


def validate(
    schema: Mapping[str, Any],
    instance: Any,
    prefix: KeyPath,
    locate: Locator,
    skip: Callable[[KeyPath], bool] = lambda _: False,
) -> list[Diagnostic]:
    """Every way `instance` (found at `prefix`) breaks `schema`, located."""
    found: list[Diagnostic] = []
    for error in validator(schema).iter_errors(instance):
        path = (*prefix, *error.absolute_path)
        if skip(path):
            continue
        found.extend(_describe(error, path, locate))
    return found


def _describe(error: ValidationError, path: KeyPath, locate: Locator) -> Iterator[Diagnostic]:
    kind = error.validator
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    value = error.instance
    secret = locate.is_secret(path)
    got = "" if secret or value is None else f", got {show(value)}"

    if kind == "additionalProperties" and isinstance(value, dict):
        allowed = sorted(schema.get("properties", {}))
        for key in sorted(set(value) - set(allowed)):
            hint = did_you_mean(key, allowed) or (
                f"; allowed here: {', '.join(allowed)}" if allowed else ""
            )
            child = (*path, key)
            yield Diagnostic.at(
                locate.key_mark(child), child, Code.UNKNOWN_KEY, f"unknown key {key!r}{hint}"
            )
        return
    if kind == "required" and isinstance(value, dict):
        required: Any = error.validator_value
        for name in required:
            if name not in value:
                yield Diagnostic.at(
                    locate.key_mark(path), path, Code.MISSING_KEY, f"missing required key {name!r}"
                )
        return
    if kind in ("anyOf", "oneOf") and error.context:
        inner = best_match(error.context)
        yield from _describe(inner, (*path, *inner.relative_path), locate)
        return

    message = _message(error, secret, got)
    yield Diagnostic.at(locate.value_mark(path), path, schema_code(str(kind)), message)


def _message(error: ValidationError, secret: bool, got: str) -> str:
    """The sentence for a failed keyword on a scalar; quotes the value only if not secret."""
    kind = error.validator
    spec: Any = error.validator_value
    value = error.instance
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    custom = schema.get("x-error")
    if custom and kind != "type":
        message = f"{custom}{got if kind not in ('pattern', 'format') else ''}"
    elif kind == "type":
        expected = spec
        names = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_JSON_TYPES.get(n, n) for n in names)
        shown = "" if secret or value is None else f" {show(value)}"
        if isinstance(value, dict | list):
            shown = ""
        message = f"expected {wanted}, got {_GOT_TYPES[json_type(value)]}{shown}"
        if value is None:
            message += " (an empty value)"
        elif "string" in names and isinstance(value, int | float) and not isinstance(value, bool):
            message += "; YAML read it as a number: put it in quotes"
    elif kind == "enum":
        options = ", ".join(show(o) for o in spec)
        hint = "" if secret or not isinstance(value, str) else did_you_mean(value, spec)
        message = f"must be one of {options}{got}{hint}"
    elif kind == "const":
        message = f"must be {show(spec)}{got}"
    elif kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
        message = f"must be {op[kind]} {spec}{got}"
    elif kind in ("minLength", "maxLength"):
        word = "at least" if kind == "minLength" else "at most"
        message = f"must be {word} {spec} character{'s' * (spec != 1)} long"
    elif kind in ("minItems", "maxItems"):
        word = "at least" if kind == "minItems" else "at most"
        message = f"must have {word} {spec} item{'s' * (spec != 1)}"
    elif kind == "uniqueItems":
        message = "items must be unique"
    elif kind == "pattern":
        message = f"must match the pattern {spec}"
    elif kind == "format":
        message = f"must be a valid {spec}"
    else:
        message = error.message if not secret else f"is not valid ({kind})"
    return message


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        return _resolve(target, root)
    return schema


def apply_defaults(
    schema: Mapping[str, Any],
    instance: Any,
    path: KeyPath,
    filled: list[KeyPath],
    root: Mapping[str, Any] | None = None,
) -> None:
    """Fill `default`s of object properties that are absent, recursing into present objects.
    Appends the path of each value it fills to `filled`."""
    root = root if root is not None else schema
    schema = _resolve(schema, root)
    if not isinstance(instance, dict):
        return
    for name, declared in (schema.get("properties") or {}).items():
        sub = _resolve(declared, root)
        if name not in instance and "default" in sub:
            instance[name] = copy.deepcopy(sub["default"])
            filled.append((*path, name))
        if name in instance:
            apply_defaults(sub, instance[name], (*path, name), filled, root)
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping):
        for name, value in instance.items():
            if name not in (schema.get("properties") or {}):
                apply_defaults(extra, value, (*path, name), filled, root)
