"""Local storage's file worker: a small process that writes documents into the storage folder
and makes them durable, so that its many file-system calls neither block the appliance's event
loop nor compete for the appliance's GIL (docs/decisions.md, "Where blocking calls run").

Protocol, little-endian, on stdin and stdout. A request is `id u32, op u8, size u32,
name length u16`, then the name (UTF-8, a plain file name in the folder) and `size` bytes:
- op 0, write: the bytes are the document; a new name is written in place, an existing one
  replaced by a temporary file and a rename (see write_new).
- op 1, move: the bytes are the path of a file on the same file system; renamed to the name.
The worker handles every request that has arrived (up to MAX_BATCH), then syncs the file system once
(`syncfs`, unless started with --no-sync) and answers each with `id u32, errno u8`
(0: stored, and on disk). It exits when stdin closes, after answering what it read.

Run by the plugin as `python -I -S worker.py FOLDER [--no-sync]`: the file itself, not the
package, with the standard library only, so the process stays at ~9 MB.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno as errnos
import os
import select
import struct
import sys
from collections.abc import Callable

REQUEST = struct.Struct("<IBIH")
ANSWER = struct.Struct("<IB")
WRITE, MOVE = 0, 1
MAX_BATCH = 1024  # requests handled before a sync and the answers, however many are waiting


def syncfs_function() -> Callable[[int], None]:
    """syncfs(2) from the C library already loaded; os.sync() where there is none. The same
    as faxbot.plugins.filesync's, written again on purpose: this file runs without
    site-packages and cannot import the appliance."""
    syncfs = getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None)
    if syncfs is None:
        return lambda _fd: os.sync()
    syncfs.argtypes = [ctypes.c_int]
    syncfs.restype = ctypes.c_int

    def call(fd: int) -> None:
        if syncfs(fd) != 0:
            number = ctypes.get_errno()
            raise OSError(number, os.strerror(number))

    return call


def read_exactly(fd: int, size: int) -> bytes | None:
    """`size` bytes from `fd`, or None at the end of the stream."""
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def handle(folder_fd: int, op: int, name: str, payload: bytes) -> int:
    """Do one request; 0 or an errno."""
    if not name or "/" in name or name.startswith("."):
        return errnos.EINVAL
    try:
        if op == WRITE:
            write_new(folder_fd, name, payload)
        elif op == MOVE:
            os.rename(os.fsdecode(payload), name, dst_dir_fd=folder_fd)
        else:
            return errnos.EINVAL
    except OSError as exc:
        return exc.errno or errnos.EIO
    return 0


def write_new(folder_fd: int, name: str, payload: bytes) -> None:
    """Write `payload` as `name`. A new name is written in place: nothing refers to it until
    the answer (after the sync) says it is stored, so a crash can only leave an unreferenced
    file, and a temporary name and a rename would cost a third more of the worker's time. An
    existing name is replaced atomically (temporary file, then rename), so no reader of it
    ever sees a partial document."""
    flags = os.O_WRONLY | os.O_CREAT
    try:
        fd = os.open(name, flags | os.O_EXCL, 0o600, dir_fd=folder_fd)
        target = name
    except FileExistsError:
        target = f".{name}.part"
        fd = os.open(target, flags | os.O_TRUNC, 0o600, dir_fd=folder_fd)
    try:
        try:
            write_all(fd, payload)
        finally:
            os.close(fd)
        if target != name:
            os.rename(target, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
    except OSError:
        with contextlib.suppress(OSError):  # what is left of this write; the name as it was
            os.unlink(target, dir_fd=folder_fd)
        raise


def serve(folder: str, sync: bool, stdin: int, stdout: int) -> None:
    folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    syncfs = syncfs_function()
    closed = False
    while not closed:
        batch: list[tuple[int, int]] = []
        while True:  # one request, then every request already waiting
            header = read_exactly(stdin, REQUEST.size)
            body = None
            if header is not None:
                request_id, op, size, name_size = REQUEST.unpack(header)
                body = read_exactly(stdin, name_size + size)
            if body is None:
                closed = True
                break
            name = body[:name_size].decode("utf-8", errors="replace")
            batch.append((request_id, handle(folder_fd, op, name, body[name_size:])))
            if len(batch) >= MAX_BATCH or not select.select([stdin], [], [], 0)[0]:
                break
        if not batch:
            continue
        if sync and any(code == 0 for _, code in batch):
            try:
                syncfs(folder_fd)
            except OSError as exc:
                batch = [(rid, code or exc.errno or errnos.EIO) for rid, code in batch]
        write_all(stdout, b"".join(ANSWER.pack(rid, min(code, 255)) for rid, code in batch))


if __name__ == "__main__":
    serve(sys.argv[1], "--no-sync" not in sys.argv[2:], sys.stdin.fileno(), sys.stdout.fileno())
