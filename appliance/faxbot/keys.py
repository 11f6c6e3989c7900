"""API tokens: random, shown once; config.d keeps only their SHA-256 (see docs/config.md)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

TOKEN_PREFIX = "fbk_"  # noqa: S105 - a marker that makes leaked tokens easy to scan for
TOKEN_BYTES = 32


@dataclass(frozen=True)
class NewKey:
    token: str
    entry: dict[str, Any]

    @property
    def yaml(self) -> str:
        lines = [
            "api_keys:",
            f"  - id: {self.entry['id']}",
            f"    sha256: {self.entry['sha256']}",
            f"    scopes: [{', '.join(self.entry['scopes'])}]",
        ]
        if "expires" in self.entry:
            lines.append(f"    expires: {self.entry['expires']}")
        return "\n".join(lines)


def parse_expiry(text: str) -> datetime | None:
    """An API key's `expires`: ISO 8601 date or date-time, or None when it is not one."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def expiry_instant(text: str) -> datetime | None:
    """When a key with this `expires` stops working: a date means 00:00 UTC of that day.
    None when `text` is not an expiry."""
    parsed = parse_expiry(text)
    if parsed is None:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_key(key_id: str, scopes: list[str], expires: str | None = None) -> NewKey:
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    entry: dict[str, Any] = {"id": key_id, "sha256": token_sha256(token), "scopes": scopes}
    if expires:
        entry["expires"] = expires
    return NewKey(token, entry)
