"""Faxes Asterisk received: the dialplan's ReceiveFAX writes a TIFF into the spool's
`inbound/` folder, then posts to POST /webhooks/sip (Asterisk's CURL() function, no shell)
a form with the file's name and the call's numbers, with `Authorization: Bearer <token>`.

Why a webhook rather than an AMI UserEvent: the plugin contract already carries webhooks to
the core's inbound store (deduplicated, retried by the caller), so no new contract is needed,
and the dialplan learns whether the fax was taken (a 200). The token is compared in constant
time; the file name must be a plain name inside the folder (never a path), so a forged or
mistaken call cannot make the plugin read any other file."""

from __future__ import annotations

import asyncio
import hmac
import os
import re
from pathlib import Path
from urllib.parse import parse_qs

from faxbot.plugins.contract import ReceivedFax, TransportEvent, WebhookRejected, WebhookRequest

from faxbot_plugin_sip.documents import ConversionError, tiff_to_pdf

FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.tiff?$")
MAX_TIFF_BYTES = 64 * 1024 * 1024
SID_PREFIX = "sip-in-"


class InboundSpool:
    def __init__(self, folder: Path, token: str) -> None:
        self.folder = folder
        self._expected = f"Bearer {token}".encode()

    async def ingest(self, request: WebhookRequest) -> list[TransportEvent]:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, self._expected):
            raise WebhookRejected("sip: the inbound token does not match")
        fields = dict(request.fields) or _form(request.body)
        name = fields.get("file", "")
        if not FILE_NAME.fullmatch(name):
            raise WebhookRejected("sip: `file` must be the plain name of a TIFF in the spool")
        if fields.get("status", "SUCCESS").upper() != "SUCCESS":
            return []  # the dialplan reports a failed reception: there is no fax to keep
        path = self.folder / name
        try:
            tiff, mtime = await asyncio.to_thread(_read, path)
        except FileNotFoundError:
            raise WebhookRejected(f"sip: no received fax named {name!r} in the spool") from None
        try:
            pdf, pages = await asyncio.to_thread(tiff_to_pdf, tiff)
        except ConversionError as exc:
            raise WebhookRejected(f"sip: {exc}") from None
        return [
            ReceivedFax(
                provider_sid=SID_PREFIX + name.rsplit(".", 1)[0],
                sender=e164(fields.get("from", "")),
                recipient=e164(fields.get("to", "")),
                pages=pages,
                received_at=mtime,
                document=pdf,
            )
        ]

    def delete(self, provider_sid: str) -> None:
        """Remove the TIFF of a received fax once the core stored its PDF."""
        if not provider_sid.startswith(SID_PREFIX):
            return
        stem = provider_sid[len(SID_PREFIX) :]
        for suffix in (".tif", ".tiff"):
            name = stem + suffix
            if FILE_NAME.fullmatch(name):
                (self.folder / name).unlink(missing_ok=True)


def _read(path: Path) -> tuple[bytes, float]:
    with path.open("rb") as file:
        data = file.read(MAX_TIFF_BYTES + 1)
        if len(data) > MAX_TIFF_BYTES:
            raise ConversionError(f"the received TIFF is larger than {MAX_TIFF_BYTES} bytes")
        return data, os.fstat(file.fileno()).st_mtime


def _form(body: bytes) -> dict[str, str]:
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


def e164(number: str) -> str | None:
    """A caller id or DID as E.164 when it is one, else None: `+` and 8-15 digits, or 11-15
    digits with a country code but no `+` (as many trunks send them). A national or withheld
    number is not guessed into a country."""
    raw = number.strip()
    digits = raw.removeprefix("+")
    shortest = 8 if raw.startswith("+") else 11
    if digits.isdigit() and shortest <= len(digits) <= 15 and not digits.startswith("0"):
        return "+" + digits
    return None
