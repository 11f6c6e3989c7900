"""What makes the SDK feel finished, against loopback stubs that answer as a later or a failing
appliance would: error codes and request ids, one X-Request-Id per call, `wait` and its
deadline, a job status this SDK does not know, the environment defaults, and the list
filters' encoding."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from faxbot_client import (
    Backoff,
    ConnectionFailed,
    Faxbot,
    FaxbotError,
    FaxJob,
    NotFoundError,
    Polling,
    RateLimitError,
    ServerError,
    UnprocessableError,
    WaitTimeout,
)

from tests.sdk_python.stub import JOB, Answer, HangUp, StubServer

pytestmark = pytest.mark.slow
FAST = Backoff(base=0.01, cap=0.02)
QUICK = Polling(first_interval=0.05, multiplier=1.5, max_interval=0.1)
JOB_ID = str(JOB["id"])


def _raised(call: Callable[[], object]) -> FaxbotError:
    with pytest.raises(FaxbotError) as caught:
        call()
    return caught.value


def job(status: str) -> Answer:
    return Answer.json(200, {**JOB, "status": status})


# -- code, status, request_id --------------------------------------------------------------


def test_an_error_carries_code_status_request_id_details_and_message() -> None:
    body = {
        "error": "no fax job with id 'x'",
        "detail": "no fax job with id 'x'",
        "code": "job_not_found",
        "details": {"job_id": "x"},
        "request_id": "req-from-body",
    }
    answer = Answer.json(404, body, {"X-Request-Id": "req-from-header"})
    with StubServer(answer) as stub, Faxbot(stub.url, "key") as faxbot:
        error = _raised(lambda: faxbot.get_fax_status("x"))
    assert type(error) is NotFoundError
    assert (error.status, error.code, error.request_id) == (404, "job_not_found", "req-from-body")
    assert (error.message, error.details) == ("no fax job with id 'x'", {"job_id": "x"})


def test_a_code_this_sdk_does_not_know_is_kept_as_the_string() -> None:
    body = {"error": "the fax is on hold", "code": "fax_on_hold_2031", "details": {}}
    with StubServer(Answer.json(422, body)) as stub, Faxbot(stub.url, "key") as faxbot:
        error = _raised(lambda: faxbot.send_fax("+12025550143", b"Hello\n"))
    assert type(error) is UnprocessableError
    assert error.code == "fax_on_hold_2031"


def test_the_request_id_comes_from_the_header_when_the_body_has_none() -> None:
    gateway = Answer(502, b"<html>Bad Gateway</html>", {"X-Request-Id": "edge-7"})
    with StubServer(gateway) as stub, Faxbot(stub.url, "key", max_retries=0) as faxbot:
        error = _raised(lambda: faxbot.get_fax_status("x"))
    assert type(error) is ServerError
    assert (error.code, error.request_id, error.status) == (None, "edge-7", 502)


def test_one_x_request_id_per_call_the_same_on_every_retry() -> None:
    limited = Answer.json(429, {"error": "slow down", "details": {}}, {"Retry-After": "0"})
    with (
        StubServer(limited, limited, Answer.json(200, JOB)) as stub,
        Faxbot(stub.url, "key", backoff=FAST) as faxbot,
    ):
        faxbot.get_fax_status(JOB_ID)
        faxbot.get_fax_status(JOB_ID)
    ids = [r.headers["x-request-id"] for r in stub.received]
    assert len(ids) == 4
    assert ids[0] == ids[1] == ids[2] != ids[3]  # one call retried twice, then a second call
    assert all(re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", i) for i in ids)


def test_without_an_answer_the_error_carries_the_id_that_was_sent() -> None:
    with HangUp() as server, Faxbot(server.url, "key", max_retries=1, backoff=FAST) as faxbot:
        error = _raised(lambda: faxbot.get_fax_status("x"))
    assert type(error) is ConnectionFailed
    assert error.status is None and error.code is None
    assert error.request_id is not None and len(error.request_id) == 32


def test_a_retry_after_over_the_limit_is_raised_at_once_with_its_code() -> None:
    quota = {"error": "quota", "code": "rate_limited", "details": {}, "request_id": "r1"}
    with (
        StubServer(Answer.json(429, quota, {"Retry-After": "61"})) as stub,
        Faxbot(stub.url, "key") as faxbot,
    ):
        error = _raised(faxbot.get_config)
    assert isinstance(error, RateLimitError)
    assert (error.retry_after, error.code, error.request_id) == (61.0, "rate_limited", "r1")
    assert len(stub.received) == 1


# -- the retry policy ----------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 404, 409, 418, 422, 501, 505, 511])
def test_statuses_outside_the_policy_are_not_retried(status: int) -> None:
    refused = Answer.json(status, {"error": "no", "details": {}})
    with StubServer(refused, Answer.json(200, JOB)) as stub, Faxbot(stub.url, "key") as faxbot:
        error = _raised(lambda: faxbot.get_fax_status(JOB_ID))
    assert error.status == status
    assert len(stub.received) == 1


def test_the_default_retries_are_the_policy_s_three() -> None:
    down = Answer.json(503, {"error": "down", "details": {}}, {"Retry-After": "0"})
    with StubServer(down) as stub, Faxbot(stub.url, "key") as faxbot:
        _raised(faxbot.list_plugins)
    assert len(stub.received) == 4  # the first attempt and three retries


# -- wait ----------------------------------------------------------------------------------


def test_wait_polls_until_a_terminal_status() -> None:
    answers = [job("queued"), job("in_progress"), job("in_progress"), job("SUCCESS")]
    with StubServer(*answers) as stub, Faxbot(stub.url, "key", polling=QUICK) as faxbot:
        done = faxbot.wait(JOB_ID, timeout=30)
    assert done.status == "SUCCESS"
    assert [r.path for r in stub.received] == [f"/fax/{JOB_ID}"] * 4
    gaps = [b.at - a.at for a, b in zip(stub.received, stub.received[1:], strict=False)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.075 and gaps[2] >= 0.1  # x1.5 up to the maximum


def test_wait_on_a_job_already_done_reads_it_once() -> None:
    with StubServer(job("FAILED")) as stub, Faxbot(stub.url, "key") as faxbot:
        assert faxbot.wait(JOB_ID, timeout=30).status == "FAILED"
    assert len(stub.received) == 1


def test_wait_raises_wait_timeout_with_the_last_job_never_sleeping_past_the_deadline() -> None:
    slow = Polling(first_interval=5, multiplier=1.5, max_interval=10)
    with (
        StubServer(job("queued"), job("in_progress")) as stub,
        Faxbot(stub.url, "key", polling=slow) as faxbot,
        pytest.raises(WaitTimeout) as caught,
    ):
        faxbot.wait(JOB_ID, timeout=0.2)
    assert isinstance(caught.value, FaxbotError)
    assert isinstance(caught.value.job, FaxJob)
    assert caught.value.job.status == "in_progress"  # read at the deadline, not the first
    assert len(stub.received) == 2
    # the poll interval is 5 s; the second read came at the 0.2 s deadline instead
    assert stub.received[1].at - stub.received[0].at < 5
    assert "still in_progress after 0.2 s" in str(caught.value)


# -- a status this SDK does not know -------------------------------------------------------


def test_an_unknown_status_is_read_as_its_string_and_is_not_terminal() -> None:
    answers = [job("held_for_review"), job("held_for_review"), job("SUCCESS")]
    with StubServer(*answers) as stub, Faxbot(stub.url, "key", polling=QUICK) as faxbot:
        held = faxbot.get_fax_status(JOB_ID)
        assert held.status == "held_for_review"
        assert held.to_dict()["status"] == "held_for_review"
        assert faxbot.wait(JOB_ID, timeout=30).status == "SUCCESS"
    assert len(stub.received) == 3


def test_an_unknown_status_in_a_page_does_not_break_the_page() -> None:
    page = {"items": [{**JOB, "status": "archived"}, JOB], "next_cursor": None}
    with StubServer(Answer.json(200, page)) as stub, Faxbot(stub.url, "key") as faxbot:
        assert [j.status for j in faxbot.list_faxes()] == ["archived", "queued"]


# -- the environment -----------------------------------------------------------------------


def test_no_arguments_read_faxbot_url_and_faxbot_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with StubServer(Answer.json(200, JOB)) as stub:
        monkeypatch.setenv("FAXBOT_URL", stub.url)
        monkeypatch.setenv("FAXBOT_API_KEY", "key-from-env")
        with Faxbot() as faxbot:
            faxbot.get_fax_status(JOB_ID)
    assert stub.received[0].headers["x-api-key"] == "key-from-env"


@pytest.mark.parametrize("missing", ["FAXBOT_URL", "FAXBOT_API_KEY"])
def test_a_missing_variable_is_named(missing: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAXBOT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("FAXBOT_API_KEY", "key")
    monkeypatch.delenv(missing)
    with pytest.raises(ValueError, match=f"set the environment variable {missing}"):
        Faxbot()


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAXBOT_URL", raising=False)
    monkeypatch.setenv("FAXBOT_API_KEY", "env-key")
    with StubServer(Answer.json(200, JOB)) as stub, Faxbot(stub.url, "given-key") as faxbot:
        faxbot.get_fax_status(JOB_ID)
    assert stub.received[0].headers["x-api-key"] == "given-key"


# -- the list filters ----------------------------------------------------------------------


def test_the_filters_are_sent_as_the_api_names_them() -> None:
    empty = Answer.json(200, {"items": [], "next_cursor": None})
    since = datetime(2026, 1, 31, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    until = datetime(2026, 2, 1, 12, 0, 0, 250000, tzinfo=UTC)
    with StubServer(empty) as stub, Faxbot(stub.url, "key") as faxbot:
        faxbot.list_faxes_page(
            limit=20,
            cursor="c1",
            status="FAILED",
            to="+12025550143",
            created_since=since,
            created_until=until,
        )
        assert list(faxbot.list_faxes(status="SUCCESS")) == []
        faxbot.list_faxes_page()
    queries = [parse_qs(urlsplit(r.path).query) for r in stub.received]
    assert [urlsplit(r.path).path for r in stub.received] == ["/fax"] * 3
    assert queries[0] == {
        "limit": ["20"],
        "cursor": ["c1"],
        "status": ["FAILED"],
        "to": ["+12025550143"],
        "created_since": ["2026-01-31T12:00:00Z"],
        "created_until": ["2026-02-01T12:00:00.250000Z"],
    }
    assert queries[1] == {"limit": ["50"], "status": ["SUCCESS"]}
    assert queries[2] == {"limit": ["50"]}  # no filter, no parameter


def test_a_naive_datetime_is_refused() -> None:
    with Faxbot("http://127.0.0.1:9", "key") as faxbot, pytest.raises(ValueError, match="zone"):
        faxbot.list_faxes_page(created_since=datetime(2026, 1, 31))


def test_an_answer_that_is_not_the_spec_s_is_a_faxbot_error() -> None:
    with StubServer(Answer.json(200, {"unexpected": True})) as stub, Faxbot(stub.url, "k") as fb:
        error = _raised(lambda: fb.get_fax_status(JOB_ID))
    assert type(error) is FaxbotError
    assert error.status == 200 and "unexpected answer to get_fax_status" in error.message
    assert json.loads(json.dumps(error.details)) == {}
    assert uuid.UUID(hex=error.request_id or "")  # the id the SDK sent, as the stub sent none


def test_a_proxy_s_503_to_health_ready_is_a_server_error_not_a_health() -> None:
    page = Answer(503, b"<html>maintenance</html>", {"Content-Type": "text/html"})
    with StubServer(page) as stub, Faxbot(stub.url, "key", max_retries=1, backoff=FAST) as fb:
        error = _raised(fb.health_ready)
    assert type(error) is ServerError
    assert len(stub.received) == 2  # retried by the policy, unlike the appliance's own 503
