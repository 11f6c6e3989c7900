"""The Phaxio transport (API v2.1): outbound and inbound faxes through one Phaxio account.

Sending: each fax carries its job id as the tag `faxbot_job` and asks for callbacks at the
appliance's webhook URL. Status comes by callback first; the core polls `get_status` as the
fallback for a lost one. A send whose outcome is unknown is found again by its tag
(`find_sent`), never sent twice blindly. Callbacks are verified with `X-Phaxio-Signature`
(signature.py) under the current or the previous callback token. docs/transports.md has the
set-up, the status table and what is retried."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from faxbot.plugins.contract import (
    DeletesCopies,
    Deps,
    DocumentLinks,
    FaxStatus,
    FindsSent,
    Health,
    HealthCheck,
    InboundTransport,
    Manifest,
    OutboundFax,
    OutboundTransport,
    Plugin,
    ReceivedFax,
    SendReceipt,
    StatusReport,
    StatusUpdate,
    TransportError,
    TransportEvent,
    WebhookReceiver,
    WebhookRejected,
    WebhookRequest,
    load_manifest,
)

from faxbot_plugin_phaxio import faxes
from faxbot_plugin_phaxio.api import Files, PhaxioApi
from faxbot_plugin_phaxio.signature import verifies

SIGNATURE_HEADER = "x-phaxio-signature"
TERMINAL_EVENT = "fax_completed"  # transmitting_page and retry_scheduled are progress
FIND_SENT_LOOKBACK_SECONDS = 7 * 86400  # Phaxio's own default range for listing faxes
PER_PAGE = 1000  # Phaxio's largest page
OLDEST = "2000-01-01T00:00:00Z"  # `since=None`: everything Phaxio keeps (its default is a week)


class PhaxioTransport(
    Plugin,
    OutboundTransport,
    FindsSent,
    DeletesCopies,
    InboundTransport,
    WebhookReceiver,
    HealthCheck,
):
    manifest: ClassVar[Manifest] = load_manifest(__name__)

    def __init__(self) -> None:
        self._api: PhaxioApi | None = None
        self._tokens: tuple[str, ...] = ()
        self._settings: Mapping[str, Any] = {}
        self._deps: Deps | None = None
        self._delete_copies = False

    async def start(self, settings: Mapping[str, Any], deps: Deps) -> None:
        if settings["send_mode"] == "content_url" and deps.document_links is None:
            raise ValueError(
                "send_mode content_url needs appliance.public_url: Phaxio fetches the document "
                "from a link under it"
            )
        self._settings = settings
        self._deps = deps
        self._tokens = tuple(
            token
            for token in (settings["callback_token"], settings.get("callback_token_previous"))
            if token
        )
        # Under hipaa no copy stays at the provider longer than needed, whatever the setting.
        self._delete_copies = bool(settings["delete_after_completion"]) or deps.profile == "hipaa"
        self._api = PhaxioApi(
            settings["api_base_url"],
            settings["api_key"],
            settings["api_secret"],
            connect_timeout=float(settings["connect_timeout_seconds"]),
            timeout=float(settings["timeout_seconds"]),
            ca_file=settings.get("ca_file"),
        )

    async def stop(self) -> None:
        if self._api is not None:
            await self._api.close()
            self._api = None

    # -- outbound -----------------------------------------------------------------------------

    async def send(self, fax: OutboundFax) -> SendReceipt:
        api, deps = self._started()
        fields: list[tuple[str, str]] = [("to", fax.to), (f"tag[{faxes.JOB_TAG}]", fax.job_id)]
        if deps.webhook_url:
            fields.append(("callback_url", deps.webhook_url))
        for name in ("header_text", "caller_id"):
            if self._settings.get(name):
                fields.append((name, str(self._settings[name])))
        files: Files = {}
        if self._settings["send_mode"] == "content_url":
            links = deps.document_links
            assert isinstance(links, DocumentLinks)  # start() refused content_url without it
            ttl = float(self._settings["content_url_ttl_seconds"])
            fields.append(("content_url", await links.link(fax.document, ttl)))
        else:
            files = {"file": (f"{fax.job_id}.pdf", await fax.document.read(), "application/pdf")}
        data = await api.send(fields, files)
        return SendReceipt(provider_sid=str(data["id"]))

    async def get_status(self, provider_sid: str) -> StatusUpdate:
        api, _ = self._started()
        fax = await api.get(f"faxes/{_sid(provider_sid)}")
        if not isinstance(fax, dict):
            raise TransportError("Phaxio answered a status request without a fax", retryable=True)
        return faxes.status_update(fax)

    async def find_sent(self, job_id: str) -> SendReceipt | None:
        """The fax tagged with `job_id`, listed with Phaxio's tag filter (`tag[faxbot_job]`) and
        matched again here by its tags, so a filter Phaxio ignored cannot match another job."""
        api, _ = self._started()
        since = _rfc3339(time.time() - FIND_SENT_LOOKBACK_SECONDS)
        params = [
            ("direction", "sent"),
            (f"tag[{faxes.JOB_TAG}]", job_id),
            ("created_after", since),
            ("per_page", str(PER_PAGE)),
        ]
        listed, _ = await api.page("faxes", params)
        found = [f for f in listed if isinstance(f, dict) and faxes.job_id(f) == job_id]
        if not found:
            return None
        first = min(found, key=lambda f: str(f.get("created_at", "")))
        update = faxes.status_update(first)
        return SendReceipt(provider_sid=faxes.fax_id(first), status=update.status)

    async def delete_copy(self, provider_sid: str) -> None:
        if not self._delete_copies:
            return
        api, deps = self._started()
        deleted = await api.delete(f"faxes/{_sid(provider_sid)}/file")
        deps.logger.info(
            "provider copy deleted" if deleted else "provider copy already gone",
            extra={"event": "phaxio_copy_deleted", "provider_sid": provider_sid},
        )

    # -- inbound ------------------------------------------------------------------------------

    async def list_inbound(self, since: float | None) -> Sequence[ReceivedFax]:
        api, _ = self._started()
        params = [
            ("direction", "received"),
            ("created_after", OLDEST if since is None else _rfc3339(since)),
            ("per_page", str(PER_PAGE)),
        ]
        received: list[ReceivedFax] = []
        page = 1
        while True:
            listed, paging = await api.page("faxes", [*params, ("page", str(page))])
            received += [faxes.received_fax(f, None) for f in listed if isinstance(f, dict)]
            total = paging.get("total")
            seen = (page - 1) * PER_PAGE + len(listed)
            if len(listed) < PER_PAGE or (isinstance(total, int) and seen >= total):
                break
            page += 1
        return sorted(received, key=lambda r: r.received_at)

    async def get_inbound_pdf(self, provider_sid: str) -> AsyncIterator[bytes]:
        api, _ = self._started()
        return api.stream(f"faxes/{_sid(provider_sid)}/file")

    async def ingest_webhook(self, request: WebhookRequest) -> Sequence[TransportEvent]:
        header = request.headers.get(SIGNATURE_HEADER, "")
        if not header or not verifies(
            header, self._tokens, request.url, request.fields, request.files
        ):
            raise WebhookRejected("X-Phaxio-Signature does not verify")
        _, deps = self._started()
        try:
            return self._events(request)
        except (faxes.MalformedFax, ValueError) as exc:
            # Signed by Phaxio, so acknowledged (a refusal would be retried for hours), not used.
            deps.logger.warning(
                "phaxio callback not understood",
                extra={"event": "phaxio_callback_malformed", "error": str(exc)},
            )
            return ()

    def _events(self, request: WebhookRequest) -> Sequence[TransportEvent]:
        fields = request.fields
        fax = faxes.parse_fax(fields.get("fax", ""))
        event_type = fields.get("event_type", TERMINAL_EVENT)
        direction = fields.get("direction") or fax.get("direction")
        if direction == "received":
            if event_type != TERMINAL_EVENT or fax.get("status") != "success":
                return ()  # a reception under way or failed: no fax to store
            return (faxes.received_fax(fax, request.files.get("file")),)
        if direction != "sent":
            return ()
        update = faxes.status_update(fax)
        if event_type != TERMINAL_EVENT and update.status in (FaxStatus.SUCCESS, FaxStatus.FAILED):
            update = StatusUpdate(FaxStatus.IN_PROGRESS, pages=update.pages)
        sid = faxes.fax_id(fax)
        return (
            StatusReport(
                provider_sid=sid,
                update=update,
                event_id=f"{sid}:{event_type}:{fax.get('status')}",
                job_id=faxes.job_id(fax),
            ),
        )

    async def health(self) -> Health:
        api, _ = self._started()
        try:
            await api.get("account/status")
        except TransportError as exc:
            return Health(ok=False, detail=str(exc))
        return Health(ok=True, detail="Phaxio answered")

    def _started(self) -> tuple[PhaxioApi, Deps]:
        if self._api is None or self._deps is None:
            raise TransportError("phaxio plugin used before start()", retryable=True)
        return self._api, self._deps


def _sid(provider_sid: str) -> str:
    """A Phaxio fax id is a number; anything else never reaches a URL path."""
    if not provider_sid.isdigit():
        raise TransportError(f"not a Phaxio fax id: {provider_sid!r}", retryable=False)
    return provider_sid


def _rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["PhaxioTransport"]
