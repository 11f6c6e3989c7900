"""Key paths: where a value sits in the merged config, e.g. `providers.outbound.settings`,
`api_keys[0].sha256`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

KeyPath = tuple[str | int, ...]

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_TOKEN = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+|\*)\]|\["((?:[^"\\]|\\.)*)"\]')
ANY_INDEX = "*"  # in a secret pattern: any list index


def format_path(path: KeyPath) -> str:
    out: list[str] = []
    for part in path:
        if isinstance(part, int) or part == ANY_INDEX:
            out.append(f"[{part}]")
        elif _PLAIN.match(part):
            out.append(f".{part}" if out else part)
        else:
            escaped = part.replace("\\", "\\\\").replace('"', '\\"')
            out.append(f'["{escaped}"]')
    return "".join(out) or "(root)"


def parse_path(text: str) -> KeyPath:
    """Inverse of format_path; raises ValueError for text that is not a key path."""
    parts: list[str | int] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or (match.group(0).startswith(".") and pos == 0):
            raise ValueError(f"not a key path: {text!r} (expected e.g. providers.outbound.plugin)")
        name, index, quoted = match.groups()
        if name is not None:
            parts.append(name)
        elif index is not None:
            parts.append(ANY_INDEX if index == ANY_INDEX else int(index))
        else:
            parts.append(re.sub(r"\\(.)", r"\1", quoted))
        pos = match.end()
    if not parts:
        raise ValueError("empty key path")
    return tuple(parts)


def is_under(path: KeyPath, prefix: KeyPath) -> bool:
    return path[: len(prefix)] == prefix


def matches(path: KeyPath, pattern: KeyPath) -> bool:
    """`path` is `pattern` or below it, where `*` in the pattern stands for any list index."""
    if len(path) < len(pattern):
        return False
    return all(
        want == got or (want == ANY_INDEX and isinstance(got, int))
        for want, got in zip(pattern, path, strict=False)
    )


def walk(value: Any, path: KeyPath = ()) -> Iterator[tuple[KeyPath, Any]]:
    """Every node of a config tree with its path, parents before children."""
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from walk(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from walk(child, (*path, index))


def leaves(value: Any, path: KeyPath = ()) -> Iterator[tuple[KeyPath, Any]]:
    """What a merge replaces whole: scalars, lists and empty mappings, with their paths."""
    if isinstance(value, dict) and value:
        for key, child in value.items():
            yield from leaves(child, (*path, key))
    else:
        yield path, value
