"""The SIP plugin's documents with real Ghostscript and img2pdf: a PDF becomes a G4 fax TIFF
of 1728-px-wide pages, one per PDF page; PostScript that tries file operations gets none
under -dSAFER; a received TIFF becomes a PDF with the same page count."""

from __future__ import annotations

import asyncio
import io
import shutil
from pathlib import Path

import pytest
from faxbot_plugin_sip.documents import (
    ConversionError,
    TiffOptions,
    ghostscript_command,
    pdf_to_tiff,
    tiff_to_pdf,
)
from fpdf import FPDF
from PIL import Image
from pypdf import PdfReader

pytestmark = pytest.mark.skipif(shutil.which("gs") is None, reason="scripts/setup installs gs")


def pdf_of(pages: int) -> bytes:
    pdf = FPDF()
    for number in range(pages):
        pdf.add_page()
        pdf.set_font("helvetica", size=14)
        pdf.cell(text=f"Faxbot page {number + 1}")
    return bytes(pdf.output())


def convert(tmp_path: Path, document: bytes, **options: object) -> Path:
    source, target = tmp_path / "in.pdf", tmp_path / "out.tif"
    source.write_bytes(document)
    asyncio.run(pdf_to_tiff(source, target, TiffOptions(**options)))  # type: ignore[arg-type]
    return target


@pytest.mark.parametrize(
    ("resolution", "paper", "height"),
    [("204x196", "letter", 2156), ("204x98", "letter", 1078), ("204x196", "a4", 2292)],
)
def test_a_pdf_becomes_a_g4_fax_tiff_page_for_page(
    tmp_path: Path, resolution: str, paper: str, height: int
) -> None:
    document = pdf_of(3)
    tiff = convert(tmp_path, document, resolution=resolution, paper=paper)
    with Image.open(tiff) as image:
        assert getattr(image, "n_frames", 1) == len(PdfReader(io.BytesIO(document)).pages) == 3
        for page in range(3):
            image.seek(page)
            assert image.info["compression"] == "group4"
            assert image.size[0] == 1728
            assert abs(image.size[1] - height) <= 8, image.size
            assert image.info["dpi"] == tuple(float(v) for v in resolution.split("x"))


def test_the_command_always_has_safer() -> None:
    for options in (TiffOptions(), TiffOptions(resolution="204x98", paper="a4")):
        command = ghostscript_command(Path("a.pdf"), Path("a.tif"), options)
        assert "-dSAFER" in command and "-sDEVICE=tiffg4" in command


def test_pages_past_the_cap_are_not_converted(tmp_path: Path) -> None:
    tiff = convert(tmp_path, pdf_of(5), max_pages=2)
    with Image.open(tiff) as image:
        assert getattr(image, "n_frames", 1) == 2


def postscript_that_writes(target: Path, secret_file: Path) -> bytes:
    """PostScript (named .pdf: Ghostscript goes by content, not name) that writes a file and
    reads another, both under /tmp (tmp_path), which SAFER alone would allow: Ghostscript
    permits its temporary folder."""
    return (
        "%!PS\n"
        f"/out ({target}) (w) file def out (pwned) writestring out closefile\n"
        f"/in ({secret_file}) (r) file def\n"
        "/Helvetica findfont 20 scalefont setfont 72 720 moveto (hello) show showpage\n"
    ).encode()


def pdf_with_postscript_xobject(target: Path) -> bytes:
    """A PDF whose page draws a PostScript XObject that writes a file."""
    code = f"/o ({target}) (w) file def o (pwned) writestring o closefile".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /XObject << /P 5 0 R >> >> >>",
        b"<< /Length 8 >>\nstream\n/P Do\n\nendstream",
        b"<< /Type /XObject /Subtype /PS /Length %d >>\nstream\n" % len(code)
        + code
        + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def test_postscript_that_tries_file_operations_gets_none(tmp_path: Path) -> None:
    target = tmp_path / "pwned.txt"
    secret = tmp_path / "secret.txt"
    secret.write_text("not for documents")
    with pytest.raises(ConversionError, match="Ghostscript failed"):
        convert(tmp_path, postscript_that_writes(target, secret))
    assert not target.exists()
    assert not (tmp_path / "out.tif").exists()
    # the private temporary folder is gone too
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.pdf", "secret.txt"]


def test_a_pdf_with_a_postscript_xobject_is_drawn_without_running_it(tmp_path: Path) -> None:
    target = tmp_path / "pwned.txt"
    tiff = convert(tmp_path, pdf_with_postscript_xobject(target))
    assert not target.exists()
    with Image.open(tiff) as image:
        assert image.size[0] == 1728


def test_a_received_tiff_becomes_a_pdf_with_the_same_pages(tmp_path: Path) -> None:
    tiff = convert(tmp_path, pdf_of(4))
    pdf, pages = tiff_to_pdf(tiff.read_bytes())
    assert pages == len(PdfReader(io.BytesIO(pdf)).pages) == 4
    assert b"/CCITTFaxDecode" in pdf  # the G4 pages as they were, not re-encoded


def test_a_file_that_is_no_tiff_is_refused() -> None:
    with pytest.raises(ConversionError, match="could not be read"):
        tiff_to_pdf(b"II*\x00 not really a tiff")
