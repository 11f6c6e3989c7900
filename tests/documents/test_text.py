"""Plain text becomes a PDF in DejaVu Sans Mono: wrapped, paginated, deterministic."""

from __future__ import annotations

import io
import string
from pathlib import Path

import pytest
from faxbot.documents import text as text_module
from faxbot.documents.kinds import DocumentError
from faxbot.documents.pages import count_pages
from faxbot.documents.text import (
    CHAR_WIDTH_EM,
    CREATION_DATE,
    FONT_SIZE_PT,
    LINE_HEIGHT_PT,
    MARGIN_MM,
    PAPER_MM,
    PT_MM,
    find_font,
    grid,
    paginate,
    text_to_pdf,
    wrap,
)
from fpdf import FPDF
from pypdf import PdfReader

from tests.documents.samples import CYRILLIC, GREEK, LATIN, pdf_text

# 500 characters without a space, not periodic in the row width, so a lost or repeated row shows.
LONG_WORD = "".join(string.ascii_letters[(i * 7) % 52] + str(i % 10) for i in range(250))


def rendered(tmp_path: Path, text: str, paper: str = "letter") -> bytes:
    pdf = text_to_pdf(text, paper=paper)
    assert list(tmp_path.iterdir()) == []  # rendered in memory: no file anywhere
    return pdf


def test_every_glyph_has_the_width_the_layout_assumes() -> None:
    pdf = FPDF(unit="mm")
    pdf.add_font("mono", fname=find_font())
    pdf.set_font("mono", size=FONT_SIZE_PT)
    expected = FONT_SIZE_PT * PT_MM * CHAR_WIDTH_EM
    widths = {
        sample: pdf.get_string_width(sample * 10) for sample in ("M", "i", "é", "Ω", "Ж", " ")
    }
    pdf.add_page()
    pdf.output()  # closes the font file
    # fpdf2 keeps widths in thousandths of an em (602 for 1233/2048), hence the tolerance
    assert widths == {sample: pytest.approx(expected * 10, rel=1e-3) for sample in widths}


@pytest.mark.parametrize("paper", sorted(PAPER_MM))
def test_the_grid_fills_the_page_inside_the_margins(paper: str) -> None:
    columns, rows = grid(paper)
    width, height = PAPER_MM[paper]
    usable_width, usable_height = width - 2 * MARGIN_MM, height - 2 * MARGIN_MM
    char_width = FONT_SIZE_PT * PT_MM * CHAR_WIDTH_EM
    line_height = LINE_HEIGHT_PT * PT_MM
    assert columns * char_width <= usable_width < (columns + 1) * char_width
    assert rows * line_height <= usable_height < (rows + 1) * line_height
    assert columns >= 80  # a classic terminal line fits without wrapping


def test_unknown_paper_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown paper size 'legal'"):
        grid("legal")


def test_wrap_breaks_at_the_last_space_that_fits() -> None:
    assert wrap("the quick brown fox", 10) == ["the quick", "brown fox"]
    assert wrap("short", 10) == ["short"]
    assert wrap("exactly10!", 10) == ["exactly10!"]


def test_wrap_breaks_a_word_longer_than_a_row() -> None:
    rows = wrap("see " + LONG_WORD, 89)
    assert rows[0] == "see"
    assert all(len(row) == 89 for row in rows[1:-1])
    assert "".join(rows[1:]) == LONG_WORD


def test_wrap_keeps_indentation_and_expands_tabs() -> None:
    assert wrap("    indented", 20) == ["    indented"]
    assert wrap("a\tb", 20) == ["a       b"]
    assert wrap("        " + "x" * 30, 20) == ["        " + "x" * 12, "x" * 18]


def test_wrap_drops_the_spaces_it_breaks_at() -> None:
    assert wrap("aaaa      bbbb", 6) == ["aaaa", "bbbb"]
    assert wrap("aaaa      ", 6) == ["aaaa"]
    assert wrap("a" + " " * 50 + "b", 10) == ["a", "b"]


def test_form_feed_starts_a_new_page() -> None:
    assert paginate("one\ftwo\n") == [["one"], ["two"]]
    assert paginate("one\f\fthree") == [["one"], [], ["three"]]


def test_a_form_feed_that_ends_the_text_adds_no_page() -> None:
    assert paginate("one\f") == [["one"]]
    assert paginate("one\f\n") == [["one"]]


def test_line_endings_of_every_system_are_lines() -> None:
    assert paginate("a\r\nb\rc\nd") == [["a", "b", "c", "d"]]


def test_accents_are_joined_so_columns_stay_aligned() -> None:
    [[row]] = paginate("cafe\u0301")
    assert row == "café"


def test_text_becomes_a_pdf_whose_text_can_be_read_back(tmp_path: Path) -> None:
    text = f"{LATIN}\n{GREEK}\n{CYRILLIC}\n\tTabbed\n"
    [page] = pdf_text(rendered(tmp_path, text))
    for line in (LATIN, GREEK, CYRILLIC, "Tabbed"):
        assert line in page


def test_a_500_character_line_wraps_and_keeps_every_character(tmp_path: Path) -> None:
    [page] = pdf_text(rendered(tmp_path, LONG_WORD + "\n"))
    lines = [line.strip() for line in page.splitlines() if line.strip()]
    columns, _ = grid("letter")
    assert len(lines) == -(-len(LONG_WORD) // columns)  # wrapped, not cut
    assert "".join(lines) == LONG_WORD


def test_a_long_text_fills_several_pages(tmp_path: Path) -> None:
    _, rows = grid("letter")
    lines = [f"line {n}" for n in range(1, rows * 3 + 2)]
    pdf = rendered(tmp_path, "\n".join(lines))
    assert count_pages(pdf) == 4
    pages = pdf_text(pdf)
    assert f"line {rows}" in pages[0].splitlines()
    assert f"line {rows + 1}" in pages[1].splitlines()
    assert pages[3].split() == ["line", str(rows * 3 + 1)]


def test_form_feeds_make_pages_in_the_pdf(tmp_path: Path) -> None:
    pages = pdf_text(rendered(tmp_path, "first\fsecond\fthird\f"))
    assert [page.strip() for page in pages] == ["first", "second", "third"]


@pytest.mark.parametrize(("paper", "size"), [("letter", (612, 792)), ("a4", (595.28, 841.89))])
def test_the_page_has_the_paper_size(tmp_path: Path, paper: str, size: tuple[float, float]) -> None:
    box = PdfReader(io.BytesIO(rendered(tmp_path, "hello", paper))).pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(size, abs=0.01)


def test_the_same_text_gives_the_same_bytes(tmp_path: Path) -> None:
    first = rendered(tmp_path, f"Same text, {GREEK}\n" * 100)
    second = rendered(tmp_path, f"Same text, {GREEK}\n" * 100)
    other = rendered(tmp_path, f"Same text, {GREEK}\n" * 99)
    assert first == second
    assert first != other
    # equal bytes within one second prove little: the date must not be the clock's
    assert PdfReader(io.BytesIO(first)).metadata.creation_date == CREATION_DATE


def test_a_missing_font_names_the_package_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(text_module, "FONT_DIRS", (tmp_path / "nowhere",))
    with pytest.raises(DocumentError, match="fonts-dejavu-core"):
        text_to_pdf("hello")
