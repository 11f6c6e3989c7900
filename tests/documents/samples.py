"""Real documents for the tests, made on the spot: PDFs with fpdf2 and pypdf, text as bytes."""

from __future__ import annotations

import io
import random

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

# Scripts DejaVu Sans Mono covers (it has no CJK glyphs), one string each.
LATIN = "Café déjà vu"
GREEK = "Καλημέρα κόσμε"
CYRILLIC = "Привет, мир"

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(20, 60))


def pdf_bytes(pages: int) -> bytes:
    """A PDF of `pages` pages; page N says "page N" so its text can be checked."""
    pdf = FPDF(format="letter")
    pdf.set_font("helvetica", size=12)
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.text(20, 20, f"page {number}")
    return bytes(pdf.output())


def empty_pdf_bytes() -> bytes:
    """A well-formed PDF without a single page."""
    out = io.BytesIO()
    PdfWriter().write(out)
    return out.getvalue()


def encrypted_pdf_bytes(user_password: str) -> bytes:
    """A 1-page PDF encrypted with RC4 (pypdf needs no extra package for RC4)."""
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def random_bytes(size: int = 4096) -> bytes:
    return random.Random(7).randbytes(size)


def pdf_text(data: bytes) -> list[str]:
    """The extracted text of each page."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
