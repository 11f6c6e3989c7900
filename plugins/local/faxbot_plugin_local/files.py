"""The appliance's side of the file worker (worker.py): one child process per storage
folder; requests are written to its stdin, and one task reads the answers from its stdout.
A worker that dies fails the requests it had, and the next request starts a new one."""

from __future__ import annotations

import asyncio
import errno as errnos
import itertools
import os
import sys
from pathlib import Path

from faxbot_plugin_local.worker import ANSWER, MOVE, REQUEST, WRITE

WORKER = Path(__file__).with_name("worker.py")


class FileWorker:
    def __init__(self, folder: Path, *, sync: bool = True) -> None:
        self._folder = folder
        self._sync = sync
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[None]] = {}
        self._ids = itertools.count(1)
        self._starting: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the worker in the background (the first request waits for it); a request
        starts one when there is none."""
        self._starting = asyncio.get_running_loop().create_task(self._spawn())

    async def _spawn(self) -> None:
        command = [sys.executable, "-I", "-S", str(WORKER), str(self._folder)]
        process = await asyncio.create_subprocess_exec(
            *command, *([] if self._sync else ["--no-sync"]),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        pending: dict[int, asyncio.Future[None]] = {}
        self._process, self._pending = process, pending
        self._reader = asyncio.create_task(self._read(process, pending))

    async def stop(self) -> None:
        """Let the worker answer what it has, then wait for it to exit."""
        if self._starting is not None:
            await asyncio.gather(self._starting, return_exceptions=True)
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        await process.wait()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def write(self, name: str, data: bytes) -> None:
        """Store `data` as `name` in the folder; returns once it is on disk."""
        await self._request(WRITE, name, data)

    async def move(self, name: str, source: Path) -> None:
        """Rename `source` (same file system) to `name` in the folder; returns once on disk."""
        await self._request(MOVE, name, os.fsencode(source))

    async def _request(self, op: int, name: str, payload: bytes) -> None:
        await self._running()
        process, pending = self._process, self._pending
        assert process is not None and process.stdin is not None
        request_id = next(self._ids) & 0xFFFFFFFF
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        pending[request_id] = future
        encoded = name.encode()
        try:
            process.stdin.write(
                REQUEST.pack(request_id, op, len(payload), len(encoded)) + encoded + payload
            )
            await process.stdin.drain()
            await future
        except (BrokenPipeError, ConnectionResetError):
            raise OSError(errnos.EIO, "the local storage's file worker exited") from None
        finally:
            pending.pop(request_id, None)

    async def _running(self) -> None:
        """Wait for the worker being started, or start one when the last one died."""
        if self._starting is not None and not self._starting.done():
            await asyncio.shield(self._starting)
        if self._process is None or self._process.returncode is not None:
            if self._starting is None or self._starting.done():
                self.start()
            assert self._starting is not None
            await asyncio.shield(self._starting)
        if self._process is None:
            raise OSError(errnos.EIO, "the local storage's file worker could not start")

    @staticmethod
    async def _read(
        process: asyncio.subprocess.Process, pending: dict[int, asyncio.Future[None]]
    ) -> None:
        assert process.stdout is not None
        try:
            while True:
                request_id, code = ANSWER.unpack(await process.stdout.readexactly(ANSWER.size))
                future = pending.get(request_id)
                if future is None or future.done():
                    continue
                if code:
                    future.set_exception(OSError(code, os.strerror(code)))
                else:
                    future.set_result(None)
        except asyncio.IncompleteReadError:  # the worker exited: its requests are lost
            await process.wait()
            for future in pending.values():
                if not future.done():
                    future.set_exception(
                        OSError(errnos.EIO, "the local storage's file worker exited")
                    )
