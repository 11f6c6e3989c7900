"""Render UTF-8 plain text as a PDF for faxing, in DejaVu Sans Mono.

A monospaced font keeps what people fax as text (tables, forms, aligned columns) aligned, and
it makes layout plain arithmetic: every glyph of DejaVu Sans Mono is CHAR_WIDTH_EM wide, so a
row holds a fixed number of characters and pages can be counted (`paginate`) before anything
is drawn, which lets the caller refuse a text of too many pages cheaply. The font is a real
Unicode TrueType font (Latin, Greek, Cyrillic and more), embedded as a subset; the PDF core
fonts only know Latin-1.

Layout: 10 pt on a 12 pt line, 0.5 in margins, tabs expanded to every 8th column, long lines
wrapped at the last space that fits and words longer than a row broken, a form feed starts a
new page. The PDF carries a fixed creation date, so the same text gives the same bytes.
"""

from __future__ import annotations

import codecs
import copy
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from faxbot.documents.kinds import (
    CHUNK_SIZE,
    FORBIDDEN_CONTROL,
    DocumentError,
    DocumentTooComplex,
)

PAPER_MM = {"letter": (215.9, 279.4), "a4": (210.0, 297.0)}
MARGIN_MM = 12.7
FONT_SIZE_PT = 10.0
LINE_HEIGHT_PT = 12.0
TAB_SIZE = 8
PT_MM = 25.4 / 72
CHAR_WIDTH_EM = 1233 / 2048  # advance of every DejaVu Sans Mono glyph, in font units per em
ASCENT_EM = 1901 / 2048  # from the top of a row to the baseline
CREATION_DATE = datetime(2000, 1, 1, tzinfo=UTC)  # fixed: the same text gives the same bytes
FONT_PACKAGE = "fonts-dejavu-core"
FONT_FILE = "DejaVuSansMono.ttf"
FONT_FAMILY = "mono"
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian, Ubuntu: fonts-dejavu-core
    Path("/usr/share/fonts/dejavu-sans-mono-fonts"),  # Fedora, RHEL
    Path("/usr/share/fonts/dejavu"),  # Alpine, older Fedora
    Path("/usr/share/fonts/TTF"),  # Arch
    Path("/usr/local/share/fonts"),
    Path("/usr/local/share/fonts/dejavu"),
)

NOT_SPACE = re.compile("[^ ]")
# What ends a line (str.splitlines' breaks that plain text may hold) and the form feed, which
# ends the page too; a CRLF is one break.
BREAK = re.compile("\r\n|[\n\r\f\u2028\u2029]")
ONLY_BREAKS = re.compile("[\r\n]*")
# Longest line laid out (before tabs are expanded): about 11 pages of one paragraph. A longer
# one is not a letter but a way to make the appliance hold and scan a lot for one row.
MAX_LINE_CHARS = 65_536

Page = list[str]  # the rows of one page, each at most `columns` characters


def find_font() -> Path:
    """The DejaVu Sans Mono file. The appliance may call this at start to fail early."""
    for folder in FONT_DIRS:
        candidate = folder / FONT_FILE
        if candidate.is_file():
            return candidate
    searched = ", ".join(str(folder) for folder in FONT_DIRS)
    raise DocumentError(
        f"cannot render text: the font {FONT_FILE} is not installed (looked in {searched}); "
        f"install the package {FONT_PACKAGE} (apt-get install {FONT_PACKAGE})"
    )


def grid(paper: str) -> tuple[int, int]:
    """How many characters fit on a row, and how many rows on a page, of `paper`."""
    try:
        width, height = PAPER_MM[paper]
    except KeyError:
        raise ValueError(
            f"unknown paper size {paper!r}; use one of {', '.join(PAPER_MM)}"
        ) from None
    char_width = FONT_SIZE_PT * PT_MM * CHAR_WIDTH_EM
    columns = math.floor((width - 2 * MARGIN_MM) / char_width)
    rows = math.floor((height - 2 * MARGIN_MM) / (LINE_HEIGHT_PT * PT_MM))
    return columns, rows


def paginate(text: str, *, paper: str = "letter") -> list[Page]:
    """Lay `text` out into pages of rows without drawing anything (all of it, in memory: for
    tests and small texts; uploads go through `layout`)."""
    return list(layout([text], paper=paper))


def layout(pieces: Iterable[str], *, paper: str = "letter") -> Iterator[Page]:
    """Lay out the text that `pieces` make when joined, one page at a time, as it streams in.

    Memory stays bounded whatever the text: one line (at most MAX_LINE_CHARS characters, or
    DocumentTooComplex) and one page are held, and a run of blank lines at the end is only
    counted. A consumer that stops early (a page limit) stops the work too."""
    columns, rows_per_page = grid(paper)
    return _Layout(columns, rows_per_page).pages(pieces)


