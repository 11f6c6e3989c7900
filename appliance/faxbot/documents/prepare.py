"""From an uploaded document to the PDF a job sends: judge it, count and limit its pages, and
convert it.

`examine` does everything that is cheap and bounded whatever the upload: it judges the upload,
counts a PDF's pages (and measures them) or lays a text out page by page without drawing it,
and refuses a document over the page limit. Only then is a text drawn (`render_upload`, in a
render worker in the appliance). `prepare` does both in this process, for callers without
workers.

The upload is held in memory (bytes) when small, or in a file when it was spilled to disk. A
PDF upload is used as it is (no copy); text is rendered to a PDF in memory. Nothing here writes
a file or deletes one: storing the document, durably, is the storage plugin's business, and
removing a spilled upload is the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from faxbot.documents import text
from faxbot.documents.kinds import DocumentError, DocumentKind, judge
from faxbot.documents.pages import count_pages

LIMIT_KEY = "appliance.limits.max_pages"


class TooManyPages(DocumentError):
    """The document has more pages than the appliance accepts for one fax. `pages` is None
    when counting stopped past the limit (a text is not laid out further than needed)."""

    def __init__(self, pages: int | None, max_pages: int) -> None:
        counted = f"{pages} pages" if pages is not None else f"more than {max_pages} pages"
        super().__init__(f"the document has {counted}; the limit is {max_pages} ({LIMIT_KEY})")
        self.pages = pages
        self.max_pages = max_pages


@dataclass(frozen=True)
class Examined:
    kind: DocumentKind  # what the upload is
    pages: int  # of the PDF to send: the upload's own, or the text's once drawn


@dataclass(frozen=True)
class PreparedDocument:
    kind: DocumentKind  # what the upload was
    pages: int
    size: int  # bytes of the prepared PDF
    content: bytes | Path  # the PDF to store: the upload itself, or the rendered text


def examine(
    upload: bytes | Path,
    *,
    max_pages: int,
    paper: str = "letter",
    kind: DocumentKind | None = None,
) -> Examined:
    """Judge `upload` (its bytes, or its file; unless its `kind` is known) and count the pages
    it makes, reading it as a stream and drawing nothing. Raises DocumentError
    (UnsupportedDocument, TooManyPages, DocumentTooComplex) with a message for the client."""
    if max_pages < 1:
        raise ValueError(f"max_pages must be at least 1, not {max_pages}")
    kind = kind or judge(upload)
    if kind is DocumentKind.PDF:
        pages = count_pages(upload, measure_up_to=max_pages)
        _check_pages(pages, max_pages)
    else:
        pages = text.count_pages(upload, paper=paper, stop_after=max_pages)
        _check_pages(pages, max_pages, counted_all=pages <= max_pages)
    return Examined(kind=kind, pages=pages)


def finish(examined: Examined, upload: bytes | Path, rendered: bytes | None) -> PreparedDocument:
    """The document to send: the upload itself when it is a PDF, else the PDF `rendered` from
    it, whose pages must be the ones counted (the layout both used is one code)."""
    if examined.kind is DocumentKind.PDF:
        size = len(upload) if isinstance(upload, bytes) else upload.stat().st_size
        return PreparedDocument(kind=examined.kind, pages=examined.pages, size=size, content=upload)
    if rendered is None:
        raise ValueError("a text document needs its rendered PDF")
    drawn = count_pages(rendered)
    if drawn != examined.pages:
        raise RuntimeError(f"the text was counted as {examined.pages} pages but drew {drawn}")
    return PreparedDocument(kind=examined.kind, pages=drawn, size=len(rendered), content=rendered)


def prepare(upload: bytes | Path, *, max_pages: int, paper: str = "letter") -> PreparedDocument:
    """`examine` `upload`, then draw it in this process when it is text: the PDF to send, on
    `paper`. Raises DocumentError (UnsupportedDocument, TooManyPages, DocumentTooComplex)
    with a message for the client."""
    examined = examine(upload, max_pages=max_pages, paper=paper)
    if examined.kind is DocumentKind.PDF:
        return finish(examined, upload, None)
    return finish(examined, upload, text.render_upload(upload, paper=paper))


def _check_pages(pages: int, max_pages: int, *, counted_all: bool = True) -> None:
    if pages == 0:
        raise DocumentError("the document has no pages")
    if pages > max_pages:
        raise TooManyPages(pages if counted_all else None, max_pages)
