"""Phaxio's callback signature, `X-Phaxio-Signature`: lowercase hex HMAC-SHA1, keyed with the
account's callback token, over the callback URL exactly as registered, then each form field
sorted by name as name + value, then each file part sorted by name as name + the SHA-1 hex of
its bytes (no separators anywhere). Not an HMAC of the raw body: that was the v2 mistake."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping


def signature(token: str, url: str, fields: Mapping[str, str], files: Mapping[str, bytes]) -> str:
    """The signature Phaxio sends for a callback to `url` with these parts."""
    signed = url
    for name in sorted(fields):
        signed += name + fields[name]
    for name in sorted(files):
        signed += name + hashlib.sha1(files[name]).hexdigest()  # noqa: S324 - Phaxio's algorithm
    return hmac.new(token.encode(), signed.encode(), hashlib.sha1).hexdigest()


def verifies(
    header: str,
    tokens: Iterable[str],
    url: str,
    fields: Mapping[str, str],
    files: Mapping[str, bytes],
) -> bool:
    """Whether `header` is the signature under any of `tokens` (current and previous, so a
    rotation rejects nothing). Compared in constant time; every token is tried."""
    given = header.strip().lower().encode()
    matched = False
    for token in tokens:
        expected = signature(token, url, fields, files).encode()
        matched |= hmac.compare_digest(expected, given)
    return matched
