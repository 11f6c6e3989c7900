"""The Sinch plugin against the Sinch fake (real HTTP on loopback): sending, status, failures
and their classes, the job label lookup, OAuth2 token refresh, webhook credentials and events,
received faxes and the deletion of Sinch's copies. End to end through `faxbot serve`:
tests/server/test_sinch_e2e.py."""

from __future__ import annotations

import asyncio
import base64
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from faxbot.plugins.contract import (
    Deps,
    FaxStatus,
    OutboundFax,
    OutcomeUnknown,
    ReceivedFax,
    StatusReport,
    StoredDocument,
    TransportError,
    WebhookRejected,
    WebhookRequest,
)
from faxbot_plugin_sinch import SinchTransport
from faxbot_plugin_sinch.settings import read_settings

from tests.fakes.sinch import FakeSinch, parse_multipart

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
USER, PASSWORD, OLD_PASSWORD = "sinch-hook", "p@ss:w/rd %1", "the-old-one"


@dataclass
class Captured:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """Stands in for the appliance's webhook route: records what Sinch posts, answers 200."""

    def __init__(self) -> None:
        self.captured: list[Captured] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.arrived:
                    receiver.captured.append(Captured(self.path, headers, body))
                    receiver.arrived.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/webhooks/sinch"

    def wait(self, count: int, timeout: float = 10) -> list[Captured]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.captured) >= count, timeout)
            return list(self.captured)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def webhook_request(captured: Captured) -> WebhookRequest:
    """What the core hands the plugin: raw body, lower-case headers, form fields and files."""
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    content_type = captured.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        fields, files = parse_multipart(content_type, captured.body)
    return WebhookRequest(
        url=captured.path,
        method="POST",
        headers=captured.headers,
        body=captured.body,
        fields=fields,
        files=files,
    )


