"""Local storage: documents as files under `data_dir/<directory>`, named by the core's key
(never by a client's file name), durable before `put` returns."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from faxbot.plugins.contract import Deps, Health, Manifest, Plugin, load_manifest

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class StorageKeyError(ValueError):
    pass


class LocalStorage(Plugin):
    manifest: ClassVar[Manifest] = load_manifest(__name__)

    def __init__(self) -> None:
        self._root: Path | None = None
        self._fsync = True

    async def start(self, settings: Mapping[str, Any], deps: Deps) -> None:
        root = deps.data_dir / settings["directory"]
        await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
        self._root = root
        self._fsync = bool(settings["fsync"])

    def _path(self, key: str) -> Path:
        if self._root is None:
            raise RuntimeError("local storage used before start()")
        if not _KEY.match(key) or ".." in key:
            raise StorageKeyError(f"invalid storage key {key!r}")
        return self._root / key

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        """Store the chunks under `key`; returns the byte count. Durable when it returns."""
        path = self._path(key)
        tmp = path.with_name(f".{path.name}.part")
        size = 0
        handle = await asyncio.to_thread(tmp.open, "wb")
        try:
            async for chunk in chunks:
                size += len(chunk)
                await asyncio.to_thread(handle.write, chunk)
            await asyncio.to_thread(self._finish, handle, tmp, path)
        except BaseException:
            handle.close()
            tmp.unlink(missing_ok=True)
            raise
        return size

    async def put_file(self, key: str, source: Path) -> int:
        """Move `source` into the store (same file system: a rename, no copy); durable when
        it returns. Falls back to a copy across file systems."""
        path = self._path(key)
        return await asyncio.to_thread(self._adopt, source, path)

    def _adopt(self, source: Path, path: Path) -> int:
        size = source.stat().st_size
        try:
            source.replace(path)
        except OSError:  # another file system: copy through a temporary name
            tmp = path.with_name(f".{path.name}.part")
            try:
                shutil.copyfile(source, tmp)
                tmp.replace(path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        if self._fsync:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            self._fsync_dir(path.parent)
        return size

    @staticmethod
    def _fsync_dir(folder: Path) -> None:
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _finish(self, handle: Any, tmp: Path, path: Path) -> None:
        handle.flush()
        if self._fsync:
            os.fsync(handle.fileno())
        handle.close()
        tmp.replace(path)
        if self._fsync:
            self._fsync_dir(path.parent)

    async def get(self, key: str) -> Path:
        path = self._path(key)
        if not await asyncio.to_thread(path.is_file):
            raise FileNotFoundError(key)
        return path

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    async def health(self) -> Health:
        root = self._root
        ok = root is not None and await asyncio.to_thread(os.access, root, os.W_OK)
        return Health(ok=bool(ok), detail=str(root) if root else "not started")
