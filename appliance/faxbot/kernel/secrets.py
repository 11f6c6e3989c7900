"""Secrets: references and the one model of where they are.

A secret never appears in config.d or the artifact: only a reference `${env:NAME}` or
`${file:/absolute/path}`, resolved by the appliance when it starts. `SecretModel` says which
key paths hold secrets; everything that prints, plans, logs or serves config masks through
it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from faxbot.kernel.keypath import ANY_INDEX, KeyPath, format_path, matches, walk

MASK = "********"
SCHEMES = ("env", "file")

_REFERENCE = re.compile(r"^\$\{(?P<scheme>[A-Za-z]+):(?P<target>[^{}]*)\}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class SecretRef:
    scheme: str
    target: str

    def __str__(self) -> str:
        return f"${{{self.scheme}:{self.target}}}"


class ReferenceError_(ValueError):
    """A string that tries to be a reference but is not a valid one."""


def looks_like_reference(value: object) -> bool:
    return isinstance(value, str) and "${" in value


def parse_reference(value: str) -> SecretRef:
    """The reference `value` is, or ReferenceError_ saying what is wrong with it."""
    match = _REFERENCE.match(value.strip())
    if not match or value != value.strip():
        raise ReferenceError_(
            "a secret reference is the whole value: ${env:NAME} or ${file:/absolute/path}"
        )
    scheme, target = match.group("scheme"), match.group("target")
    if scheme not in SCHEMES:
        raise ReferenceError_(
            f"unknown secret reference scheme {scheme!r}; use ${{env:NAME}} or ${{file:/path}}"
        )
    if scheme == "env" and not _ENV_NAME.match(target):
        raise ReferenceError_(
            "${env:NAME} needs an environment variable name (letters, digits, '_')"
        )
    if scheme == "file" and not target.startswith("/"):
        raise ReferenceError_("${file:PATH} needs an absolute path, e.g. ${file:/run/secrets/x}")
    return SecretRef(scheme, target)


def url_has_password(url: str) -> bool:
    try:
        return bool(urlsplit(url).password)
    except ValueError:
        return False


class SecretUnavailable(Exception):
    """A reference that cannot be resolved at start. The message names the reference and
    where it is used, never a value."""


def resolve(ref: SecretRef, env: Mapping[str, str]) -> str:
    if ref.scheme == "env":
        value = env.get(ref.target)
        if value is None or value == "":
            raise SecretUnavailable(f"{ref} is not set in the environment")
        return value
    try:
        return Path(ref.target).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise SecretUnavailable(f"{ref} cannot be read ({exc.strerror})") from None


# -- which values are secrets ----------------------------------------------------------------


def schema_secrets(
    schema: Mapping[str, Any],
    prefix: KeyPath = (),
    root: Mapping[str, Any] | None = None,
    depth: int = 0,
) -> frozenset[KeyPath]:
    """Paths a JSON Schema marks secret (`format: password`, `writeOnly: true`, or our
    `x-secret: true` for a value that may hold a credential), through local `$ref`s,
    `properties` and array `items` (as `*`, any index)."""
    root = schema if root is None else root
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/") and depth < 16:
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        depth += 1
    found: set[KeyPath] = set()
    marked = schema.get("format") == "password" or schema.get("writeOnly") is True
    if marked or schema.get("x-secret") is True:
        found.add(prefix)
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, Mapping):
            found |= schema_secrets(sub, (*prefix, name), root, depth)
    items = schema.get("items")
    if isinstance(items, Mapping):
        found |= schema_secrets(items, (*prefix, ANY_INDEX), root, depth)
    return frozenset(found)


@dataclass(frozen=True)
class SecretModel:
    """Where the secrets are in a config tree: patterns of key paths (`*` for any list index),
    built once from the schemas' markers. Every command, plan, log and API response asks this
    one model whether a value is secret, and masks and resolves through it."""

    patterns: frozenset[KeyPath] = frozenset()

    def __or__(self, other: SecretModel) -> SecretModel:
        return SecretModel(self.patterns | other.patterns)

    def under(self, prefix: KeyPath) -> SecretModel:
        """The same secrets, for a tree that sits at `prefix` in the config."""
        return SecretModel(frozenset((*prefix, *p) for p in self.patterns))

    def is_secret(self, path: KeyPath) -> bool:
        """`path` is a secret, or inside one."""
        return any(matches(path, pattern) for pattern in self.patterns)

    def touches(self, path: KeyPath) -> bool:
        """`path` is a secret, inside one, or holds one (a list of secret references)."""
        return self.is_secret(path) or any(
            len(pattern) > len(path) and matches(pattern[: len(path)], path)
            for pattern in self.patterns
        )

    def expand(self, tree: Any, prefix: KeyPath = ()) -> list[KeyPath]:
        """The secret values' concrete paths in `tree` (which sits at `prefix`)."""
        return [
            path
            for path, _ in walk(tree, prefix)
            if any(len(path) == len(p) and matches(path, p) for p in self.patterns)
        ]

    def references(self, tree: Any, prefix: KeyPath = ()) -> dict[KeyPath, SecretRef]:
        """Each secret value in `tree` (at `prefix`) that is a valid reference, by path. A
        reference is not a secret and may be shown; a value that is not one (the artifact
        never holds such) is left out, so this never yields a literal."""
        values = dict(walk(tree, prefix))
        found: dict[KeyPath, SecretRef] = {}
        for path in self.expand(tree, prefix):
            value = values[path]
            if isinstance(value, str) and looks_like_reference(value):
                try:
                    found[path] = parse_reference(value)
                except ReferenceError_:
                    continue
        return found

    def mask(self, tree: Any, prefix: KeyPath = ()) -> Any:
        """A copy of `tree` with every secret value that is set replaced by MASK."""
        if self.is_secret(prefix) and tree is not None:
            return MASK
        if isinstance(tree, dict):
            return {k: self.mask(v, (*prefix, k)) for k, v in tree.items()}
        if isinstance(tree, list | tuple):
            return [self.mask(v, (*prefix, i)) for i, v in enumerate(tree)]
        return tree

    def resolve(self, tree: Any, env: Mapping[str, str], prefix: KeyPath = ()) -> Any:
        """A copy of `tree` with each secret reference replaced by its value. Raises
        SecretUnavailable naming the key path and the reference, never a value."""
        if isinstance(tree, dict):
            return {k: self.resolve(v, env, (*prefix, k)) for k, v in tree.items()}
        if isinstance(tree, list | tuple):
            return [self.resolve(v, env, (*prefix, i)) for i, v in enumerate(tree)]
        if isinstance(tree, str) and self.is_secret(prefix) and looks_like_reference(tree):
            try:
                return resolve(parse_reference(tree), env)
            except (SecretUnavailable, ReferenceError_) as exc:
                raise SecretUnavailable(f"{format_path(prefix)}: {exc}") from None
        return tree
