"""prepare() turns an upload into the job's PDF, or refuses it and leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from faxbot.documents import prepare as prepare_module
from faxbot.documents.kinds import DocumentError, DocumentKind, UnsupportedDocument, judge
from faxbot.documents.prepare import PreparedDocument, TooManyPages, prepare
from faxbot.documents.text import Page, grid

from tests.documents.samples import (
    GREEK,
    PNG,
    empty_pdf_bytes,
    pdf_bytes,
    pdf_text,
    random_bytes,
)


@pytest.fixture
def upload(tmp_path: Path) -> Path:
    return tmp_path / "upload.tmp"


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "jobs"
    folder.mkdir()
    return folder


def test_a_pdf_is_kept_byte_for_byte(upload: Path, out_dir: Path) -> None:
    data = b"%leading bytes\n" + pdf_bytes(3)
    upload.write_bytes(data)
    result = prepare(upload, out_dir / "job.pdf", max_pages=10)
    assert result == PreparedDocument(kind=DocumentKind.PDF, pages=3, size=len(data), path=upload)
    assert upload.read_bytes() == data  # the upload is only read, and sent as it is
    assert list(out_dir.iterdir()) == []  # no copy


def test_text_is_rendered_and_counted(upload: Path, out_dir: Path) -> None:
    _, rows = grid("letter")
    upload.write_text("\n".join(f"{GREEK} {n}" for n in range(rows * 2 + 1)), encoding="utf-8")
    pdf_out = out_dir / "job.pdf"
    result = prepare(upload, pdf_out, max_pages=10)
    assert (result.kind, result.pages, result.size, result.path) == (
        DocumentKind.TEXT,
        3,
        pdf_out.stat().st_size,
        pdf_out,
    )
    assert judge(pdf_out) is DocumentKind.PDF
    assert f"{GREEK} 0" in pdf_text(pdf_out.read_bytes())[0]
    assert sorted(p.name for p in out_dir.iterdir()) == ["job.pdf"]


def test_the_byte_order_mark_is_not_printed(upload: Path, out_dir: Path) -> None:
    upload.write_bytes("\ufeffHello".encode())
    prepare(upload, out_dir / "job.pdf", max_pages=1)
    [page] = pdf_text((out_dir / "job.pdf").read_bytes())
    assert page.strip() == "Hello"


def test_text_can_be_rendered_on_a4(upload: Path, out_dir: Path) -> None:
    upload.write_text("Hello", encoding="utf-8")
    prepare(upload, out_dir / "job.pdf", max_pages=1, paper="a4")
    assert b"/MediaBox [0 0 595.28 841.89]" in (out_dir / "job.pdf").read_bytes()


def test_too_many_pages_in_a_pdf(upload: Path, out_dir: Path) -> None:
    upload.write_bytes(pdf_bytes(3))
    with pytest.raises(TooManyPages) as caught:
        prepare(upload, out_dir / "job.pdf", max_pages=2)
    assert str(caught.value) == (
        "the document has 3 pages; the limit is 2 (appliance.limits.max_pages)"
    )
    assert (caught.value.pages, caught.value.max_pages) == (3, 2)
    assert list(out_dir.iterdir()) == []


def test_too_many_pages_of_text_are_refused_before_drawing(
    upload: Path, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[int] = []

    def render(pages: list[Page], out: Path, *, paper: str) -> None:
        drawn.append(len(pages))

    monkeypatch.setattr(prepare_module, "render", render)
    upload.write_text("x\n" * 10_000, encoding="utf-8")  # 20 kB of text, 167 pages
    with pytest.raises(TooManyPages, match="the document has 167 pages; the limit is 50 "):
        prepare(upload, out_dir / "job.pdf", max_pages=50)
    assert drawn == []
    assert list(out_dir.iterdir()) == []


def test_exactly_the_limit_is_accepted(upload: Path, out_dir: Path) -> None:
    upload.write_bytes(pdf_bytes(3))
    assert prepare(upload, out_dir / "job.pdf", max_pages=3).pages == 3


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (PNG, UnsupportedDocument, "PNG image"),
        (random_bytes(), UnsupportedDocument, "binary data"),
        (b"caf\xe9\n", UnsupportedDocument, "not UTF-8"),
        (b"", DocumentError, "empty"),
        (b"nul\x00byte", UnsupportedDocument, "NUL"),
        (pdf_bytes(2)[:700], DocumentError, "not a readable PDF"),
        (empty_pdf_bytes(), DocumentError, "no pages"),
    ],
    ids=["png", "random", "latin1", "empty", "nul", "truncated-pdf", "zero-pages"],
)
def test_a_refused_upload_leaves_nothing_behind(
    upload: Path, out_dir: Path, data: bytes, error: type[DocumentError], message: str
) -> None:
    upload.write_bytes(data)
    with pytest.raises(error, match=message):
        prepare(upload, out_dir / "job.pdf", max_pages=10)
    assert list(out_dir.iterdir()) == []


def test_a_failure_while_rendering_leaves_nothing_behind(
    upload: Path, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def render(pages: list[Page], out: Path, *, paper: str) -> None:
        out.write_bytes(b"%PDF-1.4 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(prepare_module, "render", render)
    upload.write_text("hello", encoding="utf-8")
    with pytest.raises(OSError, match="disk full"):
        prepare(upload, out_dir / "job.pdf", max_pages=10)
    assert list(out_dir.iterdir()) == []


def test_a_limit_below_one_is_a_programming_error(upload: Path, out_dir: Path) -> None:
    upload.write_bytes(pdf_bytes(1))
    with pytest.raises(ValueError, match="max_pages must be at least 1"):
        prepare(upload, out_dir / "job.pdf", max_pages=0)
