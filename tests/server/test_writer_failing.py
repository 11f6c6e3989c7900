"""The database refusing writes while reads still work (another program holds SQLite's write
lock): a POST is refused with its own code and nothing is kept, readiness says the database
refuses writes, and both recover once a write goes through again. It answered a generic 500
and stayed ready."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from tests.server.conftest import Appliance, build, one_page_pdf


def post(appliance: Appliance) -> httpx.Response:
    with appliance.client() as client:
        return client.post(
            "/fax", data={"to": "+12025550143"}, files={"file": ("doc.pdf", one_page_pdf())}
        )


def ready(appliance: Appliance) -> httpx.Response:
    return httpx.get(f"{appliance.url}/health/ready", timeout=30)


def documents(appliance: Appliance) -> list[Path]:
    return sorted((appliance.data_dir / "documents").glob("*"))


def test_a_database_that_refuses_writes_is_not_ready_and_refuses_the_post(
    tmp_path: Path,
) -> None:
    appliance = build(tmp_path)
    with appliance.running():
        assert post(appliance).status_code == 202
        stored = documents(appliance)
        locker = sqlite3.connect(appliance.data_dir / "faxbot.sqlite3", isolation_level=None)
        try:
            locker.execute("BEGIN IMMEDIATE")  # the write lock, as a backup script might take
            refused = post(appliance)
            assert refused.status_code == 503, refused.text
            body = refused.json()
            assert body["code"] == "database_unavailable"
            assert "OperationalError" in body["detail"]
            assert refused.headers["Retry-After"] == "5"
            assert documents(appliance) == stored  # the refused fax's document is gone again
            answer = ready(appliance)
            assert answer.status_code == 503, answer.text
            assert answer.json()["checks"]["database"] == {
                "ok": False,
                "error": "OperationalError",
                "reason": "the database refuses writes",
            }
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        assert post(appliance).status_code == 202
        assert ready(appliance).status_code == 200
