"""Faxes through a real `faxbot serve` whose outbound plugin is `sip`, pointed at the AMI fake
(tests/fakes/ami.py) on loopback, with real Ghostscript making the fax TIFFs the fake counts."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from faxbot.keys import new_key
from faxbot_plugin_sip.documents import TiffOptions, pdf_to_tiff
from pypdf import PdfReader

from tests.conftest import REPO
from tests.fakes.ami import AmiFake
from tests.plugins.test_sip_documents import pdf_of
from tests.server.conftest import FAXBOT, Appliance, free_port, one_page_pdf, serve_that_fails

pytestmark = pytest.mark.slow

SCOPES = ("fax:send", "fax:read")
BUSY, NO_ANSWER, SILENT = "+12025550177", "+12025550178", "+12025550179"


def sip_appliance(
    root: Path,
    fake: AmiFake,
    settings: str = "",
    *,
    providers: str = "",
    scopes: tuple[str, ...] = SCOPES,
) -> tuple[Appliance, dict[str, str]]:
    config = root / "config.d"
    config.mkdir(parents=True)
    for fragment in (REPO / "config.d").glob("*.yaml"):
        if fragment.name not in ("10-outbound.yaml", "15-inbound.yaml"):  # the test transport's
            (config / fragment.name).write_text(fragment.read_text())
    key = new_key("admin", list(scopes))
    (config / "90-test.yaml").write_text(
        f"api_keys:\n  - id: admin\n    sha256: {key.entry['sha256']}\n"
        f"    scopes: [{', '.join(scopes)}]\n"
        "providers:\n  outbound:\n    plugin: sip\n    version: 1.0.0\n    settings:\n"
        f"      ami:\n        host: 127.0.0.1\n        port: {fake.port}\n"
        "        username: faxbot\n        secret: ${env:ASTERISK_AMI_SECRET}\n"
        "      call_timeout_seconds: 2\n" + settings + providers
    )
    compiled = subprocess.run(
        [FAXBOT, "config", "compile"], cwd=root, capture_output=True, text=True, check=False
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    return Appliance(root, free_port(), {"admin": key.token}), {"ASTERISK_AMI_SECRET": fake.secret}


@pytest.fixture
def fake() -> Iterator[AmiFake]:
    with AmiFake() as running:
        running.busy.add(BUSY)
        running.no_answer.add(NO_ANSWER)
        running.silent.add(SILENT)
        yield running


Running = Callable[..., Appliance]


@pytest.fixture
def serve(tmp_path: Path, fake: AmiFake) -> Iterator[Running]:
    started: list[Appliance] = []

    def start(settings: str = "") -> Appliance:
        appliance, env = sip_appliance(tmp_path / f"a{len(started)}", fake, settings)
        appliance.start(env=env)
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


def until(condition: Callable[[], object], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"never: {what}")


def test_a_fax_is_sent_over_the_trunk(serve: Running, fake: AmiFake) -> None:
    appliance = serve()
    job_id = send(appliance)
    done = appliance.wait_for(job_id)
    assert (done["status"], done["pages"]) == ("SUCCESS", 1), done
    [originate] = fake.originates
    assert originate["async"] == "true"
    assert originate["channel"] == "PJSIP/+12025550143@trunk"
    assert originate["JOBID"] == job_id
    assert originate["FAXFILE"].endswith(".tif")
    assert not Path(originate["FAXFILE"]).exists()  # the TIFF goes once the call ended


@pytest.mark.parametrize(("number", "reason"), [(BUSY, "busy"), (NO_ANSWER, "no answer")])
def test_a_busy_or_unanswered_line_fails_with_the_reason(
    serve: Running, fake: AmiFake, number: str, reason: str
) -> None:
    appliance = serve()
    done = appliance.wait_for(send(appliance, to=number))
    assert done["status"] == "FAILED"
    assert reason in str(done["error"]), done
    assert len(fake.originates) == 1  # never dialed again


def test_a_refused_ami_login_keeps_the_appliance_from_starting_with_the_reason(
    tmp_path: Path, fake: AmiFake
) -> None:
    fake.refuse_login = True
    appliance, env = sip_appliance(tmp_path, fake)
    result = serve_that_fails(appliance, env={**os.environ, **env})
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "AMI login refused" in output, output[-2000:]
    assert fake.secret not in output
    assert fake.refused_logins >= 1


def test_a_dropped_ami_link_mid_call_still_ends_the_job_exactly_once(
    serve: Running, fake: AmiFake
) -> None:
    appliance = serve()
    fake.hold = True
    job_id = send(appliance)
    until(lambda: fake.held() == [job_id], "the call is up")
    fake.drop()
    fake.release(job_id)  # the fax goes out while the appliance cannot hear of it
    until(lambda: len(fake.results) == 1, "the fax was sent")
    assert appliance.wait_for(job_id, ("in_progress",))["status"] == "in_progress"
    fake.restore()  # the plugin reconnects and looks the result up
    done = appliance.wait_for(job_id)
    assert (done["status"], done["pages"]) == ("SUCCESS", 1), done
    assert len(fake.originates) == 1
    assert fake.logins >= 2


def test_a_call_that_never_reports_fails_after_the_call_timeout(
    serve: Running, fake: AmiFake
) -> None:
    appliance = serve()
    done = appliance.wait_for(send(appliance, to=SILENT))
    assert done["status"] == "FAILED"
    assert "no result from Asterisk within 2 s" in str(done["error"]), done
    assert len(fake.originates) == 1


def test_more_faxes_than_channels_wait_their_turn(serve: Running, fake: AmiFake) -> None:
    fake.fax_seconds = 0.3
    appliance = serve("      max_concurrent_calls: 2\n")
    jobs = [send(appliance, to=f"+1202555015{i}") for i in range(5)]
    for job_id in jobs:
        assert appliance.wait_for(job_id)["status"] == "SUCCESS"
    assert len(fake.originates) == 5
    assert fake.most_active == 2  # used, and never exceeded


def test_a_restarted_appliance_still_knows_its_calls(serve: Running, fake: AmiFake) -> None:
    appliance = serve()
    fake.hold = True
    job_id = send(appliance)
    until(lambda: fake.held() == [job_id], "the call is up")
    appliance.kill()
    fake.release(job_id)
    until(lambda: len(fake.results) == 1, "the fax was sent")
    appliance.start(env={"ASTERISK_AMI_SECRET": fake.secret})
    done = appliance.wait_for(job_id)
    assert (done["status"], done["pages"]) == ("SUCCESS", 1), done
    assert len(fake.originates) == 1


INBOUND_TOKEN = "inbound-token-for-the-e2e-test-0123"
RECEIVING = "  inbound:\n    plugin: sip\n    version: 1.0.0\n    settings:\n"
RECEIVING += "      inbound_token: ${env:FAXBOT_SIP_INBOUND_TOKEN}\n"


def fax_tiff(folder: Path, pages: int) -> bytes:
    source, target = folder / "fax.pdf", folder / "fax.tif"
    source.write_bytes(pdf_of(pages))
    asyncio.run(pdf_to_tiff(source, target, TiffOptions()))
    return target.read_bytes()


def test_a_received_fax_is_stored_listed_and_downloadable(tmp_path: Path, fake: AmiFake) -> None:
    scopes = (*SCOPES, "inbound:list", "inbound:read", "inbound:read_all")
    appliance, env = sip_appliance(tmp_path / "a", fake, providers=RECEIVING, scopes=scopes)
    appliance.start(env={**env, "FAXBOT_SIP_INBOUND_TOKEN": INBOUND_TOKEN})
    try:
        spool = appliance.data_dir / "sip-spool" / "inbound"
        tiff = fax_tiff(tmp_path, pages=3)
        url = f"{appliance.url}/webhooks/sip"
        numbers = {"caller": "+12025550143", "did": "+12025550100", "url": url}
        forged = fake.receive_fax(spool, tiff, token="x" * 40, **numbers)
        assert forged.status_code == 401
        forged_file = fake.last_received
        answer = fake.receive_fax(spool, tiff, token=INBOUND_TOKEN, **numbers)
        assert answer.status_code == 200, answer.text
        with appliance.client() as client:
            listed = client.get("/inbound")
            assert listed.status_code == 200, listed.text
            [fax] = listed.json()["items"]
            assert (fax["from"], fax["to"], fax["pages"], fax["provider"]) == (
                "+12025550143",
                "+12025550100",
                3,
                "sip",
            )
            pdf = client.get(f"/inbound/{fax['id']}/pdf")
            assert pdf.status_code == 200, pdf.text
            assert len(PdfReader(io.BytesIO(pdf.content)).pages) == 3
        # the stored fax's TIFF is deleted (delete_copy); the forged call's file was not read
        until(lambda: [p.name for p in spool.iterdir()] == [forged_file], "the TIFF deleted")
    finally:
        appliance.stop()
