"""A full disk, through a real `faxbot serve`: POST /fax answers 507 `storage_full` (not a
generic 500), keeps nothing of the request (no document without its job, no spill file),
`/health/ready` is false with the reason, and both recover once space is freed. The small
disk is a tmpfs of its own, mounted for the test (root only; skipped, saying so, elsewhere)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import Appliance, build, one_page_pdf

pytestmark = pytest.mark.slow
DISK_BYTES = 24 * 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (root needed): {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> Path:
    """Write a file on `disk` until the disk is full."""
    filler = disk / "filler"
    with filler.open("wb") as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 65536)
            handle.flush()
    return filler


def post(appliance: Appliance, body: bytes) -> httpx.Response:
    with appliance.client() as client:
        return client.post("/fax", data={"to": "+12025550143"}, files={"file": ("doc.pdf", body)})


def documents(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def job_documents(appliance: Appliance) -> set[str]:
    with appliance.client() as client:
        items = client.get("/fax", params={"limit": 200}).json()["items"]
    return {f"{job['id']}.pdf" for job in items}


def ready(appliance: Appliance) -> httpx.Response:
    return httpx.get(f"{appliance.url}/health/ready", timeout=30)


def test_a_full_data_dir_answers_507_keeps_nothing_and_is_not_ready(
    tmp_path: Path, small_disk: Path
) -> None:
    appliance = build(tmp_path / "app", extra=f"appliance:\n  data_dir: {small_disk / 'data'}\n")
    appliance.start()
    try:
        assert post(appliance, one_page_pdf()).status_code == 202
        filler = fill(small_disk)
        big = one_page_pdf() + b"\n%" + b"x" * (3 * 1024 * 1024)  # spilled to incoming/
        for body in (one_page_pdf(), big):
            answer = post(appliance, body)
            assert answer.status_code == 507, answer.text
            assert answer.json()["code"] == "storage_full"
        not_ready = ready(appliance)
        assert not_ready.status_code == 503
        storage = not_ready.json()["checks"]["storage"]
        assert not storage["ok"] and storage["reason"].startswith("storage_full: "), storage
        stored = small_disk / "data" / "documents"
        assert documents(stored) == job_documents(appliance)  # no document without its job
        assert documents(small_disk / "data" / "incoming") == set()
        filler.unlink()
        assert ready(appliance).status_code == 200
        assert post(appliance, one_page_pdf()).status_code == 202
        assert documents(stored) == job_documents(appliance)
    finally:
        appliance.stop()


def test_a_full_database_disk_answers_507_and_keeps_no_document(
    tmp_path: Path, small_disk: Path
) -> None:
    """The issue's case: the database on a full file system, the documents elsewhere: each
    POST stored its document, failed to commit its job, and left the document forever."""
    database = small_disk / "faxbot.sqlite3"
    appliance = build(tmp_path / "app", extra=f"appliance:\n  database_url: sqlite:///{database}\n")
    appliance.start()
    try:
        assert post(appliance, one_page_pdf()).status_code == 202
        fill(small_disk)
        answers = [post(appliance, one_page_pdf()) for _ in range(5)]
        assert [a.status_code for a in answers] == [507] * 5, answers[0].text
        assert {a.json()["code"] for a in answers} == {"storage_full"}
        storage = ready(appliance).json()["checks"]["storage"]
        assert (
            storage
            == {
                "ok": False,
                "reason": storage["reason"],
            }
            and "in the database's folder" in storage["reason"]
        )
        stored = appliance.data_dir / "documents"
        assert documents(stored) == job_documents(appliance)  # the first job's only
    finally:
        appliance.stop()
