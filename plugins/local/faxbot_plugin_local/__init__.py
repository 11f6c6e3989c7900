"""Local storage: documents as files under `data_dir/<directory>`, named by the core's key
(never by a client's file name), durable before `put` returns.

A document is written under a temporary name and renamed, so a key never names a partial file.
Small documents (most faxes) are written on the event loop, where a page-cache write takes
microseconds; larger ones from a worker thread. Durability comes from one `syncfs` for every
batch of documents stored meanwhile (faxbot.plugins.filesync), not an fsync per file and per
folder: on a busy appliance that is the difference between ~0.5 ms and ~180 ms per batch.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from faxbot.plugins.contract import Deps, Health, Manifest, Plugin, load_manifest
from faxbot.plugins.filesync import FileSystemSync, open_sync

from faxbot_plugin_local.blanks import Blanks

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
SMALL_BYTES = 1024 * 1024  # documents up to this size are written on the event loop


class StorageKeyError(ValueError):
    pass


class LocalStorage(Plugin):
    manifest: ClassVar[Manifest] = load_manifest(__name__)

    def __init__(self) -> None:
        self._root: Path | None = None
        self._sync: FileSystemSync | None = None
        self._blanks: Blanks | None = None

    async def start(self, settings: Mapping[str, Any], deps: Deps) -> None:
        root = deps.data_dir / settings["directory"]
        await asyncio.to_thread(_prepare_folder, root)
        self._root = root
        self._blanks = Blanks(root)
        await asyncio.to_thread(self._blanks.start)
        if settings["fsync"]:
            self._sync = await asyncio.to_thread(open_sync, root)

    async def stop(self) -> None:
        if self._blanks is not None:
            await asyncio.to_thread(self._blanks.stop)
            self._blanks = None
        if self._sync is not None:
            await asyncio.to_thread(self._sync.close)
            self._sync = None

    def _path(self, key: str) -> Path:
        if self._root is None:
            raise RuntimeError("local storage used before start()")
        if not _KEY.match(key) or ".." in key:
            raise StorageKeyError(f"invalid storage key {key!r}")
        return self._root / key

    async def _durable(self) -> None:
        if self._sync is not None:
            await self._sync.flush()

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        """Store the chunks under `key`; returns the byte count. Durable when it returns."""
        path = self._path(key)
        tmp = path.with_name(f".{path.name}.part")
        held = bytearray()
        handle: Any = None  # the temporary file, once the document is too big to hold
        try:
            async for chunk in chunks:
                if handle is None and len(held) + len(chunk) <= SMALL_BYTES:
                    held += chunk
                    continue
                if handle is None:
                    handle = await asyncio.to_thread(tmp.open, "wb")
                    await asyncio.to_thread(handle.write, bytes(held))
                    held.clear()
                await asyncio.to_thread(handle.write, chunk)
            if handle is None:
                blank = self._blanks.take() if self._blanks is not None else None
                data = bytes(held)
                if self._sync is not None:  # written and synced by the flusher's thread
                    return await self._sync.write_and_flush(
                        lambda: _write_small(blank, tmp, path, data)
                    )
                size = _write_small(blank, tmp, path, data)
            else:
                size = await asyncio.to_thread(_finish_large, handle, tmp, path)
        except BaseException:
            if handle is not None:
                handle.close()
            tmp.unlink(missing_ok=True)
            raise
        await self._durable()
        return size

    async def put_file(self, key: str, source: Path) -> int:
        """Move `source` into the store (same file system: a rename, no copy); durable when
        it returns. Falls back to a copy across file systems."""
        path = self._path(key)
        size = source.stat().st_size
        try:
            source.replace(path)  # a rename: microseconds, on the event loop
        except OSError:  # another file system: copy through a temporary name
            await asyncio.to_thread(_copy_in, source, path)
        await self._durable()
        return size

    async def get(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():  # one stat of a local file: cheaper than a thread hop
            raise FileNotFoundError(key)
        return path

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    async def health(self) -> Health:
        root = self._root
        ok = root is not None and await asyncio.to_thread(os.access, root, os.W_OK)
        return Health(ok=bool(ok), detail=str(root) if root else "not started")


def _prepare_folder(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for leftover in root.glob(".*.part"):  # documents a crash cut short: never stored
        leftover.unlink(missing_ok=True)


def _write_small(
    blank: tuple[int, Path] | None, tmp: Path, path: Path, data: bytes | bytearray
) -> int:
    """Write `data` into a blank (or a new temporary file) and rename it to `path`."""
    if blank is None:
        blank = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), tmp
    fd, written = blank
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        os.close(fd)
        written.unlink(missing_ok=True)
        raise
    os.close(fd)
    written.replace(path)
    return len(data)


def _finish_large(handle: Any, tmp: Path, path: Path) -> int:
    handle.close()
    size = tmp.stat().st_size
    tmp.replace(path)
    return size


def _copy_in(source: Path, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.part")
    try:
        shutil.copyfile(source, tmp)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    source.unlink(missing_ok=True)
