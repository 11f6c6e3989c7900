"""appliance.retention through a real `faxbot serve`: the sweep deletes the documents and rows
past their days, and nothing else (a fax still in progress, what a null setting keeps).
Days are fractions here: 0.0000116 days is about a second."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from tests.server.conftest import Appliance
from tests.server.receiving import post, received, receiving, status
from tests.server.test_webhooks import handed_over, send

SECOND = 0.0000116  # days


def eventually(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("not within the time")
        time.sleep(0.1)


def documents(appliance: Appliance) -> set[str]:
    folder = appliance.data_dir / "documents"
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def retention(**days: float | None) -> str:
    lines = "".join(f"    {k}: {'null' if v is None else v}\n" for k, v in days.items())
    return f"  retention:\n{lines}    sweep_seconds: 0.2\n"


def test_documents_past_their_days_go_and_their_rows_stay(tmp_path: Path) -> None:
    appliance = receiving(
        tmp_path,
        delay=3000,  # only a webhook ends a fax here
        appliance_extra=retention(outbound_document_days=SECOND, inbound_document_days=SECOND),
    )
    with appliance.running():
        ended = handed_over(appliance, send(appliance)["id"])
        pending = handed_over(appliance, send(appliance)["id"])
        post(appliance, [status(str(ended["provider_sid"]), "SUCCESS", "e-1")])
        post(appliance, [received("rx-1", b"%PDF-1.4 received")])
        eventually(lambda: f"{ended['id']}.pdf" not in documents(appliance))
        with appliance.client("all") as reader:
            (fax,) = reader.get("/inbound").json()["items"]
            eventually(lambda: reader.get(f"/inbound/{fax['id']}/pdf").status_code == 410)
            assert reader.get(f"/inbound/{fax['id']}").json()["document_deleted"] is True
        with appliance.client() as client:
            assert client.get(f"/fax/{ended['id']}").json()["status"] == "SUCCESS"  # row kept
            assert client.get(f"/fax/{pending['id']}").json()["status"] == "in_progress"
        assert documents(appliance) == {f"{pending['id']}.pdf"}  # in progress: kept


def test_rows_past_their_days_go_with_their_documents(tmp_path: Path) -> None:
    appliance = receiving(
        tmp_path,
        delay=3000,
        appliance_extra=retention(job_row_days=SECOND, inbound_row_days=SECOND),
    )
    with appliance.running():
        ended = handed_over(appliance, send(appliance)["id"])
        pending = handed_over(appliance, send(appliance)["id"])
        post(appliance, [status(str(ended["provider_sid"]), "FAILED", "e-1")])
        post(appliance, [received("rx-1", b"%PDF-1.4 received")])
        with appliance.client() as client:
            eventually(lambda: client.get(f"/fax/{ended['id']}").status_code == 404)
            assert client.get(f"/fax/{pending['id']}").status_code == 200
        with appliance.client("all") as reader:
            eventually(lambda: reader.get("/inbound").json()["items"] == [])
        assert documents(appliance) == {f"{pending['id']}.pdf"}


def test_without_retention_everything_is_kept(tmp_path: Path) -> None:
    appliance = receiving(tmp_path, delay=0, appliance_extra=retention())
    with appliance.running():
        job = send(appliance)
        appliance.wait_for(str(job["id"]))
        post(appliance, [received("rx-1", b"%PDF-1.4 received")])
        time.sleep(1.0)  # several sweeps
        assert len(documents(appliance)) == 2
