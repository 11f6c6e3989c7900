"""Error codes, request ids and the GET /fax filters through the SDK against a real appliance
(the other SDK tests check the same behaviour against loopback stubs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from faxbot_client import BadRequestError, Faxbot, NotFoundError

from tests.sdk_python.conftest import TO, wait_until_done
from tests.server.conftest import FAIL_NUMBER
from tests.server.receiving import OUR_NUMBER, post, received, receiving

OTHER = "+12025550177"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"  # noqa: E501


def test_an_unknown_job_is_job_not_found_with_the_request_id_the_sdk_sent(
    faxbot: Faxbot,
) -> None:
    with pytest.raises(NotFoundError) as caught:
        faxbot.get_fax_status("0" * 32)
    error = caught.value
    assert (error.status, error.code) == (404, "job_not_found")
    assert error.request_id is not None and len(error.request_id) == 32
    assert "0" * 32 in error.message


def test_a_number_that_is_not_e164_is_invalid_number(faxbot: Faxbot) -> None:
    with pytest.raises(BadRequestError) as caught:
        faxbot.send_fax("555-0143", b"hello\n")
    assert (caught.value.status, caught.value.code) == (400, "invalid_number")


def test_a_cursor_from_other_filters_is_invalid_cursor(faxbot: Faxbot) -> None:
    for _ in range(2):
        faxbot.send_fax(OTHER, b"one of two\n")
    page = faxbot.list_faxes_page(limit=1, to=OTHER)
    assert page.next_cursor is not None
    with pytest.raises(BadRequestError) as caught:
        faxbot.list_faxes_page(limit=1, cursor=page.next_cursor, to=TO)
    assert caught.value.code == "invalid_cursor"


def test_the_filters_select_on_the_appliance(faxbot: Faxbot) -> None:
    first = faxbot.send_fax(TO, PDF)
    since = first.created_at  # the appliance's clock; jobs of earlier tests are older
    to_us = [first.id, *(faxbot.send_fax(TO, PDF).id for _ in range(2))]
    to_other = faxbot.send_fax(OTHER, PDF).id
    failing = faxbot.send_fax(FAIL_NUMBER, PDF).id
    for job_id in [*to_us, to_other, failing]:
        wait_until_done(faxbot, job_id)

    mine = [job.id for job in faxbot.list_faxes(limit=2, to=TO, created_since=since)]
    assert sorted(mine) == sorted(to_us)  # paged two at a time
    assert all(job.to == OTHER for job in faxbot.list_faxes(to=OTHER))
    done = list(faxbot.list_faxes(status="SUCCESS", created_since=since))
    assert {job.id for job in done} == {*to_us, to_other}
    failed = [job.id for job in faxbot.list_faxes(status="FAILED", created_since=since)]
    assert failed == [failing]
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert list(faxbot.list_faxes(created_since=later)) == []
    assert [job.id for job in faxbot.list_faxes(created_until=since, to=OTHER)] == [
        job.id for job in faxbot.list_faxes(to=OTHER) if job.created_at < since
    ]
    # The times come back as aware datetimes.
    assert all(job.created_at.tzinfo is not None and job.created_at >= since for job in done)


def test_received_faxes_through_the_sdk(tmp_path: Path) -> None:
    """Listed for the key of their number (filters, pages), downloaded to a file intact by
    streaming, and another key's read is inbound_not_found."""
    appliance = receiving(tmp_path / "appliance")
    with appliance.running():
        events = [
            received(f"rx-{n}", PDF + f"%{n}\n".encode(), at=1_790_000_000.0 + n) for n in range(3)
        ]
        assert post(appliance, events).status_code == 200
        with Faxbot(appliance.url, appliance.tokens["desk"]) as desk:
            faxes = list(desk.list_inbound(limit=2, to=OUR_NUMBER))
            assert [f.provider_sid for f in faxes] == ["rx-2", "rx-1", "rx-0"]
            since = datetime.fromtimestamp(1_790_000_001, UTC)
            assert [f.provider_sid for f in desk.list_inbound(received_since=since)] == [
                "rx-2",
                "rx-1",
            ]
            target = tmp_path / "received.pdf"
            size = desk.download_inbound_pdf(faxes[0].id, target)
            assert target.read_bytes() == PDF + b"%2\n" and size == target.stat().st_size
            assert not (tmp_path / "received.pdf.part").exists()
        with Faxbot(appliance.url, appliance.tokens["other"]) as other:
            assert list(other.list_inbound()) == []
            with pytest.raises(NotFoundError) as caught:
                other.download_inbound_pdf(faxes[0].id, tmp_path / "not-mine.pdf")
            assert caught.value.code == "inbound_not_found"
            assert not (tmp_path / "not-mine.pdf").exists()
