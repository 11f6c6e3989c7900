"""From an uploaded file to the PDF a job sends: judge it, convert it, count and limit pages.

A PDF upload is used as it is (no copy). Rendered text appears complete or not at all: it is
written under a temporary name and renamed, so a refused document never leaves a partial or
unchecked PDF behind. The upload is only read; removing files is the caller's business, and
making the document durable is the storage plugin's.
"""

from __future__ import annotations

import os
import tempfile
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
    path: Path  # the PDF to store: the upload itself, or the rendered text


def prepare(
    upload: Path, text_pdf: Path, *, max_pages: int, paper: str = "letter"
) -> PreparedDocument:
    """Judge `upload` and describe the PDF to send: the upload itself when it is a PDF (no
    copy), or `text_pdf`, rendered from it on `paper`, when it is text. Raises DocumentError
    (UnsupportedDocument, TooManyPages) with a message for the client; `text_pdf` then does
    not exist. Durability is not this function's business: the storage plugin makes the
    document durable when it stores it."""
    if max_pages < 1:
        raise ValueError(f"max_pages must be at least 1, not {max_pages}")
    kind = judge(upload)
    if kind is DocumentKind.PDF:
        pages = count_pages(upload)
        _check_pages(pages, max_pages)
        return PreparedDocument(kind=kind, pages=pages, size=upload.stat().st_size, path=upload)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{text_pdf.name}.", suffix=".tmp", dir=text_pdf.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        text = upload.read_bytes().decode("utf-8-sig")
        laid_out = paginate(text, paper=paper)
        # Refuse before drawing: a small text of empty lines can lay out to many pages.
        _check_pages(len(laid_out), max_pages)
        render(laid_out, tmp, paper=paper)
        pages = count_pages(tmp)
        _check_pages(pages, max_pages)
        size = tmp.stat().st_size
        tmp.replace(text_pdf)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return PreparedDocument(kind=kind, pages=pages, size=size, path=text_pdf)


def _check_pages(pages: int, max_pages: int) -> None:
    if pages == 0:
        raise DocumentError("the document has no pages")
    if pages > max_pages:
        raise TooManyPages(pages, max_pages)
