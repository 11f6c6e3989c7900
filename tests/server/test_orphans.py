"""Documents no job refers to, left by a crash between storing a document and committing its
job (or by any failed POST of an older release), are deleted by the sweep `faxbot serve`
runs at start (and every hour): once they are older than the grace period, and only those."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.server.conftest import build, one_page_pdf

pytestmark = pytest.mark.slow
HOURS_AGO = time.time() - 2 * 3600


def test_the_start_deletes_old_documents_without_a_job(tmp_path: Path) -> None:
    appliance = build(tmp_path)
    appliance.start()
    with appliance.client() as client:
        job = client.post(
            "/fax", data={"to": "+12025550143"}, files={"file": ("a.pdf", one_page_pdf())}
        ).json()
    appliance.wait_for(job["id"])
    appliance.stop()
    documents = appliance.data_dir / "documents"
    left = {"old": "a" * 32 + ".pdf", "young": "b" * 32 + ".pdf", "other": "notes.pdf"}
    for name in left.values():
        (documents / name).write_bytes(one_page_pdf())
    for name in (left["old"], left["other"], f"{job['id']}.pdf"):
        os.utime(documents / name, (HOURS_AGO, HOURS_AGO))
    appliance.start()
    try:
        deadline = time.monotonic() + 30
        while (documents / left["old"]).exists():
            assert time.monotonic() < deadline, "the old orphan was not swept"
            time.sleep(0.05)
    finally:
        appliance.stop()
    remaining = {p.name for p in documents.iterdir()}
    assert remaining == {f"{job['id']}.pdf", left["young"], left["other"]}
    logged = [json.loads(line) for line in appliance.log.read_text().splitlines()]
    swept = [e for e in logged if e.get("event") == "orphans_deleted"]
    assert [e["count"] for e in swept] == [1]
