"""The Sinch plugin end to end: a real `faxbot serve` whose outbound and inbound slots are the
Sinch plugin, talking to the Sinch fake on loopback, which calls the appliance's
`POST /webhooks/sinch` back with the Basic credentials of each callback URL."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from faxbot.keys import new_key

from tests.conftest import REPO
from tests.fakes.sinch import FakeSinch
from tests.server.conftest import FAXBOT, Appliance, free_port, one_page_pdf

pytestmark = pytest.mark.slow

USER = "faxbot"
PASSWORD = "current-webhook-password-0123456789"
PREVIOUS = "previous-webhook-password-9876543210"
OUR_NUMBER = "+12025550123"
BUSY = "+12025550199"
SCOPES = ["fax:send", "fax:read", "inbound:list", "inbound:read", "inbound:read_all"]


def sinch_appliance(
    root: Path,
    fake: FakeSinch,
    *,
    outbound_extra: str = "",
    settings_extra: str = "      delete_after_completion: true\n",
    top: str = "",
    appliance_extra: str = "",
    public_url: str | None = None,
) -> Appliance:
    """config.d: the repository's appliance and storage fragments, the Sinch plugin in both
    transport slots (secrets in files), a key; compiled into root/build. Sinch calls back
    `public_url` (default: the appliance's loopback address)."""
    config = root / "config.d"
    config.mkdir(parents=True)
    for name in ("00-appliance.yaml", "20-storage.yaml"):
        (config / name).write_text((REPO / "config.d" / name).read_text())
    secrets = root / "secrets"
    secrets.mkdir()
    for name, value in [
        ("key_secret", fake.key_secret),
        ("password", PASSWORD),
        ("previous", PREVIOUS),
    ]:
        (secrets / name).write_text(value)
    port = free_port()
    key = new_key("admin", SCOPES)
    settings = (
        f"      project_id: {fake.project_id}\n"
        f"      key_id: {fake.key_id}\n"
        f"      key_secret: ${{file:{secrets / 'key_secret'}}}\n"
        f"      api_base_url: {fake.url}\n"
        f"      token_url: {fake.token_url}\n"
        f"      webhook_username: {USER}\n"
        f"      webhook_password: ${{file:{secrets / 'password'}}}\n"
        f"      webhook_password_previous: ${{file:{secrets / 'previous'}}}\n"
        f"{settings_extra}"
    )
    public = public_url or f"http://127.0.0.1:{port}"
    (config / "10-sinch.yaml").write_text(
        f"{top}appliance:\n  public_url: {public}\n{appliance_extra}"
        "providers:\n"
        f"  outbound:\n    plugin: sinch\n    version: 1.0.0\n    settings:\n{settings}"
        f"{outbound_extra}"
        f"  inbound:\n    plugin: sinch\n    version: 1.0.0\n    settings:\n{settings}"
        f"api_keys:\n  - id: admin\n    sha256: {key.entry['sha256']}\n"
        f"    scopes: [{', '.join(SCOPES)}]\n"
    )
    subprocess.run([FAXBOT, "config", "compile"], cwd=root, check=True, capture_output=True)
    return Appliance(root, port, {"admin": key.token})


@pytest.fixture
def fake() -> Iterator[FakeSinch]:
    with FakeSinch(completes_after=0.3).running() as running:
        yield running


def send(appliance: Appliance, to: str = OUR_NUMBER) -> str:
    with appliance.client() as client:
        answer = client.post("/fax", data={"to": to}, files={"file": ("d.pdf", one_page_pdf())})
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def until(condition: object, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("the condition never held")


def hook(appliance: Appliance, password: str = PASSWORD) -> str:
    return f"http://{USER}:{password}@127.0.0.1:{appliance.port}/webhooks/sinch"


def completed(fax_id: str, job_id: str, status: str = "COMPLETED") -> bytes:
    fax = {
        "id": fax_id,
        "direction": "OUTBOUND",
        "status": status,
        "labels": {"faxbot_job": job_id},
        "numberOfPages": 1,
    }
    return json.dumps(
        {"event": "FAX_COMPLETED", "eventTime": "2026-12-01T00:00:00Z", "fax": fax}
    ).encode()


def post_webhook(appliance: Appliance, body: bytes, user: str, password: str) -> httpx.Response:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return httpx.post(
        f"{appliance.url}/webhooks/sinch",
        content=body,
        headers={"Content-Type": "application/json", "Authorization": f"Basic {token}"},
        timeout=30,
    )


def test_a_fax_ends_success_by_its_webhook_and_sinchs_copy_is_deleted(
    fake: FakeSinch, tmp_path: Path
) -> None:
    appliance = sinch_appliance(tmp_path, fake)
    with appliance.running():
        job_id = send(appliance)
        job = appliance.wait_for(job_id)
        assert job["status"] == "SUCCESS"
        [fax] = fake.outbound()
        assert fax.labels == {"faxbot_job": job_id}
        assert job["provider_sid"] == fax.id
        until(lambda: len(fake.callbacks) == 1)
        [callback] = fake.callbacks
        assert callback.status == 200
        assert json.loads(callback.answer)["events"] == {"applied": 1}  # the webhook ended it
        until(lambda: fake.deleted_files == [fax.id])
    assert fake.accepted == 1
    log = appliance.log.read_text()
    for secret in (PASSWORD, PREVIOUS, fake.key_secret):
        assert secret not in log


def test_a_fax_ends_success_by_polling_when_the_callback_is_lost(
    fake: FakeSinch, tmp_path: Path
) -> None:
    fake.lose_callbacks = True
    appliance = sinch_appliance(tmp_path, fake)
    with appliance.running():
        job = appliance.wait_for(send(appliance))
        assert (job["status"], job["pages"]) == ("SUCCESS", 1)
    assert fake.callbacks == [] and fake.accepted == 1


def test_a_failure_at_sinch_fails_the_job_with_sinchs_message(
    fake: FakeSinch, tmp_path: Path
) -> None:
    fake.fail_numbers[BUSY] = ("CALL_ERROR", 61, "The line was busy")
    appliance = sinch_appliance(tmp_path, fake)
    with appliance.running():
        job = appliance.wait_for(send(appliance, BUSY))
        assert job["status"] == "FAILED"
        assert job["error"] == "Sinch CALL_ERROR 61: The line was busy"


def test_429_and_503_are_retried_and_sinch_has_exactly_one_fax(
    fake: FakeSinch, tmp_path: Path
) -> None:
    fake.refuse_next(1, 429)
    fake.refuse_next(1, 503)
    appliance = sinch_appliance(tmp_path, fake)
    with appliance.running():
        job = appliance.wait_for(send(appliance), timeout=60)
        assert job["status"] == "SUCCESS"
    assert fake.accepted == 1
    assert [m for m, p in fake.requests if m == "POST"] == ["POST"] * 3


def test_a_timeout_after_acceptance_is_resolved_by_find_sent_with_one_fax(
    fake: FakeSinch, tmp_path: Path
) -> None:
    fake.hang_next(1)
    appliance = sinch_appliance(tmp_path, fake, outbound_extra="      timeout_seconds: 1\n")
    with appliance.running():
        job_id = send(appliance)
        job = appliance.wait_for(job_id, timeout=90)
        assert job["status"] == "SUCCESS"
        [fax] = fake.outbound()
        assert (job["provider_sid"], fax.labels) == (fax.id, {"faxbot_job": job_id})
    assert fake.accepted == 1


def test_tokens_are_refreshed_before_expiry_and_once_after_a_revocation(
    fake: FakeSinch, tmp_path: Path
) -> None:
    fake.token_lifetime = 2.0
    appliance = sinch_appliance(tmp_path, fake)
    with appliance.running():
        assert appliance.wait_for(send(appliance))["status"] == "SUCCESS"
        time.sleep(2.0)  # the first token's life is over
        assert appliance.wait_for(send(appliance))["status"] == "SUCCESS"
        assert fake.tokens_issued >= 2
        assert fake.rejected_tokens == 0  # never used past its refresh time
        fake.token_lifetime = 3600.0
        time.sleep(2.0)
        assert appliance.wait_for(send(appliance))["status"] == "SUCCESS"  # a long-lived token
        issued = fake.tokens_issued
        fake.revoke()
        assert appliance.wait_for(send(appliance))["status"] == "SUCCESS"
        assert fake.rejected_tokens >= 1  # refused, then a new token and the call again
        assert fake.tokens_issued > issued
    assert fake.accepted == 4


def test_wrong_credentials_change_nothing_and_a_rotation_accepts_both_passwords(
    fake: FakeSinch, tmp_path: Path
) -> None:
    fake.completes_after = 3000  # only a webhook ends the fax
    fake.lose_callbacks = True
    appliance = sinch_appliance(tmp_path, fake)
    with appliance.running():
        job_id = send(appliance)
        until(lambda: fake.accepted == 1)
        [fax] = fake.outbound()
        for user, password in [(USER, "wrong"), ("someone", PASSWORD), (USER, "")]:
            refused = post_webhook(appliance, completed(fax.id, job_id), user, password)
            assert refused.status_code == 401
            assert refused.json()["code"] == "webhook_rejected"
        with appliance.client() as client:
            assert client.get(f"/fax/{job_id}").json()["status"] != "SUCCESS"
        old = post_webhook(appliance, completed(fax.id, job_id), USER, PREVIOUS)
        assert (old.status_code, old.json()["events"]) == (200, {"applied": 1})
        assert appliance.wait_for(job_id, timeout=10)["status"] == "SUCCESS"
        again = post_webhook(appliance, completed(fax.id, job_id), USER, PASSWORD)
        assert (again.status_code, again.json()["events"]) == (200, {"duplicate": 1})
    log = appliance.log.read_text()
    for secret in (PASSWORD, PREVIOUS, fake.key_secret):
        assert secret not in log


def test_a_replayed_callback_is_acknowledged_and_ignored(fake: FakeSinch, tmp_path: Path) -> None:
    fake.duplicate_callbacks = True
    appliance = sinch_appliance(tmp_path, fake)
    with appliance.running():
        job = appliance.wait_for(send(appliance))
        assert job["status"] == "SUCCESS"
        until(lambda: len(fake.callbacks) == 2)
        answers = [json.loads(c.answer)["events"] for c in fake.callbacks]
        assert [c.status for c in fake.callbacks] == [200, 200]
        assert answers[1] == {"duplicate": 1}
    assert fake.accepted == 1


@pytest.mark.parametrize("content_type", ["multipart/form-data", "application/json"])
def test_an_incoming_fax_is_stored_listed_and_downloaded_byte_identical(
    fake: FakeSinch, tmp_path: Path, content_type: str
) -> None:
    document = one_page_pdf() + b"%% Sinch's own bytes\n"
    appliance = sinch_appliance(tmp_path, fake)
    with appliance.running():
        fax_id, status = fake.deliver_inbound(hook(appliance), document, content_type=content_type)
        assert status == 200
        assert json.loads(fake.callbacks[-1].answer)["events"] == {"received": 1}
        with appliance.client() as client:
            [item] = client.get("/inbound").json()["items"]
            assert (item["provider_sid"], item["from"], item["to"]) == (
                fax_id,
                "+14155550100",
                OUR_NUMBER,
            )
            pdf = client.get(f"/inbound/{item['id']}/pdf")
            assert pdf.headers["content-type"] == "application/pdf"
            assert pdf.content == document
        until(lambda: fake.deleted_files == [fax_id])  # once stored here


def test_an_incoming_fax_with_wrong_credentials_is_refused_and_not_stored(
    fake: FakeSinch, tmp_path: Path
) -> None:
    appliance = sinch_appliance(tmp_path, fake)
    with appliance.running():
        _, status = fake.deliver_inbound(hook(appliance, "not-the-password"), one_page_pdf())
        assert status == 401
        with appliance.client() as client:
            assert client.get("/inbound").json()["items"] == []
    assert fake.deleted_files == []


def test_the_hipaa_profile_deletes_sinchs_copies_over_https(tmp_path: Path) -> None:
    public_url = "https://fax.example.test"
    with FakeSinch(completes_after=0.3, tls_dir=tmp_path / "tls").running() as fake:
        appliance = sinch_appliance(
            tmp_path / "hipaa",
            fake,
            settings_extra=f"      ca_file: {fake.ca_file}\n",  # no delete_after_completion
            top="profile: hipaa\n",
            appliance_extra="  audit_log: true\n"
            "  storage_encryption_key: ${env:FAXBOT_STORAGE_KEY}\n"
            "  retention: {outbound_document_days: 30, inbound_document_days: 30}\n",
            public_url=public_url,
        )
        # the TLS-terminating proxy: what Sinch posts to https://fax.example.test reaches the
        # appliance's loopback address
        fake.deliver_via = {public_url: appliance.url}
        appliance.start(env={"FAXBOT_STORAGE_KEY": base64.b64encode(os.urandom(32)).decode()})
        try:
            job = appliance.wait_for(send(appliance))
            assert job["status"] == "SUCCESS"
            [fax] = fake.outbound()
            assert fax.callback_url == f"https://{USER}:{PASSWORD}@fax.example.test/webhooks/sinch"
            until(lambda: fax.id in fake.deleted_files)
            received, status = fake.deliver_inbound(
                f"https://{USER}:{PASSWORD}@fax.example.test/webhooks/sinch", one_page_pdf()
            )
            assert status == 200
            until(lambda: received in fake.deleted_files)
        finally:
            appliance.stop()
