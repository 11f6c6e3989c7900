"""count_pages() counts with PDFium, from bytes or a file, and turns every way a PDF can be
unreadable into a DocumentError, without a Python warning escaping (pytest runs with warnings
as errors)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from faxbot.documents.kinds import DocumentError
from faxbot.documents.pages import count_pages

from tests.documents.samples import empty_pdf_bytes, encrypted_pdf_bytes, pdf_bytes, random_bytes


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
