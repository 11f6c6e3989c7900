"""POST /webhooks/{plugin_id} through a real `faxbot serve`: status reports and received faxes
applied, forged and duplicate deliveries refused or ignored with nothing changed, unknown
provider ids acknowledged, the body limit enforced before a body is buffered whole."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import httpx
import pytest
from faxbot_plugin_test import read_deleted_copies

from tests.server.conftest import Appliance, one_page_pdf
from tests.server.receiving import OUR_NUMBER, PREVIOUS, post, received, receiving, status


@pytest.fixture
def slow(tmp_path: Path) -> Appliance:
    """A test transport whose faxes never finish by polling: only a webhook ends them."""
    return receiving(tmp_path, delay=3000)


def send(appliance: Appliance, to: str = "+12025550143") -> dict[str, object]:
    with appliance.client() as client:
        response = client.post("/fax", data={"to": to}, files={"file": ("d.pdf", one_page_pdf())})
    assert response.status_code == 202, response.text
    job: dict[str, object] = response.json()
    return job


def handed_over(appliance: Appliance, job_id: object) -> dict[str, object]:
    deadline = time.monotonic() + 30
    with appliance.client() as client:
        while time.monotonic() < deadline:
            job: dict[str, object] = client.get(f"/fax/{job_id}").json()
            if job["provider_sid"]:
                return job
            time.sleep(0.05)
    raise AssertionError(f"job {job_id} not handed over")


def test_a_status_report_ends_the_job_and_a_duplicate_is_ignored(slow: Appliance) -> None:
    with slow.running():
        job = handed_over(slow, send(slow)["id"])
        sid = str(job["provider_sid"])
        answer = post(slow, [status(sid, "FAILED", "event-1", error="line busy")])
        assert answer.status_code == 200, answer.text
        assert answer.json()["events"] == {"applied": 1}
        ended = slow.wait_for(str(job["id"]), timeout=10)
        assert ended["status"] == "FAILED"
        assert ended["error"] == "line busy"
        # the same event again, and a later contradicting one: acknowledged, nothing moves
        again = post(slow, [status(sid, "SUCCESS", "event-1")])
        assert again.status_code == 200
        assert again.json()["events"] == {"duplicate": 1}
        later = post(slow, [status(sid, "SUCCESS", "event-2")])
        assert later.json()["events"] == {"unchanged": 1}
        with slow.client() as client:
            assert client.get(f"/fax/{job['id']}").json()["status"] == "FAILED"
        deadline = time.monotonic() + 10
        while sid not in read_deleted_copies(slow.data_dir) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert read_deleted_copies(slow.data_dir) == [sid]  # the provider's copy, once


def test_a_report_matched_by_job_id_and_the_previous_secret(slow: Appliance) -> None:
    with slow.running():
        job = handed_over(slow, send(slow)["id"])
        answer = post(
            slow,
            [status("a-sid-we-never-stored", "SUCCESS", "e-9", job_id=str(job["id"]))],
            secret=PREVIOUS,
        )
        assert answer.json()["events"] == {"applied": 1}
        assert slow.wait_for(str(job["id"]), timeout=10)["status"] == "SUCCESS"


def test_forged_and_unknown_webhooks_change_nothing(slow: Appliance) -> None:
    with slow.running():
        job = handed_over(slow, send(slow)["id"])
        sid = str(job["provider_sid"])
        forged = post(slow, [status(sid, "SUCCESS", "e-1")], secret="not-the-secret")
        assert forged.status_code == 401
        assert forged.json()["code"] == "webhook_rejected"
        unsigned = httpx.post(f"{slow.url}/webhooks/test", json={"events": []})
        assert unsigned.status_code == 401
        nobody = post(slow, [], plugin="phaxio")
        assert nobody.status_code == 404
        assert nobody.json()["code"] == "webhook_not_found"
        unknown = post(slow, [status("no-such-sid", "SUCCESS", "e-2")])
        assert unknown.status_code == 200
        assert unknown.json()["events"] == {"unknown": 1}
        # the forged event's id was not remembered: the genuine one still applies
        genuine = post(slow, [status(sid, "SUCCESS", "e-1")])
        assert genuine.json()["events"] == {"applied": 1}
        with slow.client() as client:
            assert client.get(f"/fax/{job['id']}").json()["status"] == "SUCCESS"


def test_verified_webhooks_are_not_throttled_but_forged_ones_are(tmp_path: Path) -> None:
    appliance = receiving(
        tmp_path,
        appliance_extra="  limits:\n    unauthenticated_rate_limit:\n"
        "      requests_per_minute: 1\n      burst: 3\n",
    )
    with appliance.running():
        codes = [post(appliance, [], secret="forged").status_code for _ in range(6)]
        assert codes[:3] == [401, 401, 401]
        assert 429 in codes[3:]
        accepted = [post(appliance, []).status_code for _ in range(50)]
        assert accepted == [200] * 50


def test_a_received_fax_is_stored_once_listed_and_downloaded_intact(tmp_path: Path) -> None:
    appliance = receiving(tmp_path)
    document = one_page_pdf() + b"%% the provider's own bytes\n"
    with appliance.running():
        first = post(appliance, [received("rx-1", document)])
        assert first.json()["events"] == {"received": 1}
        again = post(appliance, [received("rx-1", document)])
        assert again.json()["events"] == {"received_duplicate": 1}
        with appliance.client("desk") as client:
            page = client.get("/inbound").json()
            assert [item["provider_sid"] for item in page["items"]] == ["rx-1"]
            item = page["items"][0]
            assert item["to"] == OUR_NUMBER and item["from"] == "+14155550123"
            assert client.get(f"/inbound/{item['id']}").json() == item
            pdf = client.get(f"/inbound/{item['id']}/pdf")
            assert pdf.status_code == 200
            assert pdf.headers["content-type"] == "application/pdf"
            assert pdf.content == document
        assert read_deleted_copies(appliance.data_dir) == ["rx-1"]


def test_a_received_fax_without_its_document_is_fetched_from_the_provider(
    tmp_path: Path,
) -> None:
    appliance = receiving(tmp_path)
    document = one_page_pdf()
    inbox = appliance.data_dir / "test-transport-inbox"
    with appliance.running():
        inbox.mkdir(parents=True, exist_ok=True)
        (inbox / "rx-2.pdf").write_bytes(document)
        assert post(appliance, [received("rx-2", None)]).json()["events"] == {"received": 1}
        with appliance.client("desk") as client:
            (item,) = client.get("/inbound").json()["items"]
            assert client.get(f"/inbound/{item['id']}/pdf").content == document
        assert not (inbox / "rx-2.pdf").exists()  # delete_copy, after the row was committed


def _raw(appliance: Appliance, head: bytes, body_chunks: list[bytes]) -> bytes:
    with socket.create_connection(("127.0.0.1", appliance.port), timeout=20) as sock:
        sock.sendall(head)
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
        except OSError:
            pass  # the appliance closed the connection: what a refusal may do
        sock.settimeout(20)
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        return answer


def test_the_body_limit_refuses_before_the_body_is_read_whole(tmp_path: Path) -> None:
    limit = 65536
    appliance = receiving(tmp_path, appliance_extra=f"  limits:\n    webhook_body_bytes: {limit}\n")
    with appliance.running():
        # announced too large: 413 before a byte of the body is sent
        head = (
            b"POST /webhooks/test HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {limit + 1}\r\n\r\n".encode()
        )
        answer = _raw(appliance, head, [])
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        # chunked: refused once the limit is passed, while most of the body is still unsent
        head = (
            b"POST /webhooks/test HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        piece = b"x" * 16384
        chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        answer = _raw(appliance, head, [chunk] * 5)  # 80 KiB of a body that never ends
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert post(appliance, []).status_code == 200  # a body within the limit still goes


def test_a_received_fax_larger_than_the_upload_limit_is_taken(tmp_path: Path) -> None:
    """The webhook limit (32 MiB by default) is the route's own, not POST /fax's 10 MiB."""
    appliance = receiving(tmp_path)
    document = one_page_pdf() + b"%" + os.urandom(11 * 1024 * 1024)
    with appliance.running():
        answer = post(appliance, [received("rx-big", document)])
        assert answer.status_code == 200, answer.text[:300]
        with appliance.client("desk") as client:
            (item,) = client.get("/inbound").json()["items"]
            assert client.get(f"/inbound/{item['id']}/pdf").content == document
