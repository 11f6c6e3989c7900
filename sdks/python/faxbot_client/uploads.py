"""The document of a fax, given as a path, bytes or a binary file, readable once per attempt:
a retry sends the same bytes again."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO, cast

Document = str | os.PathLike[str] | bytes | IO[bytes]
"""A path to a PDF or text file, its bytes, or a file opened in binary mode."""


class Upload:
    def __init__(self, document: Document) -> None:
        self._path: Path | None = None
        self._data: bytes | None = None
        self._file: IO[bytes] | None = None
        if isinstance(document, str | os.PathLike):
            self._path = Path(document)
            self.name = self._path.name
        elif isinstance(document, bytes | bytearray | memoryview):
            self._data = bytes(document)
            self.name = "document"
        elif hasattr(document, "read"):
            self.name = Path(str(getattr(document, "name", "") or "document")).name
            if document.seekable():  # httpx seeks to the start before each send
                self._file = document
            else:  # a pipe or socket: read once, so that a retry has the bytes again
                self._data = document.read()
        else:
            raise TypeError(
                f"a fax document is a path, bytes or a binary file, not {type(document).__name__}"
            )

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        if self._path is not None:
            with self._path.open("rb") as handle:
                yield handle
        elif self._file is not None:
            yield cast(BinaryIO, self._file)  # the generated File types its payload BinaryIO
        else:
            yield io.BytesIO(self._data or b"")


__all__ = ["Document", "Upload"]
