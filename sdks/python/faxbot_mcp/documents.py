"""Documents in and out of the tools: a `path` confined to the configured document
directories (symlinks resolved before the check), `content_base64` refused by its length
before it is decoded, and a received PDF saved only inside the save directory."""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Sequence
from pathlib import Path


class ToolError(Exception):
    """A failure the assistant can act on: becomes a tool result with isError."""


def confined_file(given: str, roots: Sequence[Path], max_bytes: int) -> Path:
    """The regular file `given` names, resolved (symlinks followed), when it lies inside one of
    `roots` (themselves resolved) and holds at most `max_bytes`; a relative path is taken
    from the first root. Else a ToolError naming what to do."""
    if not roots:
        raise ToolError(
            "path is not enabled: this server has no document directory (start it with "
            "--documents DIR), so send the document as text or content_base64"
        )
    bases = [root.resolve() for root in roots]
    candidate = Path(given)
    if not candidate.is_absolute():
        candidate = bases[0] / candidate
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        raise ToolError(f"path {given!r}: no such file in the document directories") from None
    if not any(resolved.is_relative_to(base) for base in bases):
        listed = ", ".join(str(base) for base in bases)
        raise ToolError(
            f"path {given!r} is outside the document directories ({listed}); "
            "copy the document into one of them"
        )
    if not resolved.is_file():
        raise ToolError(f"path {given!r} is not a regular file")
    size = resolved.stat().st_size
    if size > max_bytes:
        raise ToolError(f"path {given!r} holds {size} bytes; the limit is {max_bytes} bytes")
    return resolved


def check_encoded_size(text: str, max_bytes: int) -> None:
    """A ToolError when the length of `content_base64` alone says it decodes to more than
    `max_bytes`: checked before the schema (whose maxLength says the same, less clearly) and
    before any decoding."""
    longest = 4 * math.ceil(max_bytes / 3)
    if len(text) > longest:
        raise ToolError(
            f"content_base64 is {len(text)} characters, over {longest} (the limit is "
            f"{max_bytes} bytes decoded): send a smaller document"
        )


def decoded_document(text: str, max_bytes: int) -> bytes:
    """The bytes of `content_base64` (ToolError when too long or not base64)."""
    check_encoded_size(text, max_bytes)
    try:
        document = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ToolError("content_base64 is not valid base64 (RFC 4648, no line breaks)") from None
    if len(document) > max_bytes:
        raise ToolError(f"the document is {len(document)} bytes; the limit is {max_bytes} bytes")
    return document


def save_target(name: str, directory: Path | None) -> Path:
    """Where `save_as` may write: a plain file name (no directories) inside `directory`."""
    if directory is None:
        raise ToolError(
            "save_as is not enabled: this server has no save directory (start it with "
            "--save-dir DIR)"
        )
    if Path(name).name != name or name in {".", ".."}:
        raise ToolError(f"save_as {name!r} must be a plain file name, without directories")
    return directory.resolve() / name
