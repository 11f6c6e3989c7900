"""The test transport's webhook format (docs/plugins.md, "The test transport's webhooks").

`POST /webhooks/test` with a JSON body and the header
`X-Test-Signature: sha256=<lowercase hex HMAC-SHA256 of the raw body, keyed by webhook_secret>`
(or by `webhook_previous_secret`, during a rotation). The body:

    {"events": [
      {"type": "status", "event_id": "e-1", "provider_sid": "...", "job_id": "..." | null,
       "status": "in_progress" | "SUCCESS" | "FAILED", "error": "..." | null, "pages": 2 | null},
      {"type": "received", "provider_sid": "...", "from": "+1...", "to": "+1...",
       "pages": 1, "received_at": 1767225600.0, "document": "<base64 PDF>" | null}
    ]}

A received fax without `document` is fetched from the provider's inbox (`get_inbound_pdf`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any

from faxbot.plugins.contract import (
    FaxStatus,
    ReceivedFax,
    StatusReport,
    StatusUpdate,
    TransportEvent,
    WebhookRejected,
    WebhookRequest,
)

SIGNATURE_HEADER = "x-test-signature"
SIGNATURE_PREFIX = "sha256="


def sign(body: bytes, secret: str) -> str:
    """The header value a sender puts on `body` (tests use it)."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify(request: WebhookRequest, secrets: Sequence[bytes]) -> None:
    """WebhookRejected unless the body is signed with one of `secrets` (none: all rejected)."""
    presented = request.headers.get(SIGNATURE_HEADER, "")
    if not secrets:
        raise WebhookRejected("test transport: no webhook_secret is set")
    if not presented.startswith(SIGNATURE_PREFIX):
        raise WebhookRejected("test transport: no X-Test-Signature")
    given = presented[len(SIGNATURE_PREFIX) :].encode()
    matched = False
    for secret in secrets:  # every secret is compared: the time tells nothing of which
        expected = hmac.new(secret, request.body, hashlib.sha256).hexdigest().encode()
        matched |= hmac.compare_digest(expected, given)
    if not matched:
        raise WebhookRejected("test transport: bad signature")


def read_events(body: bytes) -> list[TransportEvent]:
    """The events of a verified body. A body that is signed but malformed is rejected too:
    nothing of it is applied."""
    try:
        data = json.loads(body)
        return [_event(raw) for raw in data["events"]]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise WebhookRejected(f"test transport: malformed body ({type(exc).__name__})") from None


def _event(raw: dict[str, Any]) -> TransportEvent:
    if raw["type"] == "status":
        return StatusReport(
            provider_sid=str(raw["provider_sid"]),
            update=StatusUpdate(FaxStatus(raw["status"]), raw.get("pages"), raw.get("error")),
            event_id=str(raw["event_id"]),
            job_id=raw.get("job_id"),
        )
    if raw["type"] == "received":
        document = raw.get("document")
        return ReceivedFax(
            provider_sid=str(raw["provider_sid"]),
            sender=raw.get("from"),
            recipient=raw.get("to"),
            pages=raw.get("pages"),
            received_at=float(raw["received_at"]),
            document=None if document is None else base64.b64decode(document, validate=True),
        )
    raise ValueError("unknown event type")
