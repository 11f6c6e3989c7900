"""Count the pages of a PDF with pypdf, turning any failure to read it into a DocumentError.

The PDF comes from a client, so its parser may fail in any way at all: pypdf raises its own
errors for most damage, but a crafted file can reach a KeyError, TypeError, RecursionError or
zlib error deep inside it. All of them mean the same to the client: the file is not a PDF we
can read. pypdf reports the damage it repairs on its `pypdf` logger, never as Python
warnings, and a PDF encrypted with an empty user password (common for "no printing" flags)
is opened without asking.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faxbot.documents.kinds import DocumentError


def count_pages(path: Path) -> int:
    """The number of pages of the PDF at `path`; DocumentError when it cannot be read."""
    # Imported here: pypdf costs ~10 MB and 0.1 s, paid on the first fax, not at start.
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    with path.open("rb") as stream:
        try:
            reader = PdfReader(stream)
            return _declared_count(reader) or len(reader.pages)
        except FileNotDecryptedError:
            raise DocumentError(
                "not a readable PDF: it is encrypted with a password; send it without one"
            ) from None
        except DependencyError:
            raise  # AES needs pypdf's crypto extra: our installation, not the client's file
        except Exception as exc:  # any parser failure means an unreadable document, see above
            raise DocumentError(f"not a readable PDF: {_reason(exc)}") from None


def _declared_count(reader: Any) -> int | None:
    """The page tree root's /Count, which saves loading every page object (a third of the
    cost of a one-page upload); None when it is missing or not a plausible count, and the
    caller walks the tree instead."""
    try:
        count = reader.trailer["/Root"]["/Pages"]["/Count"]
    except (KeyError, TypeError, AttributeError):
        return None
    return int(count) if isinstance(count, int) and 0 < count < 100_000 else None


def _reason(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    message = lines[0] if lines else type(exc).__name__
    return message if len(message) <= 200 else message[:200] + "..."
