"""A restart in the middle of 200 queued jobs, the process killed with SIGKILL, ends with all
200 SUCCESS and each handed to the transport exactly once (counted in its ledger, the fake
provider's own record)."""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.server.conftest import build, ledger, one_page_pdf

pytestmark = pytest.mark.slow
JOBS = 200


def phases(db: Path) -> Counter[str]:
    with sqlite3.connect(db) as conn:
        return Counter(row[0] for row in conn.execute("select phase from jobs"))


def test_sigkill_mid_dispatch_then_restart(tmp_path: Path) -> None:
    appliance = build(tmp_path, delay=1.5)
    appliance.start()
    document = one_page_pdf()

    def post(i: int) -> str:
        with appliance.client() as client:
            response = client.post(
                "/fax",
                data={"to": "+12025550143"},
                files={"file": ("d.pdf", document)},
                headers={"Idempotency-Key": f"job-{i}"},
            )
            assert response.status_code == 202, response.text
            job_id: str = response.json()["id"]
            return job_id

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(post, range(JOBS)))
    appliance.kill()

    at_kill = phases(appliance.data_dir / "faxbot.sqlite3")
    assert sum(at_kill.values()) == JOBS
    assert at_kill["done"] < JOBS, "the kill came after the work: it tested nothing"
    sent_before = len(ledger(appliance.data_dir))

    appliance.start()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if phases(appliance.data_dir / "faxbot.sqlite3")["done"] == JOBS:
            break
        time.sleep(0.25)
    with appliance.client() as client:
        statuses = Counter(client.get(f"/fax/{job_id}").json()["status"] for job_id in ids)
    appliance.stop()

    assert statuses == {"SUCCESS": JOBS}, (statuses, at_kill)
    sends = Counter(str(entry["job_id"]) for entry in ledger(appliance.data_dir))
    assert set(sends) == set(ids)
    assert max(sends.values()) == 1, [j for j, n in sends.items() if n > 1]
    print(f"at kill: {dict(at_kill)}; sent before the kill: {sent_before}")
