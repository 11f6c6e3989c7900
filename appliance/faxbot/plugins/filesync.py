"""Durable small writes at high rates, for plugins that keep files (storage, ledgers).

Making a file durable takes an fsync of the file and of its directory, and each blocking call a
helper thread makes costs it the GIL: when the event loop is busy, a thread waits up to
`sys.getswitchinterval()` (5 ms by default) to get it back after every system call. Thirty-two
documents fsync'd one by one from a thread took ~180 ms on a busy appliance; one `syncfs` of
the file system that holds them took ~0.5 ms (docs/performance.md).

So writers do their small writes where they already hold the GIL, on the event loop (writes to
the page cache take microseconds), and then await `flush()`. One thread per file system answers
all the flushes queued while it was busy with a single `syncfs(2)`: every file written, renamed
or created on that file system before the flush was asked for is then on disk. Where `syncfs`
does not exist (not Linux), `os.sync()` is used, which flushes every file system.

`syncfs` also writes back what other programs left dirty on the same file system; on a file
system shared with heavy writers, give data_dir a volume of its own.

    sync = open_sync(directory)  # blocking: from a worker thread, e.g. in the plugin's start()
    ...write files under directory on the event loop...
    await sync.flush()
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
        self._waiting: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=f"faxbot-syncfs-{device}")
        self._thread.daemon = True
        self._thread.start()

    async def flush(self) -> None:
        """Return once everything written to the file system before this call is on disk."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._closing:
                raise RuntimeError("flush() after close()")
            self._waiting.append((loop, future))
            self._wake.notify()
        await future

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
            error: OSError | None = None
            try:
                self._syncfs(self._fd)
            except OSError as exc:
                error = exc
            by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
            for loop, future in batch:
                by_loop.setdefault(loop, []).append(future)
            for loop, futures in by_loop.items():  # one wake-up per loop, not per caller
                with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits there
                    loop.call_soon_threadsafe(_settle, futures, error)


def _settle(futures: list[asyncio.Future[None]], error: OSError | None) -> None:
    for future in futures:
        if future.done():  # the caller was cancelled
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(OSError(error.errno, str(error)))
