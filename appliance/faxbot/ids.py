"""Random identifiers (job ids, temporary file names): 128 bits from the operating system's
CSPRNG, as 32 lowercase hex digits, the shape of `uuid.uuid4().hex`.

The random bytes are read 4 KiB at a time rather than 16 bytes per id: each `os.urandom` call
releases the GIL, and on a busy appliance the event loop then waits for a helper thread to
hand it back. One system call per 256 ids keeps that off the request path. The bytes are as
unpredictable either way; a buffer is per process, and a forked child starts its own.
"""

from __future__ import annotations

import os
import threading

_BATCH = 4096
_SIZE = 16


class _RandomIds:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = -1
        self._buffer = b""
        self._offset = 0

    def next(self) -> str:
        with self._lock:
            if self._offset >= len(self._buffer) or self._pid != os.getpid():
                self._buffer, self._offset, self._pid = os.urandom(_BATCH), 0, os.getpid()
            start = self._offset
            self._offset += _SIZE
            return self._buffer[start : start + _SIZE].hex()


_IDS = _RandomIds()


def new_id() -> str:
    """128 random bits as 32 hex digits; unique for all practical purposes."""
    return _IDS.next()
