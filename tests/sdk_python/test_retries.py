"""Retries against loopback stubs: Retry-After, backoff limits, what is not retried, and the same
Idempotency-Key and document bytes on every attempt."""

from __future__ import annotations

import io
import json
import os
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import pytest
from faxbot_client import (
    Backoff,
    ConnectionFailed,
    Document,
    Faxbot,
    FaxbotError,
    Polling,
    RateLimitError,
    ServerError,
)
from faxbot_client.retry import RETRY_STATUSES, retry_after

from tests.conftest import REPO
from tests.sdk_python.stub import JOB, Answer, HangUp, StubServer

TO = "+12025550143"
FAST = Backoff(base=0.01, cap=0.02)
QUEUED = Answer.json(202, JOB)
UNAVAILABLE = Answer.json(
    503, {"error": "no outbound transport is running", "details": {}}, {"Retry-After": "0"}
)


def _raised(call: Callable[[], object]) -> FaxbotError:
    with pytest.raises(FaxbotError) as caught:
        call()
    return caught.value


@pytest.mark.slow
def test_429_waits_for_retry_after_then_sends_once() -> None:
    limited = Answer.json(429, {"error": "slow down", "details": {}}, {"Retry-After": "1"})
    with StubServer(limited, QUEUED) as stub, Faxbot(stub.url, "key") as faxbot:
        job = faxbot.send_fax(TO, b"Hello\n")
    assert job.id == JOB["id"] and job.status == "queued"
    assert [r.method + " " + r.path for r in stub.received] == ["POST /fax", "POST /fax"]
    waited = stub.received[1].at - stub.received[0].at
    assert 1.0 <= waited < 2.0
    keys = [r.headers["idempotency-key"] for r in stub.received]
    assert keys[0] == keys[1] and uuid.UUID(keys[0]).version == 4
    assert all(r.headers["x-api-key"] == "key" for r in stub.received)


def test_the_defaults_are_the_policy_in_sdks_retry_policy_json() -> None:
    policy = json.loads((REPO / "sdks" / "retry-policy.json").read_text(encoding="utf-8"))
    assert Backoff() == Backoff(
        policy["base_seconds"], policy["cap_seconds"], policy["max_retry_after_seconds"]
    )
    wait = policy["wait"]
    assert Polling() == Polling(
        wait["first_interval_seconds"], wait["multiplier"], wait["max_interval_seconds"]
    )
    assert sorted(RETRY_STATUSES) == policy["retry_statuses"]
    with Faxbot("http://127.0.0.1:9", "key") as faxbot:
        assert faxbot.max_retries == policy["max_retries"]


def test_the_wait_before_retry_n_is_equal_jitter_in_half_to_all_of_the_step() -> None:
    backoff = Backoff()
    for retry, step in enumerate([0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]):
        delays = [backoff.delay(retry) for _ in range(500)]
        assert all(step / 2 <= delay <= step for delay in delays), retry
        assert max(delays) - min(delays) > step / 4  # random, not a fixed point
    assert backoff.delay(2, asked=12.5) == 12.5  # a Retry-After is waited instead


def test_polling_intervals_grow_by_half_up_to_the_maximum() -> None:
    intervals = Polling().intervals()
    assert [next(intervals) for _ in range(9)] == [
        1.0,
        1.5,
        2.25,
        3.375,
        5.0625,
        7.59375,
        10.0,
        10.0,
        10.0,
    ]


def test_retry_after_is_seconds_or_an_http_date() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after("7", now) == 7.0
    assert retry_after(" 1.5 ", now) == 1.5
    assert retry_after("Wed, 01 May 2024 12:00:30 GMT", now) == 30.0
    assert retry_after("Wed, 01 May 2024 11:59:00 GMT", now) == 0.0  # already past
    assert retry_after("-3", now) == 0.0
    assert retry_after("soon", now) is None
    assert retry_after("", now) is None
    assert retry_after(None, now) is None


@pytest.mark.slow
def test_retries_stop_after_max_retries() -> None:
    with (
        StubServer(UNAVAILABLE) as stub,
        Faxbot(stub.url, "key", max_retries=2, backoff=FAST) as faxbot,
    ):
        error = _raised(lambda: faxbot.send_fax(TO, b"Hello\n"))
    assert type(error) is ServerError
    assert (error.status, error.message) == (503, "no outbound transport is running")
    assert len(stub.received) == 3  # the first attempt and two retries
    assert len({r.headers["idempotency-key"] for r in stub.received}) == 1


@pytest.mark.slow
@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 415, 422])
def test_other_4xx_are_not_retried(status: int) -> None:
    refused = Answer.json(status, {"error": "no", "details": {"why": status}})
    with StubServer(refused, QUEUED) as stub, Faxbot(stub.url, "key", backoff=FAST) as faxbot:
        error = _raised(lambda: faxbot.send_fax(TO, b"Hello\n"))
    assert (error.status, error.message, error.details) == (status, "no", {"why": status})
    assert len(stub.received) == 1


