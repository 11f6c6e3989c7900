"""The SIP plugin's receiving half, through its public methods: the dialplan's POST with the
inbound token and a TIFF's name becomes a ReceivedFax with the PDF; a wrong token or a name
that is not a plain file name in the spool is refused; delete_copy removes the TIFF."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from faxbot.plugins.contract import Deps, ReceivedFax, WebhookRejected, WebhookRequest
from faxbot_plugin_sip import SipTransport
from fpdf import FPDF
from pypdf import PdfReader

pytestmark = pytest.mark.skipif(shutil.which("gs") is None, reason="scripts/setup installs gs")
TOKEN = "inbound-token-for-tests-0123456789"


def received_tiff(folder: Path, name: str, pages: int) -> None:
    from faxbot_plugin_sip.documents import TiffOptions, pdf_to_tiff

    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        pdf.set_font("helvetica", size=14)
        pdf.cell(text="received")
    source = folder / "source.pdf"
    source.write_bytes(bytes(pdf.output()))
    asyncio.run(pdf_to_tiff(source, folder / name, TiffOptions()))
    source.unlink()


def ingest(tmp_path: Path, fields: dict[str, str], token: str = TOKEN) -> Any:
    async def run() -> Any:
        plugin = SipTransport()
        settings = {**SipTransport.manifest.defaults, "inbound_token": TOKEN}
        await plugin.start(settings, Deps(data_dir=tmp_path, logger=logging.getLogger("sip")))
        try:
            request = WebhookRequest(
                url="http://127.0.0.1/webhooks/sip",
                method="POST",
                headers={"authorization": f"Bearer {token}"},
                body=b"",
                fields=fields,
            )
            events = await plugin.ingest_webhook(request)
            for event in events:
                assert isinstance(event, ReceivedFax)
                await plugin.delete_copy(event.provider_sid)
            return events
        finally:
            await plugin.stop()

    return asyncio.run(run())


def test_a_received_fax_becomes_a_pdf_with_its_numbers(tmp_path: Path) -> None:
    inbound = tmp_path / "sip-spool" / "inbound"
    inbound.mkdir(parents=True)
    received_tiff(inbound, "1700000000.42.tif", pages=2)
    fields = {"file": "1700000000.42.tif", "from": "12025550143", "to": "+12025550100"}
    [fax] = ingest(tmp_path, fields)
    assert (fax.provider_sid, fax.sender, fax.recipient, fax.pages) == (
        "sip-in-1700000000.42",
        "+12025550143",
        "+12025550100",
        2,
    )
    assert len(PdfReader(io.BytesIO(fax.document)).pages) == 2
    assert not (inbound / "1700000000.42.tif").exists()  # delete_copy after storing


def test_a_national_caller_id_is_not_guessed_into_a_country(tmp_path: Path) -> None:
    inbound = tmp_path / "sip-spool" / "inbound"
    inbound.mkdir(parents=True)
    received_tiff(inbound, "a.tif", pages=1)
    [fax] = ingest(tmp_path, {"file": "a.tif", "from": "2025550143", "to": "anonymous"})
    assert (fax.sender, fax.recipient) == (None, None)


@pytest.mark.parametrize(
    ("fields", "token"),
    [
        ({"file": "a.tif"}, "wrong-token-wrong-token-wrong"),
        ({"file": "../../etc/passwd"}, TOKEN),
        ({"file": "/etc/hosts.tif"}, TOKEN),
        ({"file": "missing.tif"}, TOKEN),
    ],
)
def test_forged_or_wrong_calls_are_refused(
    tmp_path: Path, fields: dict[str, str], token: str
) -> None:
    inbound = tmp_path / "sip-spool" / "inbound"
    inbound.mkdir(parents=True)
    received_tiff(inbound, "a.tif", pages=1)
    with pytest.raises(WebhookRejected):
        ingest(tmp_path, fields, token)
    assert (inbound / "a.tif").exists()


def test_a_failed_reception_is_no_fax(tmp_path: Path) -> None:
    assert ingest(tmp_path, {"file": "a.tif", "status": "FAILED"}) == []


def test_settled_tiffs_are_listed_and_served_for_catch_up(tmp_path: Path) -> None:
    inbound = tmp_path / "sip-spool" / "inbound"
    inbound.mkdir(parents=True)
    received_tiff(inbound, "1700000000.7_12025550143_12025550100.tif", pages=2)
    old = time.time() - 600
    os.utime(inbound / "1700000000.7_12025550143_12025550100.tif", (old, old))
    received_tiff(inbound, "1700000001.8_12025550144_12025550100.tif", pages=1)  # being written

    async def run() -> tuple[list[ReceivedFax], list[ReceivedFax], bytes]:
        plugin = SipTransport()
        settings = {**SipTransport.manifest.defaults, "inbound_token": TOKEN}
        await plugin.start(settings, Deps(data_dir=tmp_path, logger=logging.getLogger("sip")))
        try:
            listed = list(await plugin.list_inbound(None))
            later = list(await plugin.list_inbound(old + 1))
            chunks = await plugin.get_inbound_pdf(listed[0].provider_sid)
            return listed, later, b"".join([c async for c in chunks])
        finally:
            await plugin.stop()

    listed, later, pdf = asyncio.run(run())
    [fax] = listed
    assert (fax.provider_sid, fax.sender, fax.recipient, fax.pages) == (
        "sip-in-1700000000.7_12025550143_12025550100",
        "+12025550143",
        "+12025550100",
        2,
    )
    assert later == []
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 2