def decoded(source: bytes | Path) -> Iterator[str]:
    """The text of a judged upload (its bytes, or its file), decoded as it is read, in pieces
    of at most CHUNK_SIZE bytes; a byte order mark is dropped."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    with io.BytesIO(source) if isinstance(source, bytes) else source.open("rb") as upload:
        while chunk := upload.read(CHUNK_SIZE):
            yield decoder.decode(chunk)
    yield decoder.decode(b"", final=True)


def count_pages(source: bytes | Path, *, paper: str = "letter", stop_after: int) -> int:
    """How many pages the text upload `source` lays out to, counted without drawing and
    without holding the text; counting stops at `stop_after` + 1 (more than a limit)."""
    pages = 0
    for _ in layout(decoded(source), paper=paper):
        pages += 1
        if pages > stop_after:
            break
    return pages


class _Layout:
    """The state of a layout between pieces of text: the line being read, the page being
    filled, and what is known about the current sheet (the text between two form feeds)."""

    def __init__(self, columns: int, rows_per_page: int) -> None:
        self.columns = columns
        self.rows_per_page = rows_per_page
        self.line: list[str] = []  # pieces of the line being read
        self.line_chars = 0
        self.lines = 0  # lines finished, to name a line that is too long
        self.page: Page = []
        self.sheet_rows = 0  # rows laid out on the current sheet
        self.sheets = 1
        # While a sheet after a form feed holds nothing but line breaks it may be the trailing
        # one that adds no page: its (blank) rows are only counted until that is known.
        self.only_breaks = False
        self.held_breaks = 0

    def pages(self, pieces: Iterable[str]) -> Iterator[Page]:
        carried = ""  # a CR at the end of a piece: the first half of a CRLF, perhaps
        for piece in pieces:
            text = carried + piece
            carried = ""
            if text.endswith("\r"):
                text, carried = text[:-1], "\r"
            yield from self._read(text)
        yield from self._read(carried)
        yield from self._end_of_text()

    def _read(self, text: str) -> Iterator[Page]:
        # The caller has judged the text; a control character that got here anyway is shown.
        text = FORBIDDEN_CONTROL.sub("\N{REPLACEMENT CHARACTER}", text)
        at = 0
        while at < len(text):
            if self.only_breaks or not self.line:
                run = ONLY_BREAKS.match(text, at)
                if run is not None and run.end() > at:  # blank lines: counted, not laid out
                    breaks = run.group()
                    count = breaks.count("\n") + breaks.count("\r") - breaks.count("\r\n")
                    at = run.end()
                    if self.only_breaks:
                        self.held_breaks += count
                    else:
                        yield from self._add_blank_rows(count)
                    continue
                if self.only_breaks and text[at] != "\f":
                    yield from self._release_held()
            found = BREAK.search(text, at)
            end = len(text) if found is None else found.start()
            if end > at:
                self._add_to_line(text[at:end])
            if found is None:
                break
            at = found.end()
            if found.group() != "\f":
                yield from self._end_line()
                continue
            if self.line:  # text before a form feed is a line of its own
                yield from self._end_line()
            yield from self._end_sheet(last=False)
            self.sheets += 1
            self.only_breaks = True

    def _add_to_line(self, part: str) -> None:
        self.line_chars += len(part)
        if self.line_chars > MAX_LINE_CHARS:
            raise DocumentTooComplex(
                f"line {self.lines + 1} of the text is longer than {MAX_LINE_CHARS} "
                "characters; break it into lines"
            )
        self.line.append(part)

    def _end_line(self) -> Iterator[Page]:
        line = "".join(self.line)
        self.line, self.line_chars = [], 0
        self.lines += 1
        # NFC joins a letter and its combining accent into one glyph: in a monospaced font a
        # combining mark has a full advance of its own and would push the row out of line. A
        # line break never combines with anything, so lines are normalised one at a time.
        for row in wrap(unicodedata.normalize("NFC", line), self.columns):
            yield from self._add_row(row)

    def _add_row(self, row: str) -> Iterator[Page]:
        self.page.append(row)
        self.sheet_rows += 1
        if len(self.page) == self.rows_per_page:
            yield self.page
            self.page = []

    def _add_blank_rows(self, count: int) -> Iterator[Page]:
        """`count` empty lines, a page at a time rather than a row at a time."""
        self.lines += count
        self.sheet_rows += count
        while count:
            taken = min(count, self.rows_per_page - len(self.page))
            self.page.extend([""] * taken)
            count -= taken
            if len(self.page) == self.rows_per_page:
                yield self.page
                self.page = []

    def _release_held(self) -> Iterator[Page]:
        self.only_breaks = False
        held, self.held_breaks = self.held_breaks, 0
        yield from self._add_blank_rows(held)

    def _end_sheet(self, *, last: bool) -> Iterator[Page]:
        if last and self.sheets > 1 and self.only_breaks:
            return  # a form feed that ends the text (line breaks aside) adds no page
        yield from self._release_held()
        if self.page or not self.sheet_rows:  # an empty sheet is a blank page
            yield self.page
        self.page, self.sheet_rows = [], 0

    def _end_of_text(self) -> Iterator[Page]:
        if self.line:  # the last line has no line break
            yield from self._end_line()
        yield from self._end_sheet(last=True)


def wrap(line: str, columns: int) -> list[str]:
    """Split one line into rows of at most `columns` characters: at the last space that fits,
    or inside a word that is longer than a row. Indentation is kept."""
    line = line.expandtabs(TAB_SIZE)
    rows: list[str] = []
    # Walk an index rather than slicing off the rest: a 10 MB line would be copied per row.
    start, end = 0, len(line)
    while end - start > columns:
        cut = line.rfind(" ", start, start + columns + 1)
        if cut <= start or line[start:cut].isspace():
            rows.append(line[start : start + columns])
            start += columns
            continue
        rows.append(line[start:cut].rstrip(" "))
        after = NOT_SPACE.search(line, cut)  # the spaces broken at are dropped
        if after is None:
            return rows
        start = after.start()
    rows.append(line[start:])
    return rows


class Typesetter:
    """Draws laid-out pages as a PDF. It parses the font once: a render worker keeps one for
    all its renders, so that a one-line text does not pay ~40 ms of font parsing each time.

    fpdf2 parses a font in `add_font` (metrics, character map) and subsets it in `output`,
    which changes the parsed tables in place. So each document gets a copy of the parsed
    font's metrics (fpdf2's own copy shares the immutable parts) over a fresh, lazily read
    font file, the one part subsetting consumes."""

    def __init__(self) -> None:
        from fpdf import FPDF  # ~18 MB: loaded where text is rendered, not at start
        from fpdf.fonts import TTFFont

        path = find_font()
        self._font_file = path.read_bytes()
        parsing = FPDF()
        parsing.add_font(FONT_FAMILY, fname=path)
        font = parsing.fonts[FONT_FAMILY]
        if not isinstance(font, TTFFont):  # pragma: no cover - fpdf2 changed its internals
            raise TypeError(f"fpdf2 parsed {FONT_FILE} as {type(font).__name__}")
        font.close()
        self._parsed = font

    def draw(self, pages: Iterable[Page], *, paper: str = "letter") -> bytes:
        """Draw laid-out `pages` (from `layout` with the same `paper`); the PDF's bytes."""
        grid(paper)  # refuses an unknown paper size before any work
        from fontTools.ttLib import TTFont
        from fpdf import FPDF

        pdf = FPDF(unit="mm", format=PAPER_MM[paper])
        pdf.set_creation_date(CREATION_DATE)
        pdf.set_auto_page_break(False)
        pdf.set_margins(MARGIN_MM, MARGIN_MM)
        font = copy.deepcopy(self._parsed)
        font.ttfont = TTFont(io.BytesIO(self._font_file), lazy=True, recalcTimestamp=False)
        pdf.fonts[FONT_FAMILY] = font
        pdf.set_font(FONT_FAMILY, size=FONT_SIZE_PT)
        line_height = LINE_HEIGHT_PT * PT_MM
        first_baseline = MARGIN_MM + FONT_SIZE_PT * PT_MM * ASCENT_EM
        drawn = 0
        for page in pages:
            pdf.add_page()
            drawn += 1
            for index, row in enumerate(page):
                if row.strip():
                    pdf.text(MARGIN_MM, first_baseline + index * line_height, row)
        if not drawn:
            pdf.add_page()
        return bytes(pdf.output())


def render(pages: Iterable[Page], *, paper: str = "letter") -> bytes:
    """Draw laid-out `pages` (from `layout` with the same `paper`) with a font parsed for this
    one call; the PDF's bytes. Render workers keep a Typesetter instead."""
    grid(paper)
    return Typesetter().draw(pages, paper=paper)


def render_upload(
    source: bytes | Path, *, paper: str = "letter", typesetter: Typesetter | None = None
) -> bytes:
    """The PDF of the judged text upload `source` (its bytes, or its file), laid out as it is
    read: the whole text is never held, only the pages being drawn."""
    grid(paper)
    return (typesetter or Typesetter()).draw(layout(decoded(source), paper=paper), paper=paper)


def text_to_pdf(text: str, *, paper: str = "letter") -> bytes:
    """Render plain `text` as a PDF on `paper` ("letter" or "a4"); the PDF's bytes."""
    return render(paginate(text, paper=paper), paper=paper)
