"""A database file deleted or replaced while `faxbot serve` runs: readiness says so and
writes are refused (they went on into the deleted inode, 202s included). A restart then
refuses to make a new empty database where data_dir's marker says one existed (it silently
started empty: 8 jobs gone), unless `--new-database` says to."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import Appliance, build, one_page_pdf, serve_that_fails

pytestmark = pytest.mark.slow


def post(appliance: Appliance) -> httpx.Response:
    with appliance.client() as client:
        return client.post(
            "/fax", data={"to": "+12025550143"}, files={"file": ("doc.pdf", one_page_pdf())}
        )


def database_check(appliance: Appliance) -> dict[str, object]:
    answer = httpx.get(f"{appliance.url}/health/ready", timeout=30)
    assert answer.status_code == 503, answer.text
    check: dict[str, object] = answer.json()["checks"]["database"]
    return check


def test_a_deleted_database_is_not_ready_refuses_writes_and_is_not_recreated(
    tmp_path: Path,
) -> None:
    appliance = build(tmp_path)
    appliance.start()
    try:
        assert post(appliance).status_code == 202
        (appliance.data_dir / "faxbot.sqlite3").unlink()
        assert database_check(appliance) == {
            "ok": False,
            "error": "DatabaseReplaced",
            "reason": "the database file was deleted while the appliance ran",
        }
        refused = post(appliance)
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == "database_lost"
    finally:
        appliance.stop()
    again = serve_that_fails(appliance)
    assert again.returncode == 3, again.stderr
    last = again.stderr.strip().splitlines()[-1]
    assert last.startswith(
        (
            "faxbot serve: cannot start: the database file is missing, but ",
            "faxbot serve: cannot start: the database is empty, but ",  # a reader recreated it
        )
    ), last
    assert "database.marker says this appliance had one" in last and "--new-database" in last
    appliance.start(args=("--new-database",))
    try:
        assert post(appliance).status_code == 202
    finally:
        appliance.stop()


def test_a_replaced_database_is_not_ready(tmp_path: Path) -> None:
    appliance = build(tmp_path)
    appliance.start()
    try:
        assert post(appliance).status_code == 202
        database = appliance.data_dir / "faxbot.sqlite3"
        shutil.copy(database, tmp_path / "copy.sqlite3")
        (tmp_path / "copy.sqlite3").replace(database)  # another file under the same name
        assert database_check(appliance)["reason"] == (
            "the database file was replaced while the appliance ran"
        )
        assert post(appliance).json()["code"] == "database_lost"
    finally:
        appliance.stop()


def test_an_emptied_database_is_refused_too(tmp_path: Path) -> None:
    """A database that is there but empty (another file put in its place while stopped, or
    `database_url` changed to a new database)."""
    appliance = build(tmp_path)
    appliance.start()
    appliance.stop()
    database = appliance.data_dir / "faxbot.sqlite3"
    database.unlink()
    database.touch()
    refused = serve_that_fails(appliance)
    assert refused.returncode == 3, refused.stderr
    assert "cannot start: the database is empty, but " in refused.stderr


def test_a_first_start_creates_the_database_and_the_marker(tmp_path: Path) -> None:
    appliance = build(tmp_path)
    appliance.start()
    appliance.stop()
    assert (appliance.data_dir / "database.marker").exists()
    appliance.start()  # the database is there: the marker changes nothing
    appliance.stop()
