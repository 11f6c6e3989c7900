"""Durable small writes at high rates, for plugins that keep files (storage, ledgers).

Making a file durable takes an fsync of the file and of its directory, and each blocking call a
helper thread makes costs it the GIL: when the event loop is busy, a thread waits up to
`sys.getswitchinterval()` (5 ms by default) to get it back after every system call. Thirty-two
documents fsync'd one by one from a thread took ~180 ms on a busy appliance; one `syncfs` of
the file system that holds them took ~0.5 ms (docs/performance.md).

So one thread per file system makes everything durable that was asked for while it was busy
with a single `syncfs(2)`: every file written, renamed or created on that file system before
the flush was asked for is then on disk. Where `syncfs` does not exist (not Linux), `os.sync()`
is used, which flushes every file system.

The small writes themselves are best handed to that same thread (`write_and_flush`): even a
page-cache write or a rename waits for the journal while a sync is under way (~0.1-0.2 ms
each under load, measured with cProfile on the event loop), time the event loop should not
spend. The thread runs the writes queued since its last pass, in order, then syncs once.

`syncfs` also writes back what other programs left dirty on the same file system; on a file
system shared with heavy writers, give data_dir a volume of its own.

    sync = open_sync(directory)  # blocking: from a worker thread, e.g. in the plugin's start()
    size = await sync.write_and_flush(lambda: write_the_file(...))  # written, then on disk
    await sync.flush()  # or: what was written elsewhere is on disk
    sync.close()  # blocking, in stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
_Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[], Any] | None]


def _syncfs_function() -> Callable[[int], None]:
    libc_name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(libc_name, use_errno=True) if libc_name else None
    syncfs = getattr(libc, "syncfs", None) if libc is not None else None
    if syncfs is None:
        return lambda _fd: os.sync()
    syncfs.argtypes = [ctypes.c_int]
    syncfs.restype = ctypes.c_int

    def call(fd: int) -> None:
        if syncfs(fd) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"syncfs failed: {os.strerror(errno)}")

    return call


_OPEN: dict[int, FileSystemSync] = {}  # st_dev -> the one flusher of that file system
_OPEN_LOCK = threading.Lock()


def open_sync(directory: Path) -> FileSystemSync:
    """The flusher of the file system that holds `directory` (an existing directory), shared
    by every user in the process; each call needs a matching `close()`. Blocking."""
    device = directory.stat().st_dev
    with _OPEN_LOCK:
        sync = _OPEN.get(device)
        if sync is None:
            sync = _OPEN[device] = FileSystemSync(directory, device)
        sync._users += 1
        return sync


class FileSystemSync:
    """Flushes one file system, once for every batch of callers. Get it from `open_sync`."""

    def __init__(self, directory: Path, device: int) -> None:
        self._device = device
        self._users = 0
        self._syncfs = _syncfs_function()
        self._fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._waiting: list[_Waiter] = []
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=f"faxbot-syncfs-{device}")
        self._thread.daemon = True
        self._thread.start()

    async def flush(self) -> None:
        """Return once everything written to the file system before this call is on disk."""
        await self._queue(None)

    async def write_and_flush(self, write: Callable[[], T]) -> T:
        """Run `write` in the flusher's thread (it should write, rename or create files on this
        file system, not sync them), then return its result once it is on disk. If `write`
        raises, that exception is raised here and nothing is synced for it."""
        result: T = await self._queue(write)
        return result

    async def _queue(self, write: Callable[[], Any] | None) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        with self._lock:
            if self._closing:
                raise RuntimeError("flush() after close()")
            self._waiting.append((loop, future, write))
            self._wake.notify()
        return await future

    def close(self) -> None:
        """Give this user's share back; the last one stops the thread after it has answered
        every flush asked for. Blocking."""
        with _OPEN_LOCK:
            self._users -= 1
            if self._users > 0:
                return
            _OPEN.pop(self._device, None)
        with self._lock:
            self._closing = True
            self._wake.notify()
        self._thread.join(30)
        os.close(self._fd)

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._waiting and not self._closing:
                    self._wake.wait()
                batch, self._waiting = self._waiting, []
                if not batch and self._closing:
                    return
            outcomes: list[tuple[Any, BaseException | None]] = []
            for _, _, write in batch:
                if write is None:
                    outcomes.append((None, None))
                    continue
                try:
                    outcomes.append((write(), None))
                except Exception as exc:  # that caller hears it; the others are unaffected
                    outcomes.append((None, exc))
            error: OSError | None = None
            try:
                self._syncfs(self._fd)
            except OSError as exc:
                error = exc
            by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Any, ...]]] = {}
            for (loop, future, _), (value, failed) in zip(batch, outcomes, strict=True):
                # each caller gets an exception object of its own
                shared = OSError(error.errno, str(error)) if error is not None else None
                by_loop.setdefault(loop, []).append((future, value, failed or shared))
            for loop, settled in by_loop.items():  # one wake-up per loop, not per caller
                with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits there
                    loop.call_soon_threadsafe(_settle, settled)


def _settle(settled: list[tuple[Any, ...]]) -> None:
    for future, value, error in settled:
        if future.done():  # the caller was cancelled
            continue
        if error is None:
            future.set_result(value)
        else:
            future.set_exception(error)
