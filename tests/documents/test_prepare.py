"""prepare() turns an upload, in memory or in a file, into the job's PDF, or refuses it; it
never writes or removes a file."""

from __future__ import annotations

from pathlib import Path

import pytest
from faxbot.documents.kinds import DocumentError, DocumentKind, UnsupportedDocument, judge
from faxbot.documents.prepare import Examined, PreparedDocument, TooManyPages, examine, prepare
from faxbot.documents.text import Typesetter, grid

from tests.documents.samples import (
    GREEK,
    PNG,
    empty_pdf_bytes,
    pdf_bytes,
    pdf_text,
    random_bytes,
)


@pytest.fixture(params=["memory", "file"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    """Makes the upload as the appliance holds it: bytes, or a file it was spilled to."""
    folder = tmp_path / "incoming"
    folder.mkdir()

    def make(data: bytes) -> bytes | Path:
        if request.param == "memory":
            return data
        path = folder / "upload.part"
        path.write_bytes(data)
        return path

    return make


def files_under(tmp_path: Path) -> list[str]:
    return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())


def test_a_pdf_is_kept_byte_for_byte(source: object, tmp_path: Path) -> None:
    data = b"%leading bytes\n" + pdf_bytes(3)
    upload = source(data)  # type: ignore[operator]
    before = files_under(tmp_path)
    result = prepare(upload, max_pages=10)
    assert result == PreparedDocument(
        kind=DocumentKind.PDF, pages=3, size=len(data), content=upload
    )
    assert files_under(tmp_path) == before  # no copy, nothing written
    if isinstance(upload, Path):
        assert upload.read_bytes() == data  # only read


def test_text_is_rendered_and_counted(source: object, tmp_path: Path) -> None:
    _, rows = grid("letter")
    text = "\n".join(f"{GREEK} {n}" for n in range(rows * 2 + 1))
    upload = source(text.encode())  # type: ignore[operator]
    before = files_under(tmp_path)
    result = prepare(upload, max_pages=10)
    assert isinstance(result.content, bytes)
    assert (result.kind, result.pages, result.size) == (DocumentKind.TEXT, 3, len(result.content))
    assert judge(result.content) is DocumentKind.PDF
    assert f"{GREEK} 0" in pdf_text(result.content)[0]
    assert files_under(tmp_path) == before  # rendered in memory


def test_the_byte_order_mark_is_not_printed() -> None:
    result = prepare("\ufeffHello".encode(), max_pages=1)
    assert isinstance(result.content, bytes)
    [page] = pdf_text(result.content)
    assert page.strip() == "Hello"


def test_text_can_be_rendered_on_a4() -> None:
    result = prepare(b"Hello", max_pages=1, paper="a4")
    assert isinstance(result.content, bytes)
    assert b"/MediaBox [0 0 595.28 841.89]" in result.content


def test_too_many_pages_in_a_pdf(source: object) -> None:
    with pytest.raises(TooManyPages) as caught:
        prepare(source(pdf_bytes(3)), max_pages=2)  # type: ignore[operator]
    assert str(caught.value) == (
        "the document has 3 pages; the limit is 2 (appliance.limits.max_pages)"
    )
    assert (caught.value.pages, caught.value.max_pages) == (3, 2)


def test_too_many_pages_of_text_are_refused_before_drawing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn: list[object] = []

    def draw(self: Typesetter, pages: object, *, paper: str) -> bytes:
        drawn.append(pages)
        return b""

    monkeypatch.setattr(Typesetter, "draw", draw)
    text = b"x\n" * 10_000  # 20 kB of text, 167 pages: counted up to the 51st only
    with pytest.raises(TooManyPages, match="the document has more than 50 pages; the limit is 50 "):
        prepare(text, max_pages=50)
    assert drawn == []


def test_a_pdf_over_the_limit_is_told_its_page_count() -> None:
    with pytest.raises(TooManyPages) as caught:
        examine(pdf_bytes(3), max_pages=2)
    assert (caught.value.pages, caught.value.max_pages) == (3, 2)


def test_examine_counts_without_drawing(source: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Typesetter, "__init__", None)  # drawing anything would fail
    _, rows = grid("letter")
    upload = source(b"line\n" * (rows * 2 + 1))  # type: ignore[operator]
    assert examine(upload, max_pages=3) == Examined(kind=DocumentKind.TEXT, pages=3)
    assert examine(source(pdf_bytes(2)), max_pages=3) == Examined(DocumentKind.PDF, 2)  # type: ignore[operator]


def test_exactly_the_limit_is_accepted(source: object) -> None:
    assert prepare(source(pdf_bytes(3)), max_pages=3).pages == 3  # type: ignore[operator]


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (PNG, UnsupportedDocument, "PNG image"),
        (random_bytes(), UnsupportedDocument, "binary data"),
        (b"caf\xe9\n", UnsupportedDocument, "not UTF-8"),
        (b"", DocumentError, "empty"),
        (b"nul\x00byte", UnsupportedDocument, "NUL"),
        (pdf_bytes(2)[:700], DocumentError, "not a readable PDF"),
        (empty_pdf_bytes(), DocumentError, "has no pages"),
    ],
    ids=["png", "random", "latin1", "empty", "nul", "truncated-pdf", "zero-pages"],
)
def test_a_refused_upload_is_named_and_nothing_is_written(
    source: object, tmp_path: Path, data: bytes, error: type[DocumentError], message: str
) -> None:
    upload = source(data)  # type: ignore[operator]
    before = files_under(tmp_path)
    with pytest.raises(error, match=message):
        prepare(upload, max_pages=10)
    assert files_under(tmp_path) == before


def test_a_failure_while_rendering_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def draw(self: Typesetter, pages: object, *, paper: str) -> bytes:
        raise OSError("out of memory for the font")

    monkeypatch.setattr(Typesetter, "draw", draw)
    with pytest.raises(OSError, match="out of memory for the font"):
        prepare(b"hello", max_pages=10)


def test_a_limit_below_one_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="max_pages must be at least 1"):
        prepare(pdf_bytes(1), max_pages=0)
