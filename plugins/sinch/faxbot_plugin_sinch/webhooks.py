"""Sinch's webhooks: checked by their Basic credentials (Sinch signs nothing, so the credentials
we put in the callback URL are the only proof), then read into events.

Sinch posts multipart/form-data (fields `event`, `eventTime`, `fax` as a JSON string, the
document as file part `file`) or, when asked, JSON (`fax` an object, `file` base64)."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

from faxbot.plugins.contract import (
    StatusReport,
    TransportEvent,
    WebhookRejected,
    WebhookRequest,
)

from faxbot_plugin_sinch.faxes import job_label, received_fax, status_update

FAX_COMPLETED = "FAX_COMPLETED"
INCOMING_FAX = "INCOMING_FAX"


class UnreadableWebhook(ValueError):
    """Authenticated, but not a Sinch fax event this plugin can read."""


def check_credentials(headers: Mapping[str, str], username: str, passwords: Sequence[str]) -> None:
    """Accept the request only with our user name and one of our passwords (the current one, or
    the previous one during a rotation). Every comparison is made, in constant time, whatever
    the outcome of the others."""
    given_user, given_password = _basic(headers.get("authorization", ""))
    user_ok = hmac.compare_digest(given_user.encode(), username.encode())
    password_ok = False
    for password in passwords:
        password_ok |= hmac.compare_digest(given_password.encode(), password.encode())
    if not (user_ok and password_ok):
        raise WebhookRejected("Sinch webhook without valid Basic credentials")


def read_events(request: WebhookRequest) -> list[TransportEvent]:
    """The events of a verified webhook: a StatusReport for a sent fax that ended, a ReceivedFax
    for an incoming one; nothing for events that concern neither."""
    event, fax, document = _payload(request)
    direction = fax.get("direction")
    if event == FAX_COMPLETED and direction != "INBOUND":
        update = status_update(fax)
        fax_id = str(fax["id"])
        return [
            StatusReport(
                provider_sid=fax_id,
                update=update,
                event_id=f"{fax_id}:{event}:{fax.get('status')}",
                job_id=job_label(fax),
            )
        ]
    if event == INCOMING_FAX:
        return [received_fax(fax, document)]
    return []


def _payload(request: WebhookRequest) -> tuple[str, Mapping[str, Any], bytes | None]:
    content_type = request.headers.get("content-type", "").lower()
    try:
        if content_type.startswith("application/json"):
            body = json.loads(request.body)
            if not isinstance(body, dict):
                raise UnreadableWebhook("a JSON webhook that is not an object")
            fax, encoded = body.get("fax"), body.get("file")
            document = base64.b64decode(encoded, validate=True) if encoded else None
            event = body.get("event")
        else:
            fax = json.loads(request.fields.get("fax", "null"))
            document = request.files.get("file")
            event = request.fields.get("event")
    except (ValueError, binascii.Error, TypeError) as exc:
        raise UnreadableWebhook(f"unreadable Sinch webhook: {type(exc).__name__}") from None
    if not isinstance(fax, dict) or not fax.get("id") or not isinstance(event, str):
        raise UnreadableWebhook("a Sinch webhook without event or fax id")
    return event, fax, document


def _basic(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    user, _, password = decoded.partition(":")
    return user, password
