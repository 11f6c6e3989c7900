"""Faxes through a real `faxbot serve` whose outbound and inbound plugin is `phaxio`, pointed at
the Phaxio fake (tests/fakes/phaxio.py) on loopback: the fake takes the faxes and calls the
appliance back at POST /webhooks/phaxio, signed as Phaxio signs."""

from __future__ import annotations

import base64
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from faxbot.keys import new_key

from tests.conftest import REPO
from tests.fakes.phaxio import PhaxioFake
from tests.server.conftest import FAXBOT, Appliance, free_port, one_page_pdf

pytestmark = pytest.mark.slow

SCOPES = ["fax:send", "fax:read", "inbound:list", "inbound:read", "inbound:read_all"]
OUR_NUMBER = "+12025550100"
BUSY = "+12025550177"


def phaxio_appliance(
    root: Path,
    fake: PhaxioFake,
    *,
    settings: str = "",
    appliance: str = "",
    public_url: str | None = None,
    profile: str = "dev",
    timeout: float = 2,
) -> tuple[Appliance, dict[str, str]]:
    """The repository's config.d with phaxio in the outbound and inbound slots, compiled;
    the appliance (not started) and the environment its secrets come from."""
    port = free_port()
    config = root / "config.d"
    config.mkdir(parents=True)
    for fragment in (REPO / "config.d").glob("*.yaml"):
        if "plugin: test" not in fragment.read_text():  # the test transport's slots
            (config / fragment.name).write_text(fragment.read_text())
    key = new_key("admin", SCOPES)
    plugin = (
        "    plugin: phaxio\n    version: 1.0.0\n    settings:\n"
        "      api_key: ${env:PHAXIO_API_KEY}\n"
        "      api_secret: ${env:PHAXIO_API_SECRET}\n"
        "      callback_token: ${env:PHAXIO_CALLBACK_TOKEN}\n"
        f"      api_base_url: {fake.url}\n"
        f"      timeout_seconds: {timeout}\n" + settings
    )
    (config / "90-test.yaml").write_text(
        f"profile: {profile}\n"
        f"appliance:\n  public_url: {public_url or f'http://127.0.0.1:{port}'}\n{appliance}"
        f"api_keys:\n  - id: admin\n    sha256: {key.entry['sha256']}\n"
        f"    scopes: [{', '.join(SCOPES)}]\n"
        f"providers:\n  outbound:\n{plugin}  inbound:\n{plugin}"
    )
    compiled = subprocess.run(
        [FAXBOT, "config", "compile"], cwd=root, capture_output=True, text=True, check=False
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    env = {
        "PHAXIO_API_KEY": fake.api_key,
        "PHAXIO_API_SECRET": fake.api_secret,
        "PHAXIO_CALLBACK_TOKEN": fake.callback_token,
    }
    return Appliance(root, port, {"admin": key.token}), env


@pytest.fixture
def fake() -> Iterator[PhaxioFake]:
    with PhaxioFake(complete_after=0.05) as running:
        yield running


Running = Callable[..., Appliance]


@pytest.fixture
def serve(tmp_path: Path, fake: PhaxioFake) -> Iterator[Running]:
    """Build and start an appliance on the fake (keywords as phaxio_appliance's); stopped at
    the end of the test."""
    started: list[Appliance] = []

    def start(env: dict[str, str] | None = None, **options: Any) -> Appliance:
        appliance, secrets = phaxio_appliance(tmp_path / f"a{len(started)}", fake, **options)
        appliance.start(env={**secrets, **(env or {})})
        started.append(appliance)
        return appliance

    yield start
    for appliance in started:
        appliance.stop()


def send(appliance: Appliance, to: str = "+12025550143", pdf: bytes | None = None) -> str:
    with appliance.client() as client:
        answer = client.post(
            "/fax",
            data={"to": to},
            files={"file": ("a.pdf", pdf or one_page_pdf(), "application/pdf")},
        )
    assert answer.status_code == 202, answer.text
    job_id: str = answer.json()["id"]
    return job_id


def job(appliance: Appliance, job_id: str) -> dict[str, object]:
    with appliance.client() as client:
        found: dict[str, object] = client.get(f"/fax/{job_id}").json()
        return found


def until(condition: Callable[[], object], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"never: {what}")


def held_fax(appliance: Appliance, fake: PhaxioFake) -> tuple[str, int]:
    """A job handed over to the fake, which holds it in progress; (job id, fax id)."""
    fake.hold = True
    job_id = send(appliance)
    until(lambda: job(appliance, job_id)["status"] == "in_progress", "handed over")
    [fax] = fake.sent()
    assert fax.tags == {"faxbot_job": job_id}
    return job_id, fax.id


def test_a_fax_ends_success_by_its_callback(serve: Running, fake: PhaxioFake) -> None:
    appliance = serve()
    job_id, fax_id = held_fax(appliance, fake)
    # polling says in progress until the callback was answered: the callback ended the job
    assert fake.release(fax_id) == 200
    done = job(appliance, job_id)
    assert (done["status"], done["provider_sid"], done["pages"]) == ("SUCCESS", str(fax_id), 1)
    assert fake.accepted == 1


def test_a_fax_ends_success_by_polling_when_the_callback_is_lost(
    serve: Running, fake: PhaxioFake
) -> None:
    fake.lose_callbacks = True
    appliance = serve()
    job_id = send(appliance)
    assert appliance.wait_for(job_id)["status"] == "SUCCESS"
    assert fake.callbacks == []
    assert ("GET", f"/v2.1/faxes/{fake.sent()[0].id}") in fake.requests


def test_a_provider_failure_ends_failed_with_phaxios_message(
    serve: Running, fake: PhaxioFake
) -> None:
    fake.fail_numbers[BUSY] = ("lineError", "The line was busy")
    appliance = serve()
    done = appliance.wait_for(send(appliance, to=BUSY))
    assert done["status"] == "FAILED"
    assert done["error"] == "Phaxio lineError: The line was busy"


def test_429_and_503_are_retried_with_backoff_and_one_fax_is_sent(
    serve: Running, fake: PhaxioFake
) -> None:
    fake.refuse_next(1, 429)
    fake.refuse_next(1, 503)
    appliance = serve()
    done = appliance.wait_for(send(appliance), timeout=60)
    assert done["status"] == "SUCCESS"
    assert fake.accepted == 1
    posts = [r for r in fake.requests if r == ("POST", "/v2.1/faxes")]
    assert len(posts) == 3  # refused twice, then taken


def test_a_timeout_after_acceptance_is_resolved_by_find_sent_with_one_fax(
    serve: Running, fake: PhaxioFake
) -> None:
    fake.hang_next(1)
    fake.lose_callbacks = True  # else its callback (with the job's tag) could settle it first
    appliance = serve(timeout=1)
    job_id = send(appliance)
    done = appliance.wait_for(job_id, timeout=60)
    assert done["status"] == "SUCCESS"
    assert fake.accepted == 1
    assert done["provider_sid"] == str(fake.sent()[0].id)
    lookups = [r for r in fake.requests if r == ("GET", "/v2.1/faxes")]
    assert lookups, "the hand-over was looked up by its tag"


def post_callback(appliance: Appliance, url: str, body: bytes, headers: dict[str, str]) -> int:
    assert url.startswith(appliance.url)
    return httpx.post(url, content=body, headers=headers, timeout=30).status_code


def test_a_forged_signature_is_refused_and_changes_nothing(
    serve: Running, fake: PhaxioFake
) -> None:
    appliance = serve()
    job_id, fax_id = held_fax(appliance, fake)
    before = job(appliance, job_id)
    genuine = fake.callback_token
    fake.callback_token = "not-the-accounts-token"
    url, body, headers = fake.signed_callback(fax_id, final=True)
    assert post_callback(appliance, url, body, headers) == 401
    headers["X-Phaxio-Signature"] = "0" * 40
    assert post_callback(appliance, url, body, headers) == 401
    del headers["X-Phaxio-Signature"]
    assert post_callback(appliance, url, body, headers) == 401
    assert job(appliance, job_id) == before
    fake.callback_token = genuine
    assert fake.release(fax_id) == 200
    assert job(appliance, job_id)["status"] == "SUCCESS"


def test_a_replayed_callback_is_acknowledged_and_ignored(serve: Running, fake: PhaxioFake) -> None:
    fake.fail_numbers[BUSY] = ("lineError", "The line was busy")
    appliance = serve()
    done = appliance.wait_for(send(appliance))
    assert done["status"] == "SUCCESS"
    [fax] = fake.sent()
    until(lambda: fake.callbacks, "the callback was delivered")
    assert fake.callback(fax.id) == 200  # the same delivery again
    assert fake.callback(fax.id, "transmitting_page") == 200  # an older event, late
    assert job(appliance, str(done["id"])) == done


def test_rotation_accepts_the_previous_callback_token(serve: Running, fake: PhaxioFake) -> None:
    old = fake.callback_token
    appliance = serve(
        env={"PHAXIO_CALLBACK_TOKEN": "the-new-token", "PHAXIO_OLD_TOKEN": old},
        settings="      callback_token_previous: ${env:PHAXIO_OLD_TOKEN}\n",
    )
    job_id, fax_id = held_fax(appliance, fake)
    assert fake.release(fax_id) == 200  # Phaxio still signs with the previous token
    assert job(appliance, job_id)["status"] == "SUCCESS"
    fake.callback_token = "the-new-token"
    assert fake.callback(fax_id) == 200
    fake.callback_token = "a-third-token"
    assert fake.callback(fax_id) == 401


def test_an_inbound_fax_is_stored_listed_and_downloaded_byte_identical(
    serve: Running, fake: PhaxioFake
) -> None:
    appliance = serve()
    pdf = one_page_pdf() + b"\n% received " + os.urandom(64).hex().encode() + b"\n"
    fax_id = fake.deliver_inbound(
        f"{appliance.url}/webhooks/phaxio", pdf, "+14155550123", OUR_NUMBER, pages=1
    )
    assert fake.callbacks[-1][1] == 200
    with appliance.client() as client:
        [listed] = client.get("/inbound").json()["items"]
        assert (listed["from"], listed["to"], listed["provider"], listed["provider_sid"]) == (
            "+14155550123",
            OUR_NUMBER,
            "phaxio",
            str(fax_id),
        )
        assert client.get(f"/inbound/{listed['id']}").json() == listed
        download = client.get(f"/inbound/{listed['id']}/pdf")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/pdf")
    assert download.content == pdf
    # Phaxio retries the same callback: still one received fax
    assert fake.callback(fax_id) == 200
    with appliance.client() as client:
        assert len(client.get("/inbound").json()["items"]) == 1


def test_content_url_mode_lets_phaxio_fetch_the_document_once(
    serve: Running, fake: PhaxioFake
) -> None:
    appliance = serve(settings="      send_mode: content_url\n")
    pdf = one_page_pdf()
    done = appliance.wait_for(send(appliance, pdf=pdf))
    assert done["status"] == "SUCCESS"
    [fax] = fake.sent()
    [(link, status)] = fake.content_fetches
    assert status == 200 and fax.content_url == link and fax.file == pdf
    assert link.startswith(f"{appliance.url}/")
    assert httpx.get(link).status_code == 404  # used once: gone


def test_the_hipaa_profile_deletes_the_providers_copy(tmp_path: Path) -> None:
    public_url = "https://fax.example.test"
    with PhaxioFake(complete_after=0.05, tls_dir=tmp_path / "tls") as fake:
        appliance, env = phaxio_appliance(
            tmp_path / "hipaa",
            fake,
            profile="hipaa",
            public_url=public_url,
            settings=f"      ca_file: {fake.ca_file}\n",
            appliance="  audit_log: true\n  storage_encryption_key: ${env:FAXBOT_STORAGE_KEY}\n"
            "  retention: {outbound_document_days: 30, inbound_document_days: 30}\n",
        )
        # the TLS-terminating proxy: what Phaxio posts to https://fax.example.test reaches
        # the appliance's loopback address, signed for the URL it was given
        fake.deliver_via = {public_url: appliance.url}
        env["FAXBOT_STORAGE_KEY"] = base64.b64encode(os.urandom(32)).decode()
        appliance.start(env=env)
        try:
            done = appliance.wait_for(send(appliance))
            assert done["status"] == "SUCCESS"
            [fax] = fake.sent()
            assert fax.callback_url == f"{public_url}/webhooks/phaxio"
            until(lambda: fax.file_deleted, "the copy at Phaxio was deleted")
            assert ("DELETE", f"/v2.1/faxes/{fax.id}/file") in fake.requests
            # and a received fax's copy, once the appliance has stored it
            received = fake.deliver_inbound(
                f"{public_url}/webhooks/phaxio", one_page_pdf(), "+14155550123", OUR_NUMBER
            )
            assert fake.callbacks[-1][1] == 200
            until(lambda: fake.faxes[received].file_deleted, "the received copy was deleted")
        finally:
            appliance.stop()