@pytest.mark.slow
@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_the_policy_s_statuses_are_retried(status: int) -> None:
    failed = Answer.json(status, {"error": "later", "details": {}})
    with StubServer(failed, QUEUED) as stub, Faxbot(stub.url, "key", backoff=FAST) as faxbot:
        assert faxbot.get_fax_status(str(JOB["id"])).id == JOB["id"]
    assert [r.path for r in stub.received] == [f"/fax/{JOB['id']}"] * 2


@pytest.mark.slow
def test_a_retry_after_longer_than_the_limit_is_raised_not_waited() -> None:
    limited = Answer.json(429, {"error": "quota", "details": {}}, {"Retry-After": "120"})
    began = time.monotonic()
    with StubServer(limited, QUEUED) as stub, Faxbot(stub.url, "key") as faxbot:
        error = _raised(faxbot.list_faxes_page)
    assert time.monotonic() - began < 5
    assert isinstance(error, RateLimitError)
    assert (error.status, error.retry_after) == (429, 120.0)
    assert len(stub.received) == 1


@pytest.mark.slow
def test_a_body_that_is_not_the_api_s_still_raises_by_status() -> None:
    gateway = Answer(502, b"<html>Bad Gateway</html>", {"Content-Type": "text/html"})
    with (
        StubServer(gateway) as stub,
        Faxbot(stub.url, "key", max_retries=1, backoff=FAST) as faxbot,
    ):
        error = _raised(lambda: faxbot.get_fax_status("x"))
    assert type(error) is ServerError
    assert error.message == "HTTP 502 Bad Gateway: <html>Bad Gateway</html>"
    assert error.details == {}
    assert len(stub.received) == 2


@pytest.mark.slow
def test_a_server_that_hangs_up_raises_connection_failed_after_the_retries() -> None:
    with HangUp() as server, Faxbot(server.url, "key", max_retries=2, backoff=FAST) as faxbot:
        error = _raised(lambda: faxbot.send_fax(TO, b"Hello\n"))
        assert server.accepted == 3
    assert type(error) is ConnectionFailed
    assert error.status is None
    assert "after 3 attempts" in error.message


@pytest.mark.slow
def test_a_timeout_is_retried_then_raised() -> None:
    slow = Answer(202, b"{}", delay=1.0)
    began = time.monotonic()
    with (
        StubServer(slow) as stub,
        Faxbot(stub.url, "key", timeout=0.2, max_retries=1, backoff=FAST) as faxbot,
    ):
        error = _raised(lambda: faxbot.get_fax_status("x"))
        assert len(stub.received) == 2
    assert type(error) is ConnectionFailed
    assert "ReadTimeout" in error.message
    assert 0.4 <= time.monotonic() - began < 3


class _Pipe(io.RawIOBase):
    """A stream that can be read once, like a pipe."""

    def __init__(self, data: bytes) -> None:
        self._left = data

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        size = min(len(buffer), len(self._left))
        buffer[:size], self._left = self._left[:size], self._left[size:]
        return size


DOCUMENT = b"%PDF-1.4\n% the same bytes on every attempt\n" + os.urandom(64)


def _path(tmp_path: Path) -> Path:
    (tmp_path / "doc.pdf").write_bytes(DOCUMENT)
    return tmp_path / "doc.pdf"


def _opened(tmp_path: Path) -> IO[bytes]:
    return _path(tmp_path).open("rb")


@pytest.mark.slow
@pytest.mark.parametrize(
    "make",
    [
        _path,
        lambda tmp_path: str(_path(tmp_path)),
        lambda _: DOCUMENT,
        lambda _: io.BytesIO(DOCUMENT),
        _opened,
        lambda _: io.BufferedReader(_Pipe(DOCUMENT)),
    ],
    ids=["path", "str", "bytes", "bytesio", "file", "pipe"],
)
def test_every_attempt_sends_the_whole_document(
    make: Callable[[Path], Document], tmp_path: Path
) -> None:
    document = make(tmp_path)
    with (
        StubServer(UNAVAILABLE, UNAVAILABLE, QUEUED) as stub,
        Faxbot(stub.url, "key", backoff=FAST) as faxbot,
    ):
        faxbot.send_fax(TO, document)
    if isinstance(document, io.IOBase):
        document.close()
    assert len(stub.received) == 3
    for request in stub.received:
        assert DOCUMENT in request.body
        assert f'name="to"\r\nContent-Type: text/plain\r\n\r\n{TO}'.encode() in request.body
        # a random boundary, not the generator's fixed "+++" that a document could contain
        boundary = request.headers["content-type"].split("boundary=", 1)[1]
        assert boundary != "+++" and len(boundary) >= 16
    assert len({len(r.body) for r in stub.received}) == 1
    assert len({r.headers["idempotency-key"] for r in stub.received}) == 1


def test_a_document_of_another_type_is_refused() -> None:
    with Faxbot("http://127.0.0.1:9", "key") as faxbot, pytest.raises(TypeError, match="int"):
        faxbot.send_fax(TO, 42)  # type: ignore[arg-type]
