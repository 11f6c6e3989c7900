"""POST /fax bodies: multipart/form-data read as it streams in, with the size limit enforced
while reading (nothing past the limit is kept), the client's file name ignored, and the
document hashed on the way for idempotency checks. A document of up to SPOOL_BYTES stays in
memory (most faxes are a few pages: no file to create, write and delete per request); a larger
one is spilled to a temporary file under data_dir as it arrives."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from litestar import Request
from multipart import MultipartError, MultipartSegment, PushMultipartParser, parse_options_header

from faxbot.jobs.service import Upload, Uploads
from faxbot.server.error_codes import ErrorCode
from faxbot.server.errors import ApiError
from faxbot.server.headers import raw_header
from faxbot.store.database import is_full

MAX_FIELD_BYTES = 1024  # `to` and any other small field
MAX_PARTS = 8
SPOOL_BYTES = 1024 * 1024  # documents up to this size are kept in memory
DOCUMENT_FIELD = "file"


@dataclass
class FaxForm:
    fields: dict[str, str] = field(default_factory=dict)
    upload: Upload | None = None  # the `file` part


def _boundary(request: Request[Any, Any, Any]) -> str:
    raw = raw_header(request.scope, b"content-type") or ""
    content_type, options = parse_options_header(raw)
    if content_type != "multipart/form-data" or not options.get("boundary"):
        raise ApiError(
            ErrorCode.UNSUPPORTED_DOCUMENT,
            "POST /fax takes multipart/form-data with the fields `to` and `file`",
            {"content_type": content_type or None},
        )
    return str(options["boundary"])


SPILL_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL


class _Document:
    """The `file` part as it arrives: bytes in memory, then a spill file past SPOOL_BYTES."""

    def __init__(self, incoming: Path, max_bytes: int) -> None:
        self.incoming = incoming
        self.spill_to: Path | None = None
        self.max_bytes = max_bytes
        self.held = bytearray()
        self.handle: IO[bytes] | None = None
        self.digest = hashlib.sha256()
        self.size = 0

    def add(self, data: bytes | bytearray) -> None:
        try:
            self._add(data)
        except OSError as exc:
            if not is_full(exc):
                raise
            self.discard()
            raise _storage_full() from None

    def _add(self, data: bytes | bytearray) -> None:
        if self.size + len(data) > self.max_bytes:
            raise ApiError(
                ErrorCode.DOCUMENT_TOO_LARGE,
                f"the document is larger than {self.max_bytes} bytes "
                "(appliance.limits.upload_max_bytes)",
                {"limit_bytes": self.max_bytes},
            )
        if self.handle is None and len(self.held) + len(data) > SPOOL_BYTES:
            self.spill_to = self.incoming / f"{secrets.token_hex(16)}.part"
            # 0600 whatever the umask: a patient's document (the appliance sets one, too)
            self.handle = os.fdopen(os.open(self.spill_to, SPILL_FLAGS, 0o600), "wb")
            self.handle.write(self.held)
            self.held = bytearray()
        if self.handle is None:
            self.held += data
        else:
            self.handle.write(data)
        self.digest.update(data)
        self.size += len(data)

    def finish(self) -> bytes | Path:
        if self.handle is None or self.spill_to is None:
            return bytes(self.held)
        try:
            self.handle.close()  # writes what is buffered
        except OSError as exc:
            if not is_full(exc):
                raise
            self.discard()
            raise _storage_full() from None
        return self.spill_to

    def discard(self) -> None:
        if self.handle is not None and self.spill_to is not None:
            with contextlib.suppress(OSError):  # a full disk fails the buffered write again
                self.handle.close()
            self.spill_to.unlink(missing_ok=True)


def _storage_full() -> ApiError:
    return ApiError(
        ErrorCode.STORAGE_FULL,
        "the appliance's storage is full: the upload was not kept; try again once space is freed",
    )


async def receive_fax_form(request: Request[Any, Any, Any], incoming: Uploads) -> FaxForm:
    """Read the form; the caller deletes the upload's file when it was spilled to one."""
    parser = PushMultipartParser(_boundary(request), max_segment_count=MAX_PARTS)
    form = FaxForm()
    document: _Document | None = None
    part: MultipartSegment | None = None
    value = bytearray()
    try:
        async for chunk in request.stream():
            for event in parser.parse(chunk):
                if isinstance(event, MultipartSegment):  # a new part
                    part, value = event, bytearray()
                    if part.name == DOCUMENT_FIELD:
                        if document is not None:
                            raise ApiError(ErrorCode.INVALID_REQUEST, "send one `file` per fax")
                        document = _Document(incoming.folder, incoming.max_bytes)
                elif event is None:  # the end of a part
                    if part is not None and part.name != DOCUMENT_FIELD:
                        form.fields[part.name] = value.decode("utf-8", errors="replace")
                    part = None
                elif part is not None and part.name == DOCUMENT_FIELD and document is not None:
                    document.add(event)
                elif part is not None:
                    if len(value) + len(event) > MAX_FIELD_BYTES:
                        raise ApiError(
                            ErrorCode.INVALID_REQUEST, f"the field {part.name!r} is too long"
                        )
                    value += event
        parser.close()
    except MultipartError as exc:
        if document is not None:
            document.discard()
        raise ApiError(ErrorCode.INVALID_REQUEST, f"malformed multipart body: {exc}") from None
    except BaseException:
        if document is not None:
            document.discard()
        raise
    if document is not None:
        form.upload = Upload(document.finish(), document.size, document.digest.hexdigest())
    return form
