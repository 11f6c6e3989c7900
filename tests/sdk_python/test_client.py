"""The SDK against a real appliance: sends, status, pages, typed errors, and a retry after a
lost answer that makes one job."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from faxbot_client import (
    AuthenticationError,
    BadRequestError,
    Faxbot,
    FaxbotError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    UnsupportedMediaTypeError,
)

from tests.sdk_python.conftest import TO, wait_until_done
from tests.sdk_python.stub import DroppingProxy
from tests.server.conftest import Appliance, ledger, one_page_pdf

pytestmark = pytest.mark.slow
LIMIT = 10 * 1024 * 1024  # appliance.limits.upload_max_bytes in the example config.d


def test_send_from_a_path_bytes_and_a_file_reaches_success(
    appliance: Appliance, faxbot: Faxbot, tmp_path: Path
) -> None:
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(one_page_pdf())
    with pdf.open("rb") as handle:
        jobs = [
            faxbot.send_fax(TO, pdf),
            faxbot.send_fax(TO, str(pdf)),
            faxbot.send_fax(TO, b"Hello from the SDK\n"),
            faxbot.send_fax(TO, handle),
            faxbot.send_fax(TO, io.BytesIO(one_page_pdf())),
        ]
    assert [(j.to, j.status, j.pages) for j in jobs] == [(TO, "queued", 1)] * 5
    assert len({j.id for j in jobs}) == 5
    for job in jobs:
        done = wait_until_done(faxbot, job.id)
        assert (done.id, done.status, done.error) == (job.id, "SUCCESS", None)
        assert str(done.provider_sid).startswith("test-")
    sent = sorted(str(entry["job_id"]) for entry in ledger(appliance.data_dir))
    assert sent == sorted(j.id for j in jobs)  # each handed to the transport once


def test_list_faxes_follows_the_cursor_across_pages(faxbot: Faxbot) -> None:
    sent = [faxbot.send_fax(TO, f"page {n}\n".encode()).id for n in range(7)]
    newest_first = sent[::-1]
    assert [j.id for j in faxbot.list_faxes(limit=3)] == newest_first
    pages = [faxbot.list_faxes_page(limit=3)]
    while (cursor := pages[-1].next_cursor) is not None:
        pages.append(faxbot.list_faxes_page(limit=3, cursor=cursor))
    assert [len(p.items) for p in pages] == [3, 3, 1]
    assert [j.id for p in pages for j in p.items] == newest_first
    assert [j.id for j in faxbot.list_faxes()] == newest_first  # one page of 50


def _raised(call: Callable[[], object]) -> FaxbotError:
    with pytest.raises(FaxbotError) as caught:
        call()
    return caught.value


def test_typed_errors(appliance: Appliance, faxbot: Faxbot) -> None:
    with Faxbot(appliance.url, "fbk_not-a-real-token") as stranger:
        error = _raised(stranger.list_faxes_page)
    assert type(error) is AuthenticationError
    assert (error.status, error.message) == (401, "invalid or expired API key")

    with Faxbot(appliance.url, appliance.tokens["reader"]) as reader:
        assert reader.list_faxes_page().items == []  # the key works; it just may not send
        error = _raised(lambda: reader.send_fax(TO, b"Hello\n"))
    assert type(error) is PermissionDeniedError
    assert error.status == 403
    assert error.details == {"required_scope": "fax:send", "key_id": "reader"}

    error = _raised(lambda: faxbot.get_fax_status("0123"))
    assert type(error) is NotFoundError
    assert (error.status, error.message) == (404, "no fax job with id '0123'")

    error = _raised(lambda: faxbot.send_fax(TO, b"%PDF-1.4\n" + b"0" * LIMIT))
    assert type(error) is PayloadTooLargeError
    assert (error.status, error.details) == (413, {"limit_bytes": LIMIT})

    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    error = _raised(lambda: faxbot.send_fax(TO, png))
    assert type(error) is UnsupportedMediaTypeError
    assert error.status == 415
    assert "PNG image" in error.message

    error = _raised(lambda: faxbot.send_fax("+1555", b"Hello\n"))
    assert type(error) is BadRequestError
    assert (error.status, error.details) == (400, {"field": "to", "value": "+1555"})
    assert str(error) == "400: `to` must be an E.164 number such as +12025550143"

    assert list(faxbot.list_faxes()) == []  # no error made a job


def test_a_lost_answer_is_retried_with_the_same_key_and_makes_one_job(
    appliance: Appliance,
) -> None:
    with (
        DroppingProxy(appliance.port) as proxy,
        Faxbot(proxy.url, appliance.tokens["admin"]) as faxbot,
    ):
        job = faxbot.send_fax(TO, one_page_pdf())

    # the first attempt reached the appliance, which queued a job and answered 202 ...
    assert proxy.swallowed is not None
    head, _, body = proxy.swallowed.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 202")
    first = httpx.Response(202, content=body).json()
    # ... the client never saw it, retried with the same key and got that job back
    assert len(proxy.posts) == 2
    keys = [
        line.split(b":", 1)[1].strip().decode()
        for post in proxy.posts
        for line in post.split(b"\r\n")
        if line.lower().startswith(b"idempotency-key:")
    ]
    assert len(keys) == 2 and keys[0] == keys[1]
    assert uuid.UUID(keys[0]).version == 4
    assert job.id == first["id"]

    with Faxbot(appliance.url, appliance.tokens["admin"]) as direct:
        assert [j.id for j in direct.list_faxes()] == [job.id]
        assert wait_until_done(direct, job.id).status == "SUCCESS"
    assert [e["job_id"] for e in ledger(appliance.data_dir)] == [job.id]
