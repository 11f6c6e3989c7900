"""Decide what an upload is by its bytes: a PDF, UTF-8 plain text, or something we refuse.

Clients send file names and content types that lie (`fax.pdf` that is a PNG, text sent as
`application/octet-stream`), so neither is looked at. A PDF is recognised by its `%PDF-`
header, which the PDF specification lets readers find anywhere in the first 1024 bytes; only
that much is read. Text must be valid UTF-8 throughout, so the whole file is decoded, in
chunks, and the first byte that breaks the rule is reported.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

PDF_MAGIC = b"%PDF-"
PDF_HEADER_WINDOW = 1024  # the header may start at any of these first offsets
HEAD_SIZE = PDF_HEADER_WINDOW + len(PDF_MAGIC) - 1  # all that is read of a PDF
CHUNK_SIZE = 64 * 1024
UTF8_BOM = codecs.BOM_UTF8
ACCEPTED = "send a PDF or UTF-8 plain text"

# Control characters (Unicode category Cc) other than tab, LF, FF and CR: a file with one is
# binary data, or text meant for a terminal (escape sequences), not something to fax.
FORBIDDEN_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")

# Leading bytes of formats people send by mistake, to say what the upload looks like.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"PK\x03\x04", "a ZIP archive (Word, Excel and OpenDocument files are ZIP archives)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xff\xfe", "UTF-16 text (save it as UTF-8)"),
    (b"\xfe\xff", "UTF-16 text (save it as UTF-8)"),
)


class DocumentKind(StrEnum):
    """What an upload is, judged by its content."""

    PDF = "pdf"
    TEXT = "text"


class DocumentError(ValueError):
    """An upload cannot be faxed; the message is written for the client that sent it."""


class UnsupportedDocument(DocumentError):
    """The upload is neither a PDF nor UTF-8 plain text."""


class DocumentTooComplex(DocumentError):
    """The upload would cost too much to lay out, render or send (a text line too long to lay
    out, a PDF page too large to print), whatever its number of pages."""


def judge(source: bytes | Path) -> DocumentKind:
    """What `source` (an upload's bytes, or its file) is, by content. Raises DocumentError for
    an empty upload and UnsupportedDocument for anything that is neither a PDF nor UTF-8 plain
    text."""
    with io.BytesIO(source) if isinstance(source, bytes) else source.open("rb") as upload:
        head = upload.read(HEAD_SIZE)
        if not head:
            raise DocumentError("the document is empty; " + ACCEPTED)
        if PDF_MAGIC in head:
            return DocumentKind.PDF
        for signature, looks_like in SIGNATURES:
            if head.startswith(signature):
                raise UnsupportedDocument(f"the document is {looks_like}; {ACCEPTED}")
        _check_text(head, upload.read)
    return DocumentKind.TEXT


def _check_text(head: bytes, read: Callable[[int], bytes]) -> None:
    """Decode `head` and then the rest of the file through `read`; raise at the first byte or
    character that is not plain UTF-8 text."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    chunk = head[len(UTF8_BOM) :] if head.startswith(UTF8_BOM) else head
    offset = len(head) - len(chunk)  # file offset of `chunk`'s first byte
    decoded_any = False
    while True:
        final = not chunk
        pending = len(decoder.getstate()[0])  # bytes of a character split across chunks
        try:
            text = decoder.decode(chunk, final=final)
        except UnicodeDecodeError as exc:
            at = offset - pending + exc.start
            bad = exc.object[exc.start]
            raise UnsupportedDocument(
                f"the document is binary data or text that is not UTF-8 "
                f"(byte 0x{bad:02X} at offset {at} is not valid UTF-8); {ACCEPTED}"
            ) from None
        control = FORBIDDEN_CONTROL.search(text)
        if control:
            raise UnsupportedDocument(_control_message(control.group()))
        decoded_any = decoded_any or bool(text)
        if final:
            break
        offset += len(chunk)
        chunk = read(CHUNK_SIZE)
    if not decoded_any:
        raise DocumentError("the document is empty (only a byte order mark); " + ACCEPTED)


def _control_message(char: str) -> str:
    if char == "\x00":
        return f"the document is binary data (it contains NUL bytes); {ACCEPTED}"
    return (
        f"the document contains the control character U+{ord(char):04X}, so it is binary "
        f"data or terminal output rather than plain text; {ACCEPTED}"
    )
