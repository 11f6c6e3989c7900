"""From an uploaded document to the PDF a job sends: judge it, convert it, count and limit pages.

The upload is held in memory (bytes) when small, or in a file when it was spilled to disk. A
PDF upload is used as it is (no copy); text is rendered to a PDF in memory. Nothing here writes
a file or deletes one: storing the document, durably, is the storage plugin's business, and
removing a spilled upload is the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from faxbot.documents.kinds import DocumentError, DocumentKind, judge
from faxbot.documents.pages import count_pages
from faxbot.documents.text import paginate, render

LIMIT_KEY = "appliance.limits.max_pages"


class TooManyPages(DocumentError):
    """The document has more pages than the appliance accepts for one fax."""

    def __init__(self, pages: int, max_pages: int) -> None:
        super().__init__(f"the document has {pages} pages; the limit is {max_pages} ({LIMIT_KEY})")
        self.pages = pages
        self.max_pages = max_pages


@dataclass(frozen=True)
class PreparedDocument:
    kind: DocumentKind  # what the upload was
    pages: int
    size: int  # bytes of the prepared PDF
    content: bytes | Path  # the PDF to store: the upload itself, or the rendered text


def prepare(upload: bytes | Path, *, max_pages: int, paper: str = "letter") -> PreparedDocument:
    """Judge `upload` (its bytes, or its file) and describe the PDF to send: the upload itself
    when it is a PDF, or the PDF rendered from it on `paper` when it is text. Raises
    DocumentError (UnsupportedDocument, TooManyPages) with a message for the client."""
    if max_pages < 1:
        raise ValueError(f"max_pages must be at least 1, not {max_pages}")
    kind = judge(upload)
    if kind is DocumentKind.PDF:
        pages = count_pages(upload)
        _check_pages(pages, max_pages)
        size = len(upload) if isinstance(upload, bytes) else upload.stat().st_size
        return PreparedDocument(kind=kind, pages=pages, size=size, content=upload)
    raw = upload if isinstance(upload, bytes) else upload.read_bytes()
    laid_out = paginate(raw.decode("utf-8-sig"), paper=paper)
    # Refuse before drawing: a small text of empty lines can lay out to many pages.
    _check_pages(len(laid_out), max_pages)
    pdf = render(laid_out, paper=paper)
    pages = count_pages(pdf)
    _check_pages(pages, max_pages)
    return PreparedDocument(kind=kind, pages=pages, size=len(pdf), content=pdf)


def _check_pages(pages: int, max_pages: int) -> None:
    if pages == 0:
        raise DocumentError("the document has no pages")
    if pages > max_pages:
        raise TooManyPages(pages, max_pages)
