"""Count the pages of a PDF with PDFium (pypdfium2), turning any failure to read it into a
DocumentError.

PDFium is the PDF engine of Chromium: written in C++, fuzzed continuously, and tolerant of the
damage real PDFs carry (it rebuilds a broken cross-reference table the way viewers do). Loading
a one-page document and counting its pages takes ~20 us, against ~270 us for a pure-Python
parser, and ctypes lets other threads run meanwhile. A PDF encrypted with an empty user
password (common for "no printing" flags) opens without asking.

PDFium is not thread-safe, so every call into it holds one process-wide lock. Its error code
(FPDF_GetLastError) is only set on some failures and otherwise left from an earlier one, so a
password is blamed only when the file really has an /Encrypt dictionary.
"""

from __future__ import annotations

import ctypes
import os
import re
import threading
import zlib
from pathlib import Path
from typing import Any

from faxbot.documents.kinds import DocumentError, DocumentTooComplex

_PDFIUM = threading.Lock()

# PDFium inflates a PDF's object and cross-reference streams to read its page tree, without a
# bound: 2 MB of deflated spaces in an object stream cost it 3 GB and 18 s. Those streams are
# inflated here first, with a bound, and a PDF whose structure inflates past it is refused.
MAX_STRUCTURE_BYTES = 32 * 1024 * 1024  # all object and xref streams, inflated (legit: < 1 MB)
STRUCTURE_STREAM = re.compile(rb"/Type\s*/(?:ObjStm|XRef)\b")
INDIRECT_TYPE = re.compile(rb"/Type\s+\d+\s+\d+\s+R\b")
FILTER_NAMES = re.compile(rb"/(\w+Decode)\b")
STREAM_START = re.compile(rb"stream\r?\n")
INFLATE_CHUNK = 64 * 1024

# Largest page side accepted, in points: 24 inches (610 mm), more than tabloid, ledger, A3 and
# ANSI C. A transport rasterises each page for the fax machine; a page of 200 by 200 inches
# (what the PDF format allows) would cost it gigabytes of pixels for one fax.
MAX_PAGE_SIDE_PT = 1728.0

# PDFium's FPDF_ERR_PASSWORD and FPDF_ERR_SECURITY, as the client should read them.
_ENCRYPTION_ERRORS = {
    4: "not a readable PDF: it is encrypted with a password; send it without one",
    5: "not a readable PDF: it uses an unsupported security handler; send it unencrypted",
}
# Every other failure, including a document whose page tree is empty (PDFium refuses to load it)
_UNREADABLE = "not a readable PDF: it is damaged, is not a PDF, or has no pages"


def count_pages(source: bytes | Path, *, measure_up_to: int = 0) -> int:
    """The number of pages of the PDF `source` (its bytes, or a file); DocumentError when it
    cannot be read. A missing file raises FileNotFoundError: that is not the client's fault.

    When there are at most `measure_up_to` pages, each page's size is read too (from its page
    dictionary: nothing is drawn) and a page larger than MAX_PAGE_SIDE_PT on a side raises
    DocumentTooComplex. More pages are not measured: the caller refuses them anyway."""
    import pypdfium2  # loaded (and PDFium initialised) with the first fax, not at start

    # PDFium's C API through pypdfium2.raw: the PdfDocument helper registers a finalizer and
    # tracks the object for every document, which cost more than loading and counting.
    pdfium: Any = pypdfium2.raw
    if isinstance(source, Path) and not source.is_file():
        raise FileNotFoundError(source)
    _check_structure(source if isinstance(source, bytes) else source.read_bytes())
    with _PDFIUM:
        if isinstance(source, bytes):  # PDFium reads the buffer in place; `source` holds it
            document = pdfium.FPDF_LoadMemDocument64(source, len(source), None)
        else:
            document = pdfium.FPDF_LoadDocument(os.fsencode(source), None)
        try:
            pages = int(pdfium.FPDF_GetPageCount(document)) if document else 0
            error = int(pdfium.FPDF_GetLastError()) if pages < 1 else None
            oversized = _oversized_page(pdfium, document, pages) if pages <= measure_up_to else None
        finally:
            if document:
                pdfium.FPDF_CloseDocument(document)
    if error is not None:
        raise DocumentError(_load_error(error, source))
    if oversized is not None:
        number, width, height = oversized
        raise DocumentTooComplex(
            f"page {number} of the PDF is {width:.0f} x {height:.0f} points; a fax page may be "
            f"at most {MAX_PAGE_SIDE_PT:.0f} points ({MAX_PAGE_SIDE_PT / 72:.0f} inches) on "
            "each side"
        )
    return pages


def _oversized_page(pdfium: Any, document: Any, pages: int) -> tuple[int, float, float] | None:
    """The first page (its number from 1, width and height in points) larger than
    MAX_PAGE_SIDE_PT on a side, or None."""
    width, height = ctypes.c_double(), ctypes.c_double()
    for index in range(pages):
        if not pdfium.FPDF_GetPageSizeByIndex(
            document, index, ctypes.byref(width), ctypes.byref(height)
        ):
            continue  # a page whose size cannot be read is the transport's to judge
        if max(abs(width.value), abs(height.value)) > MAX_PAGE_SIDE_PT:
            return index + 1, abs(width.value), abs(height.value)
    return None


def _load_error(code: int | None, source: bytes | Path) -> str:
    message = _ENCRYPTION_ERRORS.get(code) if code is not None else None
    if message is not None:
        data = source if isinstance(source, bytes) else source.read_bytes()
        if b"/Encrypt" in data:
            return message
    return _UNREADABLE


def _check_structure(data: bytes) -> None:
    """Refuse (DocumentTooComplex) a PDF whose object and cross-reference streams inflate to
    more than MAX_STRUCTURE_BYTES, reading no more of them than that."""
    if INDIRECT_TYPE.search(data):
        raise DocumentTooComplex(
            "the PDF names an object's /Type indirectly, which hides how it is built; save or "
            "print it again as a PDF"
        )
    budget = MAX_STRUCTURE_BYTES
    for found in STRUCTURE_STREAM.finditer(data):
        opened = data.rfind(b" obj", 0, found.start())
        stream = STREAM_START.search(data, found.end())
        if stream is None:
            continue  # no data: nothing PDFium could inflate
        filters = FILTER_NAMES.findall(data, max(opened, 0), stream.start())
        if not filters:
            continue  # stored as it is: its size is already bounded by the upload's
        if filters != [b"FlateDecode"]:
            raise DocumentTooComplex(
                "the PDF compresses its structure with "
                f"{' and '.join(f.decode('ascii', 'replace') for f in filters)}, which is not "
                "accepted; save or print it again as a PDF"
            )
        budget -= _inflated_size(data, stream.end(), budget)
        if budget < 0:
            raise DocumentTooComplex(
                f"the PDF's structure inflates to more than {MAX_STRUCTURE_BYTES} bytes; "
                "save or print it again as a PDF"
            )


def _inflated_size(data: bytes, start: int, budget: int) -> int:
    """How many bytes the deflated stream at `start` inflates to, or budget + 1 when more."""
    inflater = zlib.decompressobj()
    view = memoryview(data)
    size = 0
    try:
        for at in range(start, len(data), INFLATE_CHUNK):
            pending: bytes | memoryview = view[at : at + INFLATE_CHUNK]
            while pending and size <= budget:  # a piece at a time: nothing large is held
                size += len(inflater.decompress(pending, INFLATE_CHUNK))
                pending = inflater.unconsumed_tail
            if size > budget or inflater.eof:
                break
    except zlib.error:
        pass  # damaged or encrypted: PDFium judges it
    return size
