"""The Sinch transport: faxes sent and received through the Sinch Fax API v3.

Sending is one multipart POST with the document, the job id in the `labels` (so a hand-over
whose answer was lost is found again by `find_sent`, never sent twice) and, when the appliance
has a public URL, a `callbackUrl` with the webhook's Basic credentials in it. Status comes by
`FAX_COMPLETED` webhook and, as a fallback, by polling; received faxes come by `INCOMING_FAX`
webhook and `list_inbound`. Module map: settings.py (the settings), tokens.py (OAuth2), api.py
(HTTP and failure classes), faxes.py (Sinch's Fax object), webhooks.py (credentials, events)."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
from faxbot.plugins.contract import (
    DeletesCopies,
    Deps,
    FindsSent,
    Health,
    HealthCheck,
    InboundTransport,
    Manifest,
    OutboundFax,
    OutboundTransport,
    OutcomeUnknown,
    Plugin,
    ReceivedFax,
    SendReceipt,
    StatusUpdate,
    TransportError,
    TransportEvent,
    WebhookReceiver,
    WebhookRequest,
    load_manifest,
)

from faxbot_plugin_sinch.api import SinchApi
from faxbot_plugin_sinch.faxes import JOB_LABEL, job_label, received_fax, status_update
from faxbot_plugin_sinch.settings import SinchSettings, read_settings
from faxbot_plugin_sinch.tokens import AccessTokens
from faxbot_plugin_sinch.webhooks import UnreadableWebhook, check_credentials, read_events

PAGE_SIZE = 100
INBOUND_MAX_PAGES = 100
KEPT_DAYS = 400  # Sinch keeps faxes 13 months: `list_inbound(None)` asks for all of that


class SinchTransport(
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
        self._settings: SinchSettings | None = None
        self._client: httpx.AsyncClient | None = None
        self._api: SinchApi | None = None
        self._callback_url: str | None = None
        self._deps: Deps | None = None

    async def start(self, settings: Mapping[str, Any], deps: Deps) -> None:
        self._settings = read_settings(settings, deps.profile)
        self._deps = deps
        timeout = httpx.Timeout(
            self._settings.request_timeout, connect=self._settings.connect_timeout
        )
        verify = (
            ssl.create_default_context(cafile=self._settings.ca_file)
            if self._settings.ca_file
            else True
        )
        # No redirects: a bearer token or a document must not follow a Location elsewhere.
        self._client = httpx.AsyncClient(
            timeout=timeout, verify=verify, follow_redirects=False, trust_env=False
        )
        tokens = AccessTokens(
            self._client, self._settings.token_url, self._settings.key_id, self._settings.key_secret
        )
        self._api = SinchApi(self._client, tokens)
        if deps.webhook_url is not None:
            self._callback_url = self._settings.callback_url(deps.webhook_url)

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _ready(self) -> tuple[SinchSettings, SinchApi]:
        if self._settings is None or self._api is None:
            raise TransportError("sinch transport used before start()", retryable=True)
        return self._settings, self._api

    # -- outbound ---------------------------------------------------------------------------

    async def send(self, fax: OutboundFax) -> SendReceipt:
        settings, api = self._ready()
        document = await fax.document.read()
        fields: dict[str, str] = {"to": fax.to}
        if settings.sender:
            fields["from"] = settings.sender
        if settings.header_text:
            fields["headerText"] = settings.header_text
        if self._callback_url is not None:
            fields["callbackUrl"] = self._callback_url
            fields["callbackUrlContentType"] = settings.callback_content_type
        labels = json.dumps({JOB_LABEL: fax.job_id}).encode()
        files = {
            "file": ("fax.pdf", document, "application/pdf"),
            "labels": (None, labels, "application/json"),  # an object part: JSON (OpenAPI)
        }
        response = await api.send(settings.faxes_url, data=fields, files=files)
        try:
            fax_id = response.json()["id"]
        except (ValueError, KeyError, TypeError):
            # Sinch took it (2xx) but the id is lost: the job label finds it again.
            raise OutcomeUnknown(
                f"Sinch answered {response.status_code} without a fax id"
            ) from None
        return SendReceipt(provider_sid=str(fax_id))

    async def get_status(self, provider_sid: str) -> StatusUpdate:
        settings, api = self._ready()
        response = await api.read("GET", f"{settings.faxes_url}/{_segment(provider_sid)}")
        if response.status_code == 404:
            raise TransportError(f"Sinch has no fax {provider_sid!r}", retryable=False)
        return status_update(_object(response))

    async def find_sent(self, job_id: str) -> SendReceipt | None:
        """The fax labelled with `job_id` among recent sent faxes. Sinch's list has no label
        filter in its API reference, so recent pages are read and matched here; past
        `find_sent_max_pages` the answer is "cannot tell yet", never "not sent"."""
        settings, api = self._ready()
        query = {"direction": "OUTBOUND"}
        async with aclosing(
            self._pages(api, settings, query, settings.find_sent_max_pages)
        ) as pages:
            async for page, last in pages:
                for fax in page:
                    if job_label(fax) == job_id and fax.get("id"):
                        return SendReceipt(provider_sid=str(fax["id"]))
                if last:
                    return None
        raise TransportError(
            f"job {job_id} not among the {settings.find_sent_max_pages * PAGE_SIZE} most recent "
            "Sinch faxes read; cannot tell yet whether Sinch has it",
            retryable=True,
        )

    async def delete_copy(self, provider_sid: str) -> None:
        settings, api = self._ready()
        if not settings.delete_after_completion:
            return
        # 404: no such fax or no file left, which is what was asked.
        await api.read("DELETE", f"{settings.faxes_url}/{_segment(provider_sid)}/file")

    # -- inbound ----------------------------------------------------------------------------

    async def list_inbound(self, since: float | None) -> Sequence[ReceivedFax]:
        settings, api = self._ready()
        start = since if since is not None else time.time() - KEPT_DAYS * 86400
        query = {"direction": "INBOUND", "createTime>": _iso(start)}
        found: list[ReceivedFax] = []
        async with aclosing(self._pages(api, settings, query, INBOUND_MAX_PAGES)) as pages:
            async for page, last in pages:
                found.extend(received_fax(fax) for fax in page if fax.get("id"))
                if last:
                    break
        return sorted(
            (f for f in found if since is None or f.received_at >= since),
            key=lambda f: f.received_at,
        )

    async def get_inbound_pdf(self, provider_sid: str) -> AsyncIterator[bytes]:
        settings, api = self._ready()
        return api.download(f"{settings.faxes_url}/{_segment(provider_sid)}/file.pdf")

    async def ingest_webhook(self, request: WebhookRequest) -> Sequence[TransportEvent]:
        settings, _ = self._ready()
        check_credentials(request.headers, settings.webhook_username, settings.webhook_passwords)
        try:
            return read_events(request)
        except UnreadableWebhook as exc:
            # Answered (so Sinch does not retry it for hours) and logged; polling covers a
            # status this hid.
            if self._deps is not None:
                self._deps.logger.warning(
                    "sinch webhook ignored",
                    extra={"event": "webhook_unreadable", "error": str(exc)},
                )
            return []

    # -- health -----------------------------------------------------------------------------

    async def health(self) -> Health:
        try:
            settings, api = self._ready()
            response = await api.read("GET", settings.faxes_url, params={"pageSize": 1})
        except TransportError as exc:
            return Health(ok=False, detail=str(exc))
        if response.status_code == 404:
            return Health(ok=False, detail="Sinch does not know the project (project_id)")
        return Health(ok=True, detail="Sinch Fax API reachable, access key accepted")

    async def _pages(
        self, api: SinchApi, settings: SinchSettings, query: Mapping[str, str], max_pages: int
    ) -> AsyncGenerator[tuple[list[Mapping[str, Any]], bool], None]:
        """Pages of `GET /faxes` (1-based `page`, `totalPages` in the answer), each with whether
        it is the last one."""
        for number in range(1, max_pages + 1):
            params = {**query, "pageSize": str(PAGE_SIZE), "page": str(number)}
            response = await api.read("GET", settings.faxes_url, params=params)
            body = _object(response) if response.status_code != 404 else {}
            faxes = [f for f in body.get("faxes") or [] if isinstance(f, Mapping)]
            total = body.get("totalPages")
            last = not faxes or (isinstance(total, int) and number >= total)
            yield faxes, last
            if last:
                return


def _object(response: httpx.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise TransportError(
            f"Sinch answered {response.status_code} with no JSON object", retryable=True
        )
    return body


def _segment(provider_sid: str) -> str:
    """A fax id as one path segment: an id from a webhook is not trusted to be a plain one."""
    return quote(provider_sid, safe="")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["SinchTransport"]
