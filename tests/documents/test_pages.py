"""count_pages() counts with PDFium, from bytes or a file, and turns every way a PDF can be
unreadable into a DocumentError, without a Python warning escaping (pytest runs with warnings
as errors)."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pytest
from faxbot.documents.kinds import DocumentError, DocumentTooComplex
from faxbot.documents.pages import MAX_PAGE_SIDE_PT, MAX_STRUCTURE_BYTES, count_pages
from pypdf import PdfWriter

from tests.documents.samples import (
    empty_pdf_bytes,
    encrypted_pdf_bytes,
    object_stream_pdf,
    pdf_bytes,
    random_bytes,
)


def pages_of(tmp_path: Path, data: bytes) -> int:
    """Counted from memory and from a file; both must agree."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    from_file = count_pages(path)
    assert count_pages(data) == from_file
    return from_file


@pytest.mark.parametrize("pages", [1, 3])
def test_pages_are_counted(tmp_path: Path, pages: int) -> None:
    assert pages_of(tmp_path, pdf_bytes(pages)) == pages


def test_a_pdf_after_leading_garbage_is_counted(tmp_path: Path) -> None:
    assert pages_of(tmp_path, b"garbage from a mail gateway\n" * 30 + pdf_bytes(3)) == 3


def test_a_pdf_without_pages_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"^not a readable PDF: .* or has no pages$"):
        pages_of(tmp_path, empty_pdf_bytes())


def test_an_earlier_password_failure_is_not_blamed_on_the_next_document(tmp_path: Path) -> None:
    # PDFium leaves its last error code in place on some failures
    with pytest.raises(DocumentError, match="password"):
        pages_of(tmp_path, encrypted_pdf_bytes(user_password="secret"))
    with pytest.raises(DocumentError) as caught:
        pages_of(tmp_path, empty_pdf_bytes())
    assert "password" not in str(caught.value)


def test_an_empty_user_password_opens_without_asking(tmp_path: Path) -> None:
    assert pages_of(tmp_path, encrypted_pdf_bytes(user_password="")) == 1


def test_a_password_protected_pdf_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"not a readable PDF: it is encrypted with a password"):
        pages_of(tmp_path, encrypted_pdf_bytes(user_password="secret"))


def test_many_threads_can_count_at_once(tmp_path: Path) -> None:
    # PDFium is not thread-safe; count_pages serializes calls into it
    from concurrent.futures import ThreadPoolExecutor

    documents = [pdf_bytes(n % 5 + 1) for n in range(40)]
    with ThreadPoolExecutor(8) as pool:
        counted = list(pool.map(count_pages, documents))
    assert counted == [n % 5 + 1 for n in range(40)]


@pytest.mark.parametrize(
    "data",
    [
        pdf_bytes(3)[: len(pdf_bytes(3)) // 2],
        pdf_bytes(1)[:-60],
        b"%PDF-1.7\n" + random_bytes(),
        b"%PDF-",
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"trailer << /Root 1 0 R >>\nstartxref\n0\n%%EOF\n",
        b"%PDF-1.4\ntrailer << /Size 1 >>\nstartxref\n0\n%%EOF\n",
    ],
    ids=["truncated-half", "truncated-tail", "random-body", "header-only", "no-pages", "no-root"],
)
def test_a_damaged_pdf_is_a_document_error(tmp_path: Path, data: bytes) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(DocumentError, match=r"^not a readable PDF: ."):
            pages_of(tmp_path, data)
    assert [str(w.message) for w in caught] == []


def test_a_missing_file_is_not_the_clients_fault(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        count_pages(tmp_path / "gone.pdf")


def sized_pdf(width_pt: float, height_pt: float, pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width_pt, height_pt)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "size", [(612, 792), (595, 842), (792, 1224), (MAX_PAGE_SIDE_PT, MAX_PAGE_SIDE_PT)]
)
def test_pages_of_paper_sizes_are_accepted(size: tuple[float, float]) -> None:
    assert count_pages(sized_pdf(*size), measure_up_to=10) == 1


@pytest.mark.parametrize("size", [(14_400, 14_400), (612, 100_000), (3000, 792)])
def test_an_absurd_page_size_is_refused(size: tuple[float, float]) -> None:
    with pytest.raises(DocumentTooComplex, match=r"page 1 of the PDF is .* at most 1728 points"):
        count_pages(sized_pdf(*size), measure_up_to=10)


def test_pages_past_the_measured_limit_are_only_counted() -> None:
    # the caller refuses a document over its page limit: its pages need no measuring
    assert count_pages(sized_pdf(14_400, 14_400, pages=3), measure_up_to=2) == 3


def test_a_pdf_built_of_object_streams_is_counted() -> None:
    assert count_pages(object_stream_pdf(padding=1000), measure_up_to=10) == 1


def test_a_structure_that_inflates_past_the_bound_is_refused_before_pdfium_reads_it(
    tmp_path: Path,
) -> None:
    bomb = object_stream_pdf(padding=MAX_STRUCTURE_BYTES + 1)
    assert len(bomb) < MAX_STRUCTURE_BYTES // 500  # tiny on the wire
    path = tmp_path / "bomb.pdf"
    path.write_bytes(bomb)
    for source in (bomb, path):
        with pytest.raises(DocumentTooComplex, match="structure inflates to more than"):
            count_pages(source)
