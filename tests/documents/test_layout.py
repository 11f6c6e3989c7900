"""Texts are laid out as they stream in, in bounded memory, and the pages counted before
drawing are the pages drawn: checked against a whole-text reference layout (the rules as the
appliance had them before streaming) on generated texts cut into arbitrary pieces, and
against the PDF the typesetter draws."""

from __future__ import annotations

import tracemalloc
import unicodedata
from pathlib import Path

import pytest
from faxbot.documents.kinds import FORBIDDEN_CONTROL, DocumentTooComplex
from faxbot.documents.pages import count_pages as count_pdf_pages
from faxbot.documents.prepare import TooManyPages, examine
from faxbot.documents.text import (
    MAX_LINE_CHARS,
    Page,
    Typesetter,
    count_pages,
    grid,
    layout,
    render_upload,
    wrap,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

COLUMNS, ROWS = grid("letter")


def reference_layout(text: str) -> list[Page]:
    """The layout rules on the whole text at once: the oracle for the streaming layout."""
    text = unicodedata.normalize("NFC", text)
    text = FORBIDDEN_CONTROL.sub("\N{REPLACEMENT CHARACTER}", text)
    sheets = text.split("\f")
    if len(sheets) > 1 and not sheets[-1].strip("\r\n"):
        sheets.pop()
    pages: list[Page] = []
    for sheet in sheets:
        rows = [row for line in sheet.splitlines() for row in wrap(line, COLUMNS)]
        pages.extend(rows[i : i + ROWS] for i in range(0, len(rows), ROWS))
        if not rows:
            pages.append([])
    return pages


# Texts rich in what the rules turn on: line breaks of every kind, form feeds, tabs, runs of
# spaces, combining accents, long words and long lines.
ATOMS = st.sampled_from(
    [
        "\n", "\r", "\r\n", "\f", "\u2028", "\t", " ", "    ", "word", "e\u0301", "é", "Ж",
        "x" * (COLUMNS - 1), "y" * (COLUMNS + 3), "\n" * ROWS, "\f\n", "\x07",
    ]
)  # fmt: skip
TEXTS = st.lists(ATOMS, max_size=80).map("".join)


def pieces(text: str, cuts: list[int]) -> list[str]:
    points = sorted({min(cut, len(text)) for cut in cuts})
    return [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]


@settings(max_examples=400, deadline=None)
@given(text=TEXTS, cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=6))
def test_the_streamed_layout_is_the_whole_text_layout(text: str, cuts: list[int]) -> None:
    assert list(layout(pieces(text, cuts))) == reference_layout(text)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS.filter(lambda text: text.strip() != ""))
def test_the_pages_counted_are_the_pages_drawn(text: str) -> None:
    data = text.encode()
    counted = count_pages(data, stop_after=1000)
    assert counted == count_pdf_pages(render_upload(data, typesetter=typesetter()))


TABLE = [
    "one line",
    "\f" * 5,
    "x\f" + "\n" * 10_000,  # the trailing blank sheet adds no page, however long
    "x\f" + "\r\n" * 3 + "y",
    "\n" * (ROWS * 2),
    "\n" * (ROWS * 2 + 1),
    "a" * (COLUMNS * ROWS * 2),
    "a" + " " * 60_000 + "b\n",
    "\t" * 5_000,
    "word " * 10_000,
]


@pytest.mark.parametrize("text", TABLE, ids=range(len(TABLE)))
def test_counted_equals_drawn_on_a_table_of_texts(text: str) -> None:
    data = text.encode()
    assert count_pages(data, stop_after=1000) == len(reference_layout(text))
    assert count_pages(data, stop_after=1000) == count_pdf_pages(
        render_upload(data, typesetter=typesetter())
    )


_TYPESETTER: list[Typesetter] = []


def typesetter() -> Typesetter:
    if not _TYPESETTER:
        _TYPESETTER.append(Typesetter())
    return _TYPESETTER[0]


def test_nine_megabytes_of_form_feeds_are_refused_in_bounded_memory(tmp_path: Path) -> None:
    upload = tmp_path / "upload.part"
    upload.write_bytes(b"\f" * 9_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(TooManyPages, match="more than 100 pages"):
            examine(upload, max_pages=100)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000  # the old layout held a list of nine million sheets


def test_counting_stops_past_the_limit() -> None:
    assert count_pages(b"\f" * 1_000_000, stop_after=10) == 11


def test_a_line_longer_than_the_bound_is_refused_before_drawing() -> None:
    too_long = f"line 2 of the text is longer than {MAX_LINE_CHARS}"
    with pytest.raises(DocumentTooComplex, match=too_long):
        examine(b"first\n" + b"a " * MAX_LINE_CHARS, max_pages=1000)
    assert examine(b"a" * MAX_LINE_CHARS, max_pages=1000).pages > 1  # the bound itself is fine


def test_a_line_split_across_reads_is_one_line(tmp_path: Path) -> None:
    upload = tmp_path / "upload.part"
    # 64 KiB reads: a CRLF and a two-byte character fall across the first read's end
    upload.write_bytes(b"a" * (65_536 - 1) + b"\r\n" + "é".encode() * 40_000)
    text = upload.read_text("utf-8")
    assert count_pages(upload, stop_after=1000) == len(reference_layout(text))
