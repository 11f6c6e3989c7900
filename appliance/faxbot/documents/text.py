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

import math
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from faxbot.documents.kinds import FORBIDDEN_CONTROL, DocumentError

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
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian, Ubuntu: fonts-dejavu-core
    Path("/usr/share/fonts/dejavu-sans-mono-fonts"),  # Fedora, RHEL
    Path("/usr/share/fonts/dejavu"),  # Alpine, older Fedora
    Path("/usr/share/fonts/TTF"),  # Arch
    Path("/usr/local/share/fonts"),
    Path("/usr/local/share/fonts/dejavu"),
)

NOT_SPACE = re.compile("[^ ]")

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
    """Lay `text` out into pages of rows without drawing anything."""
    columns, rows_per_page = grid(paper)
    # NFC joins a letter and its combining accent into one glyph: in a monospaced font a
    # combining mark has a full advance of its own and would push the row out of line.
    text = unicodedata.normalize("NFC", text)
    # The caller has judged the text; a control character that got here anyway is shown.
    text = FORBIDDEN_CONTROL.sub("\N{REPLACEMENT CHARACTER}", text)
    sheets = text.split("\f")
    if len(sheets) > 1 and not sheets[-1].strip("\r\n"):
        sheets.pop()  # a form feed that ends the text ejects the last page; it adds none
    pages: list[Page] = []
    for sheet in sheets:
        rows = [row for line in sheet.splitlines() for row in wrap(line, columns)]
        pages.extend(rows[i : i + rows_per_page] for i in range(0, len(rows), rows_per_page))
        if not rows:
            pages.append([])  # an empty sheet between two form feeds is a blank page
    return pages


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


def render(pages: Sequence[Page], *, paper: str = "letter") -> bytes:
    """Draw laid-out `pages` (from `paginate` with the same `paper`); the PDF's bytes."""
    grid(paper)  # refuses an unknown paper size before any work
    from fpdf import FPDF  # ~18 MB: loaded when the first text fax arrives, not at start

    pdf = FPDF(unit="mm", format=PAPER_MM[paper])
    pdf.set_creation_date(CREATION_DATE)
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN_MM, MARGIN_MM)
    pdf.add_font("mono", fname=find_font())
    pdf.set_font("mono", size=FONT_SIZE_PT)
    line_height = LINE_HEIGHT_PT * PT_MM
    first_baseline = MARGIN_MM + FONT_SIZE_PT * PT_MM * ASCENT_EM
    for page in pages or [[]]:
        pdf.add_page()
        for index, row in enumerate(page):
            if row.strip():
                pdf.text(MARGIN_MM, first_baseline + index * line_height, row)
    return bytes(pdf.output())


def text_to_pdf(text: str, *, paper: str = "letter") -> bytes:
    """Render plain `text` as a PDF on `paper` ("letter" or "a4"); the PDF's bytes."""
    return render(paginate(text, paper=paper), paper=paper)
