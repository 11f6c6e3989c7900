"""The documents of a SIP fax: the PDF the core stored becomes a fax TIFF for Asterisk's
SendFAX (Ghostscript), and a TIFF that ReceiveFAX wrote becomes a PDF for the core (img2pdf,
which wraps the G4 pages as they are, without decoding them).

Ghostscript runs as a subprocess with `-dSAFER` always (a document is untrusted input: under
SAFER, PostScript in it cannot open, write or delete files), a wall-clock timeout, and a page
cap (`-dLastPage`), so a hostile or huge document costs bounded time and disk. SAFER still
lets a document read and write Ghostscript's temporary folder (TMPDIR, else /tmp: measured
with Ghostscript 10.0), so each run gets a fresh private one, and an environment of its own
(PATH and that folder: none of the appliance's secrets)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import shutil
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Resolution = Literal["204x196", "204x98"]
Paper = Literal["letter", "a4"]


class ConversionError(Exception):
    """The document could not be converted; the message is safe to show (no document text)."""


@dataclass(frozen=True)
class TiffOptions:
    resolution: Resolution = "204x196"  # fine; 204x98 is normal
    paper: Paper = "letter"
    max_pages: int = 100
    timeout_seconds: float = 120.0
    ghostscript: str = "gs"


def ghostscript_command(source: Path, target: Path, options: TiffOptions) -> list[str]:
    """The Ghostscript command line that turns the PDF `source` into the fax TIFF `target`
    (docs/transports.md quotes it)."""
    return [
        options.ghostscript,
        "-q",
        "-dNOPAUSE",
        "-dBATCH",
        "-dSAFER",
        "-sDEVICE=tiffg4",
        f"-r{options.resolution}",
        f"-sPAPERSIZE={options.paper}",
        "-dFIXEDMEDIA",
        "-dPDFFitPage",
        "-dFirstPage=1",
        f"-dLastPage={options.max_pages}",
        f"-sOutputFile={target}",  # the plugin's own names: no `%` (a page pattern), no `-`
        str(source),
    ]


async def pdf_to_tiff(source: Path, target: Path, options: TiffOptions) -> None:
    """Convert; on any failure `target` does not exist afterwards."""
    private = await asyncio.to_thread(tempfile.mkdtemp, prefix=".gs-", dir=target.parent)
    try:
        await _run(source, target, options, private)
    finally:
        await asyncio.to_thread(shutil.rmtree, private, True)


async def _run(source: Path, target: Path, options: TiffOptions, private: str) -> None:
    command = ghostscript_command(source, target, options)
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TMPDIR": private}
    environment |= {"TEMP": private, "TMP": private, "LC_ALL": "C"}
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
            start_new_session=True,  # a timeout kills Ghostscript and anything it started
        )
    except OSError as exc:
        raise ConversionError(
            f"Ghostscript could not be run ({options.ghostscript}): {exc}"
        ) from None
    try:
        _, errors = await asyncio.wait_for(process.communicate(), options.timeout_seconds)
    except TimeoutError:
        _kill(process)
        await process.wait()
        target.unlink(missing_ok=True)
        raise ConversionError(
            f"Ghostscript did not finish within {options.timeout_seconds:g} s"
        ) from None
    except asyncio.CancelledError:
        _kill(process)
        await asyncio.shield(process.wait())
        target.unlink(missing_ok=True)
        raise
    if process.returncode != 0 or not target.exists():
        target.unlink(missing_ok=True)
        # Ghostscript's own error line names the problem, not the document's text.
        first = errors.decode("utf-8", "replace").strip().splitlines()[:1]
        detail = f": {first[0][:200]}" if first else ""
        raise ConversionError(f"Ghostscript failed (exit {process.returncode}){detail}")


def _kill(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def tiff_to_pdf(tiff: bytes) -> tuple[bytes, int]:
    """A received fax TIFF as a PDF, and its page count. img2pdf embeds each G4 page as it is
    (CCITTFaxDecode), so nothing is re-encoded or lost; a TIFF it cannot read is refused."""
    import img2pdf  # type: ignore[import-untyped]  # imported here: only a receiving plugin needs it
    from PIL import Image

    try:
        with Image.open(io.BytesIO(tiff)) as image:
            pages = int(getattr(image, "n_frames", 1))
        pdf = img2pdf.convert(tiff, rotation=img2pdf.Rotation.ifvalid)
    except Exception as exc:  # img2pdf and Pillow raise many kinds for a bad file
        raise ConversionError(
            f"the received TIFF could not be read: {type(exc).__name__}"
        ) from None
    if not isinstance(pdf, bytes):
        raise ConversionError("img2pdf returned no PDF")
    return pdf, pages
