"""Secret references. A secret never appears in config.d or the artifact: only a reference
`${env:NAME}` or `${file:/absolute/path}`, resolved by the appliance when it starts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

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
