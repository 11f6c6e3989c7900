"""One JSON object per log line: the standard fields, then the `extra=` fields; values JSON
cannot hold become their str(); a traceback goes into `exc`."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from faxbot.server import logs


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    logs.configure("info")
    return stream


def test_a_line_is_one_json_object_with_its_fields(captured: io.StringIO) -> None:
    log = logging.getLogger("faxbot.test")
    log.info(
        "job queued",
        extra={"event": "job_queued", "pages": 2, "path": Path("/x/y"), "ratio": 0.5},
    )
    log.debug("not at info")
    (line,) = captured.getvalue().splitlines()
    entry = json.loads(line)
    assert list(entry)[:4] == ["ts", "level", "logger", "msg"]
    assert entry["level"] == "info" and entry["logger"] == "faxbot.test"
    assert entry["msg"] == "job queued"
    assert (entry["event"], entry["pages"], entry["path"], entry["ratio"]) == (
        "job_queued",
        2,
        "/x/y",
        0.5,
    )
    assert "funcName" not in entry and "threadName" not in entry


def test_an_exception_is_in_exc(captured: io.StringIO) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("faxbot.test").exception("failed", extra={"event": "x"})
    entry = json.loads(captured.getvalue())
    assert entry["level"] == "error" and "ValueError: boom" in entry["exc"]
