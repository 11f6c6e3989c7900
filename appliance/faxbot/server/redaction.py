"""What leaves the appliance in a support bundle (GET /diagnostics) passes one redactor: the
secret values the appliance resolved at start, anything shaped like a phone number and
anything shaped like an API token are masked in every string of the answer.

Secrets are known exactly (the artifact's references, resolved with the same environment
the plugins were started with); numbers and tokens by their shape, because a plugin's
health detail or a logged error may quote one the appliance cannot know in advance."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import msgspec

from faxbot.artifact import Artifact
from faxbot.kernel.keypath import KeyPath
from faxbot.kernel.secrets import (
    MASK,
    ReferenceError_,
    SecretUnavailable,
    looks_like_reference,
    parse_reference,
    resolve,
)
from faxbot.keys import TOKEN_PREFIX

SECRET_MASK = MASK  # as settings are masked everywhere else
NUMBER_MASK = "[number]"
TOKEN_MASK = "[token]"  # noqa: S105 - a placeholder, not a token
# Shorter values cannot be told from ordinary words ("ok", "on"); secrets in config.d are
# passwords, tokens and keys, longer than this.
MIN_SECRET_CHARS = 4

# A phone number as people and providers write it: 5 or more digits, an optional leading +,
# spaces, hyphens or parentheses between them. The whole run only: not part of a word or a
# hyphenated name (host-12345), a hex id, a version or a time, nor followed by more digits.
_NUMBER = re.compile(
    r"(?<![\w.])(?<!\w-)(?<!\d[ ()])"
    r"\+?\(?\d(?:[ ()-]{0,2}\d){4,}\)?"
    r"(?!\w)(?![.:]\d)(?![ ()-]{0,2}\d)"
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")  # a date is no phone number (key expiries)
_TOKEN = re.compile(
    rf"{re.escape(TOKEN_PREFIX)}[A-Za-z0-9_-]+|(?i:\bbearer\s+)[A-Za-z0-9._~+/=-]{{8,}}"
)


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first: a secret that contains another is masked whole.
        kept = {s for s in secrets if len(s) >= MIN_SECRET_CHARS}
        self._secrets = sorted(kept, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, SECRET_MASK)
        value = _TOKEN.sub(TOKEN_MASK, value)
        return _NUMBER.sub(_number, value)

    def tree(self, value: Any) -> Any:
        """`value` (JSON-like: dicts, lists, strings, numbers) with every string redacted,
        mapping keys included."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.tree(k): self.tree(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.tree(v) for v in value]
        return value


def _number(match: re.Match[str]) -> str:
    found = match.group(0)
    return found if _ISO_DATE.match(found) else NUMBER_MASK


def resolved_secrets(artifact: Artifact, env: Mapping[str, str]) -> list[str]:
    """The values of the artifact's secret references, resolved as the start resolved them
    (references that do not resolve are skipped: nothing can have leaked them); for a URL,
    its password too, which a driver's error may quote alone."""
    tree = json.loads(msgspec.json.encode(artifact))
    found: list[str] = []
    for path in artifact.secrets().expand(tree):
        value = _at(tree, path)
        if not looks_like_reference(value):
            continue
        try:
            resolved = resolve(parse_reference(str(value)), env)
        except (SecretUnavailable, ReferenceError_):
            continue
        found.append(resolved)
        password = _password(resolved)
        if password:
            found.append(password)
    return found


def _at(tree: Any, path: KeyPath) -> Any:
    for part in path:
        tree = tree[part]
    return tree


def _password(value: str) -> str | None:
    if "://" not in value:
        return None
    try:
        return urlsplit(value).password
    except ValueError:
        return None