class Memory:
    """A storage plugin's face for StoredDocument."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def get(self, key: str) -> AsyncIterator[bytes]:
        async def chunks() -> AsyncIterator[bytes]:
            yield self.data

        return chunks()


def outbound(job_id: str, to: str = "+12025550123") -> OutboundFax:
    return OutboundFax(job_id, to, 1, StoredDocument(Memory(PDF), f"{job_id}.pdf"))  # type: ignore[arg-type]


def settings(fake: FakeSinch, **extra: Any) -> dict[str, Any]:
    defaults = SinchTransport.manifest.defaults
    return {
        **defaults,
        "project_id": fake.project_id,
        "key_id": fake.key_id,
        "key_secret": fake.key_secret,
        "api_base_url": fake.url,
        "token_url": fake.token_url,
        "webhook_username": USER,
        "webhook_password": PASSWORD,
        **extra,
    }


@pytest.fixture
def fake() -> Iterator[FakeSinch]:
    with FakeSinch(completes_after=0.2).running() as running:
        yield running


def run(scenario: Any) -> Any:
    return asyncio.run(scenario)


async def started(
    fake: FakeSinch,
    tmp_path: Path,
    webhook_url: str | None = None,
    profile: str = "dev",
    **extra: Any,
) -> SinchTransport:
    plugin = SinchTransport()
    deps = Deps(tmp_path, logging.getLogger("test.sinch"), webhook_url=webhook_url, profile=profile)
    await plugin.start(settings(fake, **extra), deps)
    return plugin


async def until_final(plugin: SinchTransport, sid: str) -> Any:
    for _ in range(200):
        update = await plugin.get_status(sid)
        if update.status in (FaxStatus.SUCCESS, FaxStatus.FAILED):
            return update
        await asyncio.sleep(0.05)
    raise AssertionError("the fax never ended")


def test_a_send_reaches_sinch_with_its_document_label_and_callback_and_ends_success(
    fake: FakeSinch, tmp_path: Path
) -> None:
    async def scenario() -> None:
        plugin = await started(
            fake,
            tmp_path,
            "https://fax.example.com/webhooks/sinch",
            **{"from": "+12025550100"},
            header_text="Faxbot",
        )
        receipt = await plugin.send(outbound("job-1"))
        [fax] = fake.outbound()
        assert (fax.id, fax.to, fax.sender) == (
            receipt.provider_sid,
            "+12025550123",
            "+12025550100",
        )
        assert fax.file == PDF
        assert fax.labels == {"faxbot_job": "job-1"}
        assert fax.header_text == "Faxbot"
        assert fax.callback_url == (
            "https://sinch-hook:p%40ss%3Aw%2Frd%20%251@fax.example.com/webhooks/sinch"
        )
        assert receipt.status is FaxStatus.IN_PROGRESS
        assert (await plugin.get_status(receipt.provider_sid)).status is FaxStatus.IN_PROGRESS
        final = await until_final(plugin, receipt.provider_sid)
        assert (final.status, final.pages, final.error) == (FaxStatus.SUCCESS, 1, None)
        await plugin.stop()

    run(scenario())


def test_a_failure_at_sinch_is_failed_with_sinchs_words(fake: FakeSinch, tmp_path: Path) -> None:
    fake.fail_numbers["+12025550199"] = ("CALL_ERROR", 61, "The line was busy")

    async def scenario() -> None:
        plugin = await started(fake, tmp_path)
        receipt = await plugin.send(outbound("job-2", "+12025550199"))
        final = await until_final(plugin, receipt.provider_sid)
        assert final.status is FaxStatus.FAILED
        assert final.error == "Sinch CALL_ERROR 61: The line was busy"
        await plugin.stop()

    run(scenario())


@pytest.mark.parametrize("status", [429, 503])
def test_refused_before_acceptance_is_retryable_and_took_nothing(
    fake: FakeSinch, tmp_path: Path, status: int
) -> None:
    fake.refuse_next(1, status)

    async def scenario() -> None:
        plugin = await started(fake, tmp_path)
        with pytest.raises(TransportError) as caught:
            await plugin.send(outbound("job-3"))
        assert caught.value.retryable is True
        assert not isinstance(caught.value, OutcomeUnknown)
        assert f"Sinch answered {status}" in str(caught.value)
        assert fake.accepted == 0
        await plugin.send(outbound("job-3"))
        assert fake.accepted == 1
        await plugin.stop()

    run(scenario())


def test_a_refused_connection_is_retryable(tmp_path: Path) -> None:
    with FakeSinch().running() as gone:
        dead_url = gone.url
        config = settings(gone)
    plugin = SinchTransport()

    async def scenario() -> None:
        await plugin.start(
            {**config, "api_base_url": dead_url}, Deps(tmp_path, logging.getLogger("t"))
        )
        with pytest.raises(TransportError) as caught:
            await plugin.send(outbound("job-4"))
        assert caught.value.retryable is True
        assert not isinstance(caught.value, OutcomeUnknown)
        health = await plugin.health()
        assert not health.ok
        await plugin.stop()

    run(scenario())


def test_a_bad_request_is_not_retryable(fake: FakeSinch, tmp_path: Path) -> None:
    async def scenario() -> None:
        plugin = await started(fake, tmp_path)
        with pytest.raises(TransportError) as caught:
            await plugin.send(outbound("job-5", "12025550123"))  # not E.164: Sinch says 400
        assert caught.value.retryable is False
        assert str(caught.value) == "Sinch answered 400: to must be an E.164 number"
        await plugin.stop()

    run(scenario())


def test_a_timeout_after_sending_is_outcome_unknown_and_find_sent_finds_the_one_fax(
    fake: FakeSinch, tmp_path: Path
) -> None:
    async def scenario() -> None:
        plugin = await started(fake, tmp_path, timeout_seconds=0.5)
        await plugin.send(outbound("job-other"))
        fake.hang_next(1)
        with pytest.raises(OutcomeUnknown):
            await plugin.send(outbound("job-6"))
        assert fake.accepted == 2
        found = await plugin.find_sent("job-6")
        [taken] = [f for f in fake.outbound() if f.labels == {"faxbot_job": "job-6"}]
        assert found is not None and found.provider_sid == taken.id
        assert await plugin.find_sent("job-never-sent") is None
        assert fake.accepted == 2
        await plugin.stop()

    run(scenario())


def test_find_sent_pages_through_the_list_and_says_cannot_tell_past_its_limit(
    fake: FakeSinch, tmp_path: Path
) -> None:
    async def scenario() -> None:
        plugin = await started(fake, tmp_path)
        first = await plugin.send(outbound("job-first"))
        for number in range(100):  # one full page of newer faxes
            await plugin.send(outbound(f"job-n{number}"))
        found = await plugin.find_sent("job-first")
        assert found is not None and found.provider_sid == first.provider_sid
        limited = await started(fake, tmp_path, find_sent_max_pages=1)
        with pytest.raises(TransportError) as caught:
            await limited.find_sent("job-unknown")
        assert caught.value.retryable is True  # "cannot tell yet", never "not sent"
        await plugin.stop()
        await limited.stop()

    run(scenario())


def test_the_token_is_cached_and_refreshed_before_it_expires(
    fake: FakeSinch, tmp_path: Path
) -> None:
    async def scenario() -> None:
        plugin = await started(fake, tmp_path)
        for number in range(3):
            await plugin.send(outbound(f"job-t{number}"))
        assert fake.tokens_issued == 1
        fake.token_lifetime = 1.0  # the next token lives one second
        await plugin.stop()
        plugin = await started(fake, tmp_path)
        sid = (await plugin.send(outbound("job-t3"))).provider_sid
        assert fake.tokens_issued == 2
        await asyncio.sleep(1.0)  # past its refresh time (90 % of its life)
        await plugin.get_status(sid)
        assert fake.tokens_issued == 3
        assert fake.rejected_tokens == 0  # refreshed before Sinch refused it
        await plugin.stop()

    run(scenario())


def test_a_revoked_token_is_replaced_once_and_the_request_repeated_once(
    fake: FakeSinch, tmp_path: Path
) -> None:
    async def scenario() -> None:
        plugin = await started(fake, tmp_path)
        await plugin.send(outbound("job-r1"))
        fake.revoke()
        await plugin.send(outbound("job-r2"))
        assert (fake.tokens_issued, fake.rejected_tokens, fake.accepted) == (2, 1, 2)
        fake.token_lifetime = 0.0  # every new token is refused: a second 401 is an error
        fake.revoke()
        with pytest.raises(TransportError) as caught:
            await plugin.send(outbound("job-r3"))
        assert caught.value.retryable is False
        assert "refused a fresh access token" in str(caught.value)
        assert (fake.tokens_issued, fake.rejected_tokens, fake.accepted) == (3, 3, 2)
        await plugin.stop()

    run(scenario())


def test_a_wrong_access_key_is_not_retryable(fake: FakeSinch, tmp_path: Path) -> None:
    async def scenario() -> None:
        plugin = await started(fake, tmp_path, key_secret="wrong")
        with pytest.raises(TransportError) as caught:
            await plugin.send(outbound("job-k"))
        assert caught.value.retryable is False
        assert "wrong" not in str(caught.value)
        assert fake.accepted == 0
        await plugin.stop()

    run(scenario())


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"authorization": f"Basic {token}", "content-type": "application/json"}


def completed_event(fax_id: str = "01FX") -> bytes:
    fax = {
        "id": fax_id,
        "direction": "OUTBOUND",
        "status": "COMPLETED",
        "labels": {"faxbot_job": "j"},
    }
    return json_bytes({"event": "FAX_COMPLETED", "eventTime": "2026-12-01T00:00:00Z", "fax": fax})


def json_bytes(value: object) -> bytes:
    import json

    return json.dumps(value).encode()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic(USER, "wrong"),
        basic("someone", PASSWORD),
        basic(USER, PASSWORD + "x"),
        basic(USER, ""),
        {"authorization": "Bearer " + PASSWORD},
        {"authorization": "Basic !!notbase64"},
    ],
    ids=["none", "wrong-password", "wrong-user", "longer", "empty", "bearer", "garbage"],
)
def test_a_webhook_without_our_credentials_is_rejected(
    fake: FakeSinch, tmp_path: Path, headers: dict[str, str]
) -> None:
    async def scenario() -> None:
        plugin = await started(fake, tmp_path, webhook_password_previous=OLD_PASSWORD)
        request = WebhookRequest("/webhooks/sinch", "POST", headers, completed_event())
        with pytest.raises(WebhookRejected):
            await plugin.ingest_webhook(request)
        await plugin.stop()

    run(scenario())


def test_rotation_accepts_the_current_and_the_previous_password_only_while_set(
    fake: FakeSinch, tmp_path: Path
) -> None:
    async def scenario() -> None:
        rotating = await started(fake, tmp_path, webhook_password_previous=OLD_PASSWORD)
        for password in (PASSWORD, OLD_PASSWORD):
            request = WebhookRequest("/", "POST", basic(USER, password), completed_event())
            [report] = await rotating.ingest_webhook(request)
            assert isinstance(report, StatusReport)
            assert (report.provider_sid, report.job_id) == ("01FX", "j")
            assert report.event_id == "01FX:FAX_COMPLETED:COMPLETED"
            assert report.update.status is FaxStatus.SUCCESS
        done = await started(fake, tmp_path)
        with pytest.raises(WebhookRejected):
            await done.ingest_webhook(WebhookRequest("/", "POST", basic(USER, OLD_PASSWORD), b"{}"))
        await rotating.stop()
        await done.stop()

    run(scenario())


@pytest.mark.parametrize("content_type", ["multipart/form-data", "application/json"])
def test_fax_completed_callbacks_become_status_reports_with_the_job_id(
    fake: FakeSinch, tmp_path: Path, content_type: str
) -> None:
    fake.fail_numbers["+12025550199"] = ("FAX_ERROR", 43, "No fax machine answered")
    fake.duplicate_callbacks = True
    with Receiver() as receiver:

        async def scenario() -> None:
            plugin = await started(fake, tmp_path, receiver.url, callback_content_type=content_type)
            receipt = await plugin.send(outbound("job-cb", "+12025550199"))
            first, second = receiver.wait(2)
            assert first.headers["content-type"].startswith(content_type)
            assert "p%40ss" not in first.path and PASSWORD not in first.path
            reports = [await plugin.ingest_webhook(webhook_request(c)) for c in (first, second)]
            [[report], [again]] = reports
            assert isinstance(report, StatusReport) and report == again  # same event id
            assert (report.provider_sid, report.job_id) == (receipt.provider_sid, "job-cb")
            assert report.update.status is FaxStatus.FAILED
            assert report.update.error == "Sinch FAX_ERROR 43: No fax machine answered"
            await plugin.stop()

        run(scenario())


@pytest.mark.parametrize("content_type", ["multipart/form-data", "application/json"])
def test_an_incoming_fax_is_read_with_its_document_listed_and_downloaded(
    fake: FakeSinch, tmp_path: Path, content_type: str
) -> None:
    with Receiver() as receiver:

        async def scenario() -> None:
            plugin = await started(fake, tmp_path)
            hook = receiver.url.replace("http://", f"http://{USER}:p%40ss%3Aw%2Frd%20%251@")
            fax_id, answered = await asyncio.to_thread(
                fake.deliver_inbound, hook, PDF, content_type=content_type
            )
            assert answered == 200
            [captured] = receiver.wait(1)
            [received] = await plugin.ingest_webhook(webhook_request(captured))
            assert isinstance(received, ReceivedFax)
            assert (received.provider_sid, received.sender, received.recipient) == (
                fax_id,
                "+14155550100",
                "+12025550123",
            )
            assert received.document == PDF
            [listed] = await plugin.list_inbound(None)
            assert listed.provider_sid == fax_id and listed.document is None
            assert await plugin.list_inbound(received.received_at + 3600) == []
            chunks = [c async for c in await plugin.get_inbound_pdf(fax_id)]
            assert b"".join(chunks) == PDF
            await plugin.stop()

        run(scenario())


def test_list_inbound_finds_faxes_whose_webhook_was_lost_oldest_first(
    fake: FakeSinch, tmp_path: Path
) -> None:
    import time

    now = time.time()
    newer = fake.add_inbound(b"%PDF-newer", at=now - 60)
    older = fake.add_inbound(b"%PDF-older", at=now - 3 * 86400)
    ancient = fake.add_inbound(b"%PDF-ancient", at=now - 30 * 86400)  # before Sinch's default week

    async def scenario() -> None:
        plugin = await started(fake, tmp_path)
        listed = [f.provider_sid for f in await plugin.list_inbound(None)]
        assert listed == [ancient, older, newer]
        since = [f.provider_sid for f in await plugin.list_inbound(now - 86400)]
        assert since == [newer]
        await plugin.stop()

    run(scenario())


def test_delete_copy_deletes_only_when_asked_and_always_under_hipaa(
    fake: FakeSinch, tmp_path: Path
) -> None:
    async def scenario() -> None:
        keeping = await started(fake, tmp_path)
        sid = (await keeping.send(outbound("job-d1"))).provider_sid
        await keeping.delete_copy(sid)
        assert fake.deleted_files == []
        for plugin in (
            await started(fake, tmp_path, delete_after_completion=True),
            await started(fake, tmp_path, profile="hipaa"),
        ):
            sid = (await plugin.send(outbound("job-d2"))).provider_sid
            await plugin.delete_copy(sid)
            assert fake.deleted_files[-1] == sid
            with pytest.raises(TransportError):
                [c async for c in await plugin.get_inbound_pdf(sid)]
            await plugin.delete_copy(sid)  # twice: nothing left is what was asked
            await plugin.stop()
        await keeping.stop()

    run(scenario())


def test_health_reports_a_reachable_sinch(fake: FakeSinch, tmp_path: Path) -> None:
    async def scenario() -> None:
        plugin = await started(fake, tmp_path)
        assert (await plugin.health()).ok
        wrong = await started(fake, tmp_path, project_id="not-ours")
        health = await wrong.health()
        assert not health.ok and "project_id" in health.detail
        await plugin.stop()
        await wrong.stop()

    run(scenario())


def test_settings_pick_the_regional_host_and_keep_secrets_out_of_repr(fake: FakeSinch) -> None:
    config = settings(fake)
    del config["api_base_url"]
    for region, host in [("global", "fax.api.sinch.com"), ("eu1", "eu1.fax.api.sinch.com")]:
        parsed = read_settings({**config, "region": region}, "dev")
        assert parsed.faxes_url == f"https://{host}/v3/projects/{fake.project_id}/faxes"
    parsed = read_settings(config, "dev")
    for secret in (fake.key_secret, PASSWORD):
        assert secret not in repr(parsed)
    assert not parsed.delete_after_completion
    assert read_settings(config, "hipaa").delete_after_completion
