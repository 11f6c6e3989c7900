"""Local storage: documents as files under `data_dir/<directory>`, named by the core's key
(never by a client's file name), durable before `put` returns.

`put` returns once the document is on disk. A new key is written in place: the core refers to
a document (a job row) only after `put` returned, so a crash can leave an unreferenced file but
never a referenced partial one; rewriting an existing key replaces it atomically (a temporary
file and a rename). The writing and syncing is done by a small child process, the file worker
(worker.py, files.py): on a busy appliance each file-system call made from a thread of the
appliance itself waits for the journal and then for the GIL, and a rename took ~0.2 ms there.
The worker takes every document that has arrived, writes each, and makes them all durable with
one `syncfs`. A document over SMALL_BYTES is first written to a temporary file
in the folder from a worker thread and then moved into place by the file worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import IO, ClassVar

from faxbot.plugins.contract import (
    Deps,
    DocumentNotFound,
    Health,
    HealthCheck,
    ListsDocuments,
    Manifest,
    Plugin,
    Storage,
    load_manifest,
)

from faxbot_plugin_local.files import FileWorker

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
SMALL_BYTES = 1024 * 1024  # documents up to this size go to the file worker in one request
CHUNK = 256 * 1024  # read back in chunks of this size
LIST_BATCH = 1000  # folder entries read per thread hop when listing


class StorageKeyError(ValueError):
    pass


class LocalStorage(Plugin, Storage, ListsDocuments, HealthCheck):
    manifest: ClassVar[Manifest] = load_manifest(__name__)

    def __init__(self) -> None:
        self._root: Path | None = None
        self._files: FileWorker | None = None

    async def start(self, settings: Mapping[str, object], deps: Deps) -> None:
        root = deps.data_dir / str(settings["directory"])
        await asyncio.to_thread(_prepare_folder, root)
        self._root = root
        # The worker starts with the first document, like the appliance's other first-fax
        # costs (PDFium, phonenumbers): the appliance is ready sooner and idles smaller.
        self._files = FileWorker(root, sync=bool(settings["fsync"]))

    async def stop(self) -> None:
        if self._files is not None:
            await self._files.stop()
            self._files = None

    @property
    def worker_pid(self) -> int | None:
        """The file worker's process id, for tests and diagnostics."""
        return self._files.pid if self._files is not None else None

    def _path(self, key: str) -> Path:
        return Path(self._name(key))

    def _name(self, key: str) -> str:
        """The file of `key`, as a string (pathlib's joins cost more than the checks)."""
        if self._root is None:
            raise RuntimeError("local storage used before start()")
        if not _KEY.match(key) or ".." in key:
            raise StorageKeyError(f"invalid storage key {key!r}")
        return os.path.join(self._root, key)  # noqa: PTH118

    def _worker(self) -> FileWorker:
        if self._files is None:
            raise RuntimeError("local storage used before start()")
        return self._files

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        """Store the chunks under `key`; returns the byte count. Durable when it returns."""
        name = self._name(key)
        held = bytearray()
        spill: Path | None = None
        handle: IO[bytes] | None = None  # the temporary file, once the document is too big
        try:
            async for chunk in chunks:
                if handle is None and len(held) + len(chunk) <= SMALL_BYTES:
                    held += chunk
                    continue
                if handle is None:
                    spill = Path(name).with_name(f".{secrets.token_hex(16)}.part")
                    handle = await asyncio.to_thread(_create_private, spill)
                    await asyncio.to_thread(handle.write, bytes(held))
                    held.clear()
                await asyncio.to_thread(handle.write, chunk)
            if handle is None or spill is None:
                await self._worker().write(key, bytes(held))
                return len(held)
            await asyncio.to_thread(handle.close)
            size = (await asyncio.to_thread(spill.stat)).st_size
            await self._worker().move(key, spill)
            return size
        except BaseException:
            if handle is not None:
                handle.close()
            if spill is not None:
                spill.unlink(missing_ok=True)
            raise

    async def get(self, key: str) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:  # the first chunk comes with the open: a small document costs one thread hop
            handle, first = await asyncio.to_thread(_open_and_read, path)
        except FileNotFoundError:
            raise DocumentNotFound(key) from None
        return _read(handle, first)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    async def list_documents(self, stored_before: float) -> AsyncIterator[str]:
        """The documents whose file was last written before `stored_before`, read from the
        folder LIST_BATCH entries per thread hop (temporary files are not documents)."""
        if self._root is None:
            raise RuntimeError("local storage used before start()")
        return _listed(self._root, stored_before)

    async def health(self) -> Health:
        root = self._root
        ok = root is not None and await asyncio.to_thread(os.access, root, os.W_OK)
        return Health(ok=bool(ok), detail=str(root) if root else "not started")


def _prepare_folder(root: Path) -> None:
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    for leftover in root.glob(".*.part"):  # documents a crash cut short: never stored
        leftover.unlink(missing_ok=True)


async def _listed(root: Path, stored_before: float) -> AsyncIterator[str]:
    entries = await asyncio.to_thread(os.scandir, root)
    try:
        while batch := await asyncio.to_thread(_older, entries, stored_before):
            for name in batch:
                yield name
    finally:
        entries.close()


def _older(entries: Iterator[os.DirEntry[str]], stored_before: float) -> list[str]:
    """The names of up to LIST_BATCH documents from `entries` written before `stored_before`;
    empty at the end."""
    found: list[str] = []
    for entry in entries:
        if not entry.name.startswith(".") and _KEY.match(entry.name):
            with contextlib.suppress(FileNotFoundError):  # deleted meanwhile
                if entry.is_file() and entry.stat().st_mtime < stored_before:
                    found.append(entry.name)
        if len(found) >= LIST_BATCH:
            break
    return found


def _create_private(path: Path) -> IO[bytes]:
    """A new file only its owner can read, whatever the process's umask: a patient's
    document."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def _open_and_read(path: Path) -> tuple[IO[bytes], bytes]:
    handle = path.open("rb")
    return handle, handle.read(CHUNK)


async def _read(handle: IO[bytes], first: bytes) -> AsyncIterator[bytes]:
    with handle:
        chunk = first
        while chunk:
            yield chunk
            if len(chunk) < CHUNK:  # a short read is the end of a regular file
                return
            chunk = await asyncio.to_thread(handle.read, CHUNK)
