"""Document links (Deps.document_links) through a real `faxbot serve`: the test transport,
like a provider that fetches the document itself, gets a link per send; the link serves the
document once, byte-identical, and then answers 404 like a link that never existed."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.server.conftest import build, free_port, ledger, one_page_pdf


def test_a_link_serves_its_document_once(tmp_path: Path) -> None:
    port = free_port()
    appliance = build(
        tmp_path,
        port=port,
        extra="      document_link_seconds: 600\n",
        fragments={"05-public-url.yaml": f"appliance:\n  public_url: http://127.0.0.1:{port}\n"},
    )
    document = one_page_pdf()
    with appliance.running():
        with appliance.client() as client:
            response = client.post(
                "/fax", data={"to": "+12025550143"}, files={"file": ("d.pdf", document)}
            )
            job_id = response.json()["id"]
        appliance.wait_for(job_id)
        (entry,) = ledger(appliance.data_dir)
        url = str(entry["content_url"])
        assert url.startswith(f"http://127.0.0.1:{port}/documents/")
        first = httpx.get(url)
        assert first.status_code == 200
        assert first.headers["content-type"] == "application/pdf"
        assert first.content == document
        again = httpx.get(url)
        assert again.status_code == 404
        assert again.json()["code"] == "document_link_not_found"
        never = httpx.get(f"http://127.0.0.1:{port}/documents/not-a-token")
        assert never.status_code == 404 and never.json()["code"] == again.json()["code"]


def test_an_expired_link_serves_nothing(tmp_path: Path) -> None:
    port = free_port()
    appliance = build(
        tmp_path,
        port=port,
        extra="      document_link_seconds: 1\n",
        fragments={"05-public-url.yaml": f"appliance:\n  public_url: http://127.0.0.1:{port}\n"},
    )
    with appliance.running():
        with appliance.client() as client:
            response = client.post(
                "/fax", data={"to": "+12025550143"}, files={"file": ("d.pdf", one_page_pdf())}
            )
        appliance.wait_for(response.json()["id"])
        (entry,) = ledger(appliance.data_dir)
        expires = time.time() + 1.5
        while time.time() < expires:
            time.sleep(0.1)
        assert httpx.get(str(entry["content_url"])).status_code == 404


def test_without_public_url_no_link_is_given(tmp_path: Path) -> None:
    appliance = build(tmp_path, extra="      document_link_seconds: 600\n")
    with appliance.running():
        with appliance.client() as client:
            response = client.post(
                "/fax", data={"to": "+12025550143"}, files={"file": ("d.pdf", one_page_pdf())}
            )
        appliance.wait_for(response.json()["id"])
        (entry,) = ledger(appliance.data_dir)
        assert "content_url" not in entry
