"""Faxes Asterisk received: the dialplan's ReceiveFAX writes a TIFF into the spool's
`inbound/` folder, then posts to POST /webhooks/sip (Asterisk's CURL() function, no shell)
a form with the file's name and the call's numbers, with `Authorization: Bearer <token>`.

The file is named `<UNIQUEID>_<caller digits>_<DID digits>.tif`, so the spool alone says
what each fax is: `list_inbound` lists the TIFFs Asterisk has stopped writing (untouched for
`SETTLED_SECONDS`: ReceiveFAX writes every page as it arrives) and not yet deleted, which is
how a fax whose webhook was lost (the appliance was down) is still found.

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
SETTLED_SECONDS = 120.0


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
        try:
            fax = await self.received(name, fields.get("from"), fields.get("to"))
        except FileNotFoundError:
            raise WebhookRejected(f"sip: no received fax named {name!r} in the spool") from None
        except ConversionError as exc:
            raise WebhookRejected(f"sip: {exc}") from None
        return [fax]

    async def received(self, name: str, sender: str | None, recipient: str | None) -> ReceivedFax:
        """The received fax in file `name`, with its PDF. Numbers not given come from the
        file's name."""
        tiff, mtime = await asyncio.to_thread(_read, self.folder / name)
        pdf, pages = await asyncio.to_thread(tiff_to_pdf, tiff)
        stem = name.rsplit(".", 1)[0]
        _, named_sender, named_recipient = [*stem.split("_"), "", ""][:3]
        return ReceivedFax(
            provider_sid=SID_PREFIX + stem,
            sender=e164(sender if sender is not None else named_sender),
            recipient=e164(recipient if recipient is not None else named_recipient),
            pages=pages,
            received_at=mtime,
            document=pdf,
        )

    def settled(self, since: float | None, now: float) -> list[tuple[float, str]]:
        """(mtime, name) of the TIFFs Asterisk finished writing, received after `since`."""
        found = []
        for path in self.folder.iterdir():
            if not FILE_NAME.fullmatch(path.name):
                continue
            mtime = path.stat().st_mtime
            if now - mtime >= SETTLED_SECONDS and (since is None or mtime > since):
                found.append((mtime, path.name))
        return sorted(found)

    def name_of(self, provider_sid: str) -> str:
        """The file of a received fax's provider sid (FileNotFoundError when none)."""
        stem = provider_sid.removeprefix(SID_PREFIX)
        for suffix in (".tif", ".tiff"):
            name = stem + suffix
            known = provider_sid.startswith(SID_PREFIX) and FILE_NAME.fullmatch(name)
            if known and (self.folder / name).exists():
                return name
        raise FileNotFoundError(provider_sid)

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
