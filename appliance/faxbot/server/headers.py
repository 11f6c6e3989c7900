"""Request headers read from the raw ASGI scope. Litestar's `request.headers` builds a Headers
object per access, and a header parameter a kwargs model per request: a measurable part of the
hot POST /fax, which needs two headers."""

from __future__ import annotations

from litestar.types import Scope


def raw_header(scope: Scope, name: bytes) -> str | None:
    """The first value of the header `name` (lower case, as ASGI gives names), or None."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None
