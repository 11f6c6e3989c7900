"""The Phaxio plugin against the Phaxio fake (tests/fakes/phaxio.py): real HTTP on loopback,
each call through the plugin's public methods. The end-to-end tests through `faxbot serve` are
in tests/server/test_phaxio_e2e.py."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
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
from faxbot_plugin_phaxio import PhaxioTransport
from faxbot_plugin_phaxio.signature import signature, verifies

from tests.fakes.phaxio import PhaxioFake, _form
from tests.server.conftest import free_port

PDF = b"%PDF-1.4\n% a fax\n" + bytes(range(256)) * 4
WEBHOOK = "https://fax.example.com/webhooks/phaxio"


def test_the_protocols_signature_vector_verifies_and_a_one_bit_change_does_not() -> None:
    vector = "64a735ef0c47a0ae671e381c046648f0966deb29"
    assert signature("test-webhook-token", "example.com", {"test": "true"}, {}) == vector
    assert verifies(vector, ["test-webhook-token"], "example.com", {"test": "true"}, {})
    flipped = vector[:-1] + format(int(vector[-1], 16) ^ 1, "x")  # the lowest bit
    assert not verifies(flipped, ["test-webhook-token"], "example.com", {"test": "true"}, {})
    # and one bit of what is signed: the token, the URL, a value
    assert not verifies(vector, ["test-webhook-tokem"], "example.com", {"test": "true"}, {})
    assert not verifies(vector, ["test-webhook-token"], "example.con", {"test": "true"}, {})
    assert not verifies(vector, ["test-webhook-token"], "example.com", {"test": "truf"}, {})
    # a rotation: the previous token still verifies
    assert verifies(
        vector, ["new-token", "test-webhook-token"], "example.com", {"test": "true"}, {}
    )


class Document:
    """Storage holding one document, as the core hands a StoredDocument over."""

    async def get(self, key: str) -> AsyncIterator[bytes]:
        async def chunks() -> AsyncIterator[bytes]:
            yield PDF[:100]
            yield PDF[100:]

        return chunks()

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        raise NotImplementedError

    async def delete(self, key: str) -> None:
        raise NotImplementedError


def outbound(job_id: str = "job-1", to: str = "+15551234567") -> OutboundFax:
    return OutboundFax(job_id, to, 1, StoredDocument(Document(), job_id))


def settings(fake: PhaxioFake, **overrides: Any) -> dict[str, Any]:
    manifest = PhaxioTransport.manifest
    return {
        **manifest.defaults,
        "api_key": fake.api_key,
        "api_secret": fake.api_secret,
        "callback_token": fake.callback_token,
        "api_base_url": fake.url,
        "timeout_seconds": 2,
        **overrides,
    }


@pytest.fixture
def fake() -> Iterator[PhaxioFake]:
    with PhaxioFake(complete_after=0.05) as running:
        running.lose_callbacks = True  # WEBHOOK is not ours: tests post the callbacks themselves
        yield running


def run(
    fake: PhaxioFake, tmp_path: Path, scenario: Any, profile: str = "dev", **overrides: Any
) -> Any:
    async def main() -> Any:
        plugin = PhaxioTransport()
        deps = Deps(
            tmp_path, logging.getLogger("phaxio-test"), webhook_url=WEBHOOK, profile=profile
        )
        await plugin.start(settings(fake, **overrides), deps)
        try:
            return await scenario(plugin)
        finally:
            await plugin.stop()

    return asyncio.run(main())


async def until_final(plugin: PhaxioTransport, sid: str) -> Any:
    for _ in range(200):
        update = await plugin.get_status(sid)
        if update.status in (FaxStatus.SUCCESS, FaxStatus.FAILED):
            return update
        await asyncio.sleep(0.02)
    raise AssertionError("never final")


def test_a_send_uploads_the_pdf_with_the_job_tag_and_callback_and_ends_success(
    fake: PhaxioFake, tmp_path: Path
) -> None:
    async def scenario(plugin: PhaxioTransport) -> None:
        receipt = await plugin.send(outbound())
        assert receipt.status is FaxStatus.IN_PROGRESS
        update = await until_final(plugin, receipt.provider_sid)
        assert (update.status, update.error, update.pages) == (FaxStatus.SUCCESS, None, 1)

    run(fake, tmp_path, scenario, header_text="Faxbot", caller_id="+15550001111")
    [fax] = fake.sent()
    assert (fax.number, fax.tags, fax.callback_url) == (
        "+15551234567",
        {"faxbot_job": "job-1"},
        WEBHOOK,
    )
    assert (fax.header_text, fax.caller_id, fax.file) == ("Faxbot", "+15550001111", PDF)


def test_a_provider_failure_ends_failed_with_phaxios_error_type_and_message(
    fake: PhaxioFake, tmp_path: Path
) -> None:
    fake.fail_numbers["+15559990000"] = ("lineError", "The line was busy")

    async def scenario(plugin: PhaxioTransport) -> Any:
        receipt = await plugin.send(outbound(to="+15559990000"))
        return await until_final(plugin, receipt.provider_sid)

    update = run(fake, tmp_path, scenario)
    assert update.status is FaxStatus.FAILED
    assert update.error == "Phaxio lineError: The line was busy"


def test_a_partial_success_is_a_failure(fake: PhaxioFake, tmp_path: Path) -> None:
    fake.fail_numbers["+15559990001"] = ("faxError", "Page 2 could not be sent")
    fake.partial_numbers.add("+15559990001")

    async def scenario(plugin: PhaxioTransport) -> Any:
        receipt = await plugin.send(outbound(to="+15559990001"))
        return await until_final(plugin, receipt.provider_sid)

    update = run(fake, tmp_path, scenario)
    assert update.status is FaxStatus.FAILED
    assert update.error == (
        "Phaxio faxError: not every recipient was reached; Page 2 could not be sent"
    )


@pytest.mark.parametrize("status", [429, 503])
def test_turned_away_before_acceptance_is_retryable_and_nothing_was_taken(
    fake: PhaxioFake, tmp_path: Path, status: int
) -> None:
    fake.refuse_next(1, status)

    async def scenario(plugin: PhaxioTransport) -> None:
        with pytest.raises(TransportError) as caught:
            await plugin.send(outbound())
        assert caught.value.retryable is True
        assert not isinstance(caught.value, OutcomeUnknown)
        assert str(status) in str(caught.value)
        assert fake.accepted == 0
        await plugin.send(outbound())  # the retry

    run(fake, tmp_path, scenario)
    assert fake.accepted == 1


def test_connection_refused_is_retryable(fake: PhaxioFake, tmp_path: Path) -> None:
    async def scenario(plugin: PhaxioTransport) -> None:
        with pytest.raises(TransportError) as caught:
            await plugin.send(outbound())
        assert caught.value.retryable is True and not isinstance(caught.value, OutcomeUnknown)

    run(fake, tmp_path, scenario, api_base_url=f"http://127.0.0.1:{free_port()}/v2.1/")


def test_a_timeout_after_acceptance_is_an_unknown_outcome_that_find_sent_resolves(
    fake: PhaxioFake, tmp_path: Path
) -> None:
    fake.hang_next(1)

    async def scenario(plugin: PhaxioTransport) -> None:
        with pytest.raises(OutcomeUnknown):
            await plugin.send(outbound("job-hang"))
        assert fake.accepted == 1
        found = await plugin.find_sent("job-hang")
        assert found is not None and found.provider_sid == str(fake.sent()[0].id)
        assert await plugin.find_sent("job-never-sent") is None

    run(fake, tmp_path, scenario, timeout_seconds=0.5)
    assert fake.accepted == 1


def test_refusals_are_final_with_phaxios_message(fake: PhaxioFake, tmp_path: Path) -> None:
    fake.unsuccessful_next(1)

    async def scenario(plugin: PhaxioTransport) -> None:
        with pytest.raises(TransportError) as unsuccessful:
            await plugin.send(outbound())
        assert unsuccessful.value.retryable is False
        assert "Fax could not be queued" in str(unsuccessful.value)
        with pytest.raises(TransportError) as missing:
            await plugin.get_status("999")
        assert missing.value.retryable is False and "Fax not found" in str(missing.value)

    run(fake, tmp_path, scenario)

    async def wrong_key(plugin: PhaxioTransport) -> None:
        with pytest.raises(TransportError) as caught:
            await plugin.send(outbound())
        assert caught.value.retryable is False
        assert "401" in str(caught.value) and "Invalid API credentials" in str(caught.value)
        assert "wrong-secret" not in str(caught.value)

    run(fake, tmp_path, wrong_key, api_secret="wrong-secret")
    assert fake.accepted == 0


def webhook_request(url: str, body: bytes, headers: dict[str, str]) -> WebhookRequest:
    fields, files = _form(headers["Content-Type"], body)
    lowered = {k.lower(): v for k, v in headers.items()}
    return WebhookRequest(url, "POST", lowered, body, fields, files)


def test_callbacks_verify_under_the_current_or_previous_token_and_forgeries_are_rejected(
    fake: PhaxioFake, tmp_path: Path
) -> None:
    fake.inflight_callbacks = True

    async def scenario(plugin: PhaxioTransport) -> None:
        receipt = await plugin.send(outbound("job-cb"))
        await until_final(plugin, receipt.provider_sid)
        fax_id = int(receipt.provider_sid)
        request = webhook_request(*fake.signed_callback(fax_id))
        [report] = await plugin.ingest_webhook(request)
        assert isinstance(report, StatusReport)
        assert (report.provider_sid, report.job_id) == (receipt.provider_sid, "job-cb")
        assert report.update.status is FaxStatus.SUCCESS
        again = await plugin.ingest_webhook(webhook_request(*fake.signed_callback(fax_id)))
        assert again[0].event_id == report.event_id  # a second delivery names the same event
        [progress] = await plugin.ingest_webhook(
            webhook_request(*fake.signed_callback(fax_id, "transmitting_page"))
        )
        assert isinstance(progress, StatusReport)
        assert progress.update.status is FaxStatus.IN_PROGRESS
        assert progress.event_id != report.event_id
        # forged: a valid signature for another URL, a changed body, no signature at all
        url, body, headers = fake.signed_callback(fax_id)
        for forged in (
            webhook_request(url + "?x", body, headers),
            webhook_request(url, body.replace(b"success", b"failure", 1), headers),
            webhook_request(url, body, {"Content-Type": headers["Content-Type"]}),
        ):
            with pytest.raises(WebhookRejected):
                await plugin.ingest_webhook(forged)

    run(fake, tmp_path, scenario)
    # rotation: Phaxio signs with the new token; the old one is still accepted as previous
    old = fake.callback_token

    async def rotated(plugin: PhaxioTransport) -> None:
        fax_id = fake.sent()[0].id
        assert await plugin.ingest_webhook(webhook_request(*fake.signed_callback(fax_id)))
        fake.callback_token = "new-token"
        assert await plugin.ingest_webhook(webhook_request(*fake.signed_callback(fax_id)))
        fake.callback_token = "someone-elses-token"
        with pytest.raises(WebhookRejected):
            await plugin.ingest_webhook(webhook_request(*fake.signed_callback(fax_id)))

    run(fake, tmp_path, rotated, callback_token="new-token", callback_token_previous=old)


def test_a_received_fax_arrives_by_callback_and_is_listed_and_downloaded(
    fake: PhaxioFake, tmp_path: Path
) -> None:
    fax_id = fake.deliver_inbound(WEBHOOK, PDF, "+15557654321", "+15550001111", pages=2)

    async def scenario(plugin: PhaxioTransport) -> None:
        [received] = await plugin.ingest_webhook(webhook_request(*fake.signed_callback(fax_id)))
        assert isinstance(received, ReceivedFax)
        assert (received.provider_sid, received.sender, received.recipient, received.pages) == (
            str(fax_id),
            "+15557654321",
            "+15550001111",
            2,
        )
        assert received.document == PDF
        [listed] = await plugin.list_inbound(None)
        assert listed.provider_sid == str(fax_id) and listed.document is None
        assert await plugin.list_inbound(listed.received_at + 60) == []
        assert b"".join([c async for c in await plugin.get_inbound_pdf(str(fax_id))]) == PDF

    run(fake, tmp_path, scenario)


@pytest.mark.parametrize(
    ("profile", "setting", "deleted"),
    [("dev", False, False), ("dev", True, True), ("hipaa", False, True)],
)
def test_the_providers_copy_is_deleted_when_the_settings_or_the_hipaa_profile_ask(
    fake: PhaxioFake, tmp_path: Path, profile: str, setting: bool, deleted: bool
) -> None:
    async def scenario(plugin: PhaxioTransport) -> None:
        receipt = await plugin.send(outbound())
        await until_final(plugin, receipt.provider_sid)
        await plugin.delete_copy(receipt.provider_sid)

    run(fake, tmp_path, scenario, profile=profile, delete_after_completion=setting)
    assert fake.sent()[0].file_deleted is deleted
    assert (("DELETE", f"/v2.1/faxes/{fake.sent()[0].id}/file") in fake.requests) is deleted


def test_health_asks_phaxio(fake: PhaxioFake, tmp_path: Path) -> None:
    async def scenario(plugin: PhaxioTransport) -> Any:
        return await plugin.health()

    assert run(fake, tmp_path, scenario).ok is True
    assert run(fake, tmp_path, scenario, api_secret="wrong").ok is False


def test_https_to_a_private_ca_named_by_ca_file(tmp_path: Path) -> None:
    with PhaxioFake(tls_dir=tmp_path / "tls") as fake:
        fake.lose_callbacks = True
        assert fake.url.startswith("https://") and fake.ca_file is not None

        async def scenario(plugin: PhaxioTransport) -> Any:
            return await plugin.send(outbound())

        run(fake, tmp_path, scenario, ca_file=str(fake.ca_file))
        assert fake.accepted == 1

        async def untrusted(plugin: PhaxioTransport) -> None:
            with pytest.raises(TransportError) as caught:  # the system's CAs do not know it
                await plugin.send(outbound())
            assert caught.value.retryable is True

        run(fake, tmp_path, untrusted)
        assert fake.accepted == 1
