"""POST /fax bodies: multipart/form-data streamed to a temporary file under data_dir, with
the size limit enforced while reading (nothing past the limit reaches the disk), the client's
file name ignored, and the document hashed on the way for idempotency checks."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from litestar import Request
from multipart import MultipartError, PushMultipartParser, parse_options_header

from faxbot.server.errors import ApiError

MAX_FIELD_BYTES = 1024  # `to` and any other small field
MAX_PARTS = 8


@dataclass
class FaxForm:
    fields: dict[str, str] = field(default_factory=dict)
    document: Path | None = None
    size: int = 0
    sha256: str = ""


def _boundary(request: Request[Any, Any, Any]) -> str:
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != "multipart/form-data" or not options.get("boundary"):
        raise ApiError(
            415,
            "POST /fax takes multipart/form-data with the fields `to` and `file`",
            {"content_type": content_type or None},
        )
    return str(options["boundary"])


async def receive_fax_form(
    request: Request[Any, Any, Any], incoming: Path, max_bytes: int
) -> FaxForm:
    """Read the form; the caller deletes `form.document` when done with it."""
    boundary = _boundary(request)
    form = FaxForm()
    target = incoming / f"{uuid.uuid4().hex}.part"
    handle: IO[bytes] | None = None
    digest = hashlib.sha256()
    current: str | None = None
    buffer = bytearray()
    try:
        parser = PushMultipartParser(boundary, max_segment_count=MAX_PARTS)
        async for chunk in request.stream():
            for event in parser.parse(chunk):
                if event is None:  # end of a part
                    if current is not None and current != "file":
                        form.fields[current] = buffer.decode("utf-8", errors="replace")
                    current = None
                elif isinstance(event, bytes | bytearray):
                    if current == "file" and handle is not None:
                        if form.size + len(event) > max_bytes:
                            raise ApiError(
                                413,
                                f"the document is larger than {max_bytes} bytes "
                                "(appliance.limits.upload_max_bytes)",
                                {"limit_bytes": max_bytes},
                            )
                        handle.write(event)
                        digest.update(event)
                        form.size += len(event)
                    elif current is not None:
                        if len(buffer) + len(event) > MAX_FIELD_BYTES:
                            raise ApiError(400, f"the field {current!r} is too long")
                        buffer += event
                else:  # a new part
                    current = event.name
                    buffer = bytearray()
                    if current == "file":
                        if handle is not None:
                            raise ApiError(400, "send one `file` per fax")
                        handle = target.open("wb")
        parser.close()
    except MultipartError as exc:
        _discard(handle, target)
        raise ApiError(400, f"malformed multipart body: {exc}") from None
    except BaseException:
        _discard(handle, target)
        raise
    if handle is not None:
        handle.close()
        form.document = target
        form.sha256 = digest.hexdigest()
    return form


def _discard(handle: IO[bytes] | None, target: Path) -> None:
    if handle is not None:
        handle.close()
    target.unlink(missing_ok=True)
