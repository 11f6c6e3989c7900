"""Real documents for the tests, made on the spot: PDFs with fpdf2 and pypdf, text as bytes."""

from __future__ import annotations

import io
import random
import struct
import zlib

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


def object_stream_pdf(padding: int) -> bytes:
    """A 1-page PDF 1.5 whose catalog, page tree and page sit in a deflated object stream,
    `padding` spaces between two of them: a few bytes that inflate to `padding` bytes."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R >> "
    tree = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >> "
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"
    offsets = f"1 0 2 {len(catalog)} 3 {len(catalog) + len(tree) + padding} ".encode()
    deflate = zlib.compressobj(9)
    packed = deflate.compress(offsets + catalog + tree)
    for done in range(0, padding, 1 << 20):
        packed += deflate.compress(b" " * min(1 << 20, padding - done))
    packed += deflate.compress(page) + deflate.flush()
    out = bytearray(b"%PDF-1.5\n")
    stream_at = len(out)
    out += b"4 0 obj\n<< /Type /ObjStm /N 3 /First %d /Filter /FlateDecode /Length %d >>\n" % (
        len(offsets),
        len(packed),
    )
    out += b"stream\n" + packed + b"\nendstream\nendobj\n"
    xref_at = len(out)
    entries = [b"\x00" + struct.pack(">IH", 0, 65535)]
    entries += [b"\x02" + struct.pack(">IH", 4, index) for index in range(3)]
    entries += [b"\x01" + struct.pack(">IH", at, 0) for at in (stream_at, xref_at)]
    table = b"".join(entries)
    out += b"5 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R /Length %d >>\n" % len(table)
    out += b"stream\n" + table + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)
