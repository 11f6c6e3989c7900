"""Empty files made ahead of need, so that storing a document on the event loop never waits
for the file system to create one.

Creating a file (allocating an inode, adding a directory entry) is the slow part of writing a
small document: 25 us to 0.5 ms on ext4 depending on what the journal is doing, against ~10 us
to write 1.5 KB and ~25 us to rename (docs/performance.md). A helper thread keeps a stock of
open, empty files named `.blank-<random>`; `put` writes into one and renames it to its key.
Blanks are never referenced by a key (keys start with a letter or digit), and the ones a crash
leaves behind are removed at the next start.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from faxbot.ids import new_id

PREFIX = ".blank-"


class Blanks:
    def __init__(self, folder: Path, stock: int = 128) -> None:
        self._folder = folder
        self._stock = stock
        self._ready: list[tuple[int, Path]] = []
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="faxbot-local-blanks", daemon=True)

    def start(self) -> None:
        """Remove the blanks an earlier run left and start the thread, which makes the first
        stock (not waited for: the appliance is ready sooner, and take() copes)."""
        for leftover in self._folder.glob(f"{PREFIX}*"):
            leftover.unlink(missing_ok=True)
        self._thread.start()

    def take(self) -> tuple[int, Path] | None:
        """An open empty file and its path, or None when the stock has run out."""
        with self._lock:
            blank = self._ready.pop() if self._ready else None
            if len(self._ready) < self._stock // 2:
                self._wake.notify()
        return blank

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._wake.notify()
        if self._thread.is_alive():  # not when start() failed before starting it
            self._thread.join(30)
        with self._lock:
            left, self._ready = self._ready, []
        for fd, path in left:
            os.close(fd)
            path.unlink(missing_ok=True)

    def _make(self, count: int) -> list[tuple[int, Path]]:
        """`count` new blanks; if one cannot be made, none are kept (no fd or file leaks)."""
        made: list[tuple[int, Path]] = []
        try:
            for _ in range(count):
                path = self._folder / f"{PREFIX}{new_id()}"
                made.append((os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), path))
        except OSError:
            for fd, path in made:
                os.close(fd)
                path.unlink(missing_ok=True)
            raise
        return made

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._stopping and len(self._ready) >= self._stock // 2:
                    self._wake.wait()
                if self._stopping:
                    return
                missing = self._stock - len(self._ready)
            try:
                made = self._make(missing)
            except OSError:  # a full disk, say: put() creates its own files meanwhile
                made = []
            with self._lock:
                self._ready.extend(made)
                if not made:
                    self._wake.wait(1.0)
