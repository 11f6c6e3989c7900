"""The config.d keys table of docs/config.md, from the fragment schema: every key with its type,
default, whether it is secret, and its description. Properties that share one `$ref` (the
four slots) are shown once, as `<name of the definition>`."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from faxbot.kernel.keypath import ANY_INDEX, KeyPath, matches
from faxbot.kernel.secrets import schema_secrets

_TYPE_NAMES = {
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "object": "mapping",
    "array": "list",
    "null": "null",
}
_PLURALS = {"string": "strings", "integer": "integers", "object": "mappings", "number": "numbers"}


@dataclass(frozen=True)
class KeyRow:
    key: str  # as diagnostics write it, `[]` for any list item, `<slot>` for any slot
    type: str
    default: str
    secret: str  # "yes", "each item", or ""
    description: str


def key_rows(schema: Mapping[str, Any]) -> list[KeyRow]:
    secrets = schema_secrets(schema)
    return list(_rows(schema, schema, "", (), secrets))


def _rows(
    node: Mapping[str, Any],
    root: Mapping[str, Any],
    name: str,
    path: KeyPath,
    secrets: frozenset[KeyPath],
) -> Iterator[KeyRow]:
    required = set(node.get("required", ()))
    properties: Mapping[str, Any] = node.get("properties") or {}
    refs = {sub.get("$ref") for sub in properties.values()}
    if len(properties) > 1 and len(refs) == 1 and None not in refs:
        ref = str(refs.pop())
        keys = ", ".join(f"`{key}`" for key in properties)
        placeholder = f"<{ref.rsplit('/', 1)[-1]}>"
        first = next(iter(properties))
        yield from _key(
            _resolve(properties[first], root),
            root,
            f"{name}.{placeholder}" if name else placeholder,
            (*path, first),
            secrets,
            required=False,
            note=f" `{placeholder}` is one of {keys}.",
        )
        return
    for key, sub in properties.items():
        yield from _key(
            _resolve(sub, root),
            root,
            f"{name}.{key}" if name else key,
            (*path, key),
            secrets,
            required=key in required,
        )


def _key(
    node: Mapping[str, Any],
    root: Mapping[str, Any],
    name: str,
    path: KeyPath,
    secrets: frozenset[KeyPath],
    *,
    required: bool,
    note: str = "",
) -> Iterator[KeyRow]:
    if required:
        default = "(required)"
    elif "default" in node:
        default = f"`{json.dumps(node['default'])}`"
    else:
        default = "(none)"
    marked = "each item" if _secret((*path, 0), secrets) else ""
    marked = "yes" if _secret(path, secrets) else marked
    description = str(node.get("description", "")) + note
    yield KeyRow(f"`{name}`", type_of(node), default, marked, description.strip())
    yield from _rows(node, root, name, path, secrets)
    items = node.get("items")
    if isinstance(items, Mapping) and "properties" in items:
        yield from _rows(_resolve(items, root), root, f"{name}[]", (*path, ANY_INDEX), secrets)


def _secret(path: KeyPath, secrets: frozenset[KeyPath]) -> bool:
    return any(matches(path, pattern) for pattern in secrets)


def _resolve(node: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if not (isinstance(ref, str) and ref.startswith("#/")):
        return node
    target: Any = root
    for part in ref[2:].split("/"):
        target = target[part]
    return {**target, **{k: v for k, v in node.items() if k != "$ref"}}


def type_of(node: Mapping[str, Any]) -> str:
    """A JSON Schema node in words: `integer, 1-65535`, `list of strings, at least 1, no
    repeats`."""
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    if "enum" in node:
        return " or ".join(
            f"`{json.dumps(v) if not isinstance(v, str) else v}`" for v in node["enum"]
        )
    kinds = node.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    words = [_TYPE_NAMES.get(kind, kind) for kind in kinds]
    items = node.get("items")
    if "array" in kinds and isinstance(items, Mapping) and isinstance(items.get("type"), str):
        plural = _PLURALS.get(items["type"], items["type"])
        words[kinds.index("array")] = f"list of {plural}"
    text = " or ".join(words) or "any value"
    limits = []
    if "minimum" in node and "maximum" in node:
        limits.append(f"{node['minimum']}-{node['maximum']}")
    elif "minimum" in node:
        limits.append(f"at least {node['minimum']}")
    elif "maximum" in node:
        limits.append(f"at most {node['maximum']}")
    if "minLength" in node:
        n = node["minLength"]
        limits.append(f"at least {n} character{'s' * (n != 1)}")
    if "pattern" in node:
        limits.append(f"matching `{node['pattern']}`")
    if "minItems" in node:
        n = node["minItems"]
        limits.append(f"at least {n} item{'s' * (n != 1)}")
    if node.get("uniqueItems"):
        limits.append("no repeats")
    return ", ".join([text, *limits])
