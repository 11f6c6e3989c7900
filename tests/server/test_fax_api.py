"""The fax API against a real `faxbot serve` process on loopback."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from tests.server.conftest import (
    FAIL_NUMBER,
    FAXBOT,
    Appliance,
    build,
    free_port,
    ledger,
    one_page_pdf,
    serve_that_fails,
)

pytestmark = pytest.mark.slow
TO = "+12025550143"


def send(
    client: httpx.Client,
    to: str = TO,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    name: str = "doc.pdf",
) -> httpx.Response:
    return client.post(
        "/fax",
        data={"to": to},
        files={"file": (name, body or one_page_pdf())},
        headers=headers or {},
    )


def jobs_in_db(appliance: Appliance) -> int:
    with sqlite3.connect(appliance.data_dir / "faxbot.sqlite3") as db:
        count: int = db.execute("select count(*) from jobs").fetchone()[0]
        return count


def test_send_reaches_success_and_is_listed(appliance: Appliance) -> None:
    with appliance.client() as client:
        response = send(client)
        assert response.status_code == 202, response.text
        job = response.json()
        assert (job["to"], job["status"], job["pages"], job["backend"]) == (TO, "queued", 1, "test")
        # durable before the 202: the row and the document are on disk already
        assert jobs_in_db(appliance) == 1
        assert (appliance.data_dir / "documents" / f"{job['id']}.pdf").read_bytes()[:5] == b"%PDF-"
        done = appliance.wait_for(job["id"])
        assert done["status"] == "SUCCESS" and done["error"] is None
        assert str(done["provider_sid"]).startswith("test-")
        listed = client.get("/fax").json()
        assert [j["id"] for j in listed["items"]] == [job["id"]]
    assert [e["job_id"] for e in ledger(appliance.data_dir)] == [job["id"]]


def big_pdf(at_least: int) -> bytes:
    """A 2-page PDF of more than `at_least` bytes (an uncompressed, long content stream)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_compression(False)
    pdf.set_font("helvetica", size=8)
    for _ in range(2):
        pdf.add_page()
        for row in range(at_least // 2 // 60 + 1):
            pdf.text(10, 10 + row % 250, f"row {row:08d} " + "x" * 40)
    data = bytes(pdf.output())
    assert len(data) > at_least
    return data


def test_a_document_too_big_to_hold_in_memory_is_spilled_and_stored_whole(
    appliance: Appliance,
) -> None:
    from faxbot.server.uploads import SPOOL_BYTES

    body = big_pdf(SPOOL_BYTES + 500_000)
    with appliance.client() as client:
        response = send(client, body=body)
        assert response.status_code == 202, response.text
        job = response.json()
        assert job["pages"] == 2
        stored = appliance.data_dir / "documents" / f"{job['id']}.pdf"
        assert stored.read_bytes() == body
        assert appliance.wait_for(job["id"])["status"] == "SUCCESS"
    assert list((appliance.data_dir / "incoming").iterdir()) == []  # the spill file moved


def test_text_is_rendered_to_pdf(appliance: Appliance) -> None:
    with appliance.client() as client:
        response = send(client, body=b"Hello from Faxbot\n", name="note.txt")
        assert response.status_code == 202, response.text
        assert response.json()["pages"] == 1


def test_failing_number_ends_failed_with_its_error(appliance: Appliance) -> None:
    with appliance.client() as client:
        job = send(client, to=FAIL_NUMBER).json()
    done = appliance.wait_for(job["id"])
    assert done["status"] == "FAILED"
    assert done["error"] == "test transport: the number is in fail_numbers"


def test_401_without_a_valid_key_and_403_without_the_scope(appliance: Appliance) -> None:
    with appliance.client(key="") as anonymous:
        missing = anonymous.get("/fax")
        wrong = anonymous.get("/fax", headers={"X-API-Key": "fbk_not-a-real-token"})
    assert (missing.status_code, missing.json()["error"]) == (401, "missing API key")
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid or expired API key")
    with appliance.client(key="reader") as reader:
        assert reader.get("/fax").status_code == 200
        forbidden = send(reader)
        assert forbidden.status_code == 403
        assert forbidden.json() == {
            "error": "this API key lacks the scope fax:send",
            "detail": "this API key lacks the scope fax:send",
            "code": "missing_scope",
            "details": {"required_scope": "fax:send", "key_id": "reader"},
            "request_id": forbidden.headers["X-Request-Id"],
        }
        bearer = httpx.get(
            f"{appliance.url}/fax",
            headers={"Authorization": f"Bearer {appliance.tokens['reader']}"},
        )
        assert bearer.status_code == 200
    assert jobs_in_db(appliance) == 0


def test_config_is_read_only(appliance: Appliance) -> None:
    with appliance.client() as client:
        response = client.put("/plugins/test/config", json={"delay_seconds": 0})
        assert response.status_code == 405
        body = response.json()
        assert body["error"].startswith("configuration is read-only")
        assert "config.d" in body["details"]["how"]
        settings = client.get("/plugins/test/config").json()["slots"]["outbound"]["settings"]
        assert settings["delay_seconds"] == 0.2


def _leftovers(appliance: Appliance) -> list[Path]:
    return [
        p for folder in ("incoming", "documents") for p in (appliance.data_dir / folder).glob("*")
    ]


def test_413_leaves_nothing_on_disk(appliance: Appliance) -> None:
    limit = 10 * 1024 * 1024
    with appliance.client() as client:
        # Content-Length far over the limit: refused before the body is read
        announced = send(client, body=b"%PDF-1.4\n" + b"0" * (limit + 200_000))
        assert announced.status_code == 413
        assert "upload limit of 10485760 bytes" in announced.json()["error"]
        # one byte over: the document is refused while streaming, before it is all written
        barely = send(client, body=b"%PDF-1.4\n" + b"0" * (limit - 8))
        assert barely.status_code == 413
        assert barely.json()["error"] == (
            "the document is larger than 10485760 bytes (appliance.limits.upload_max_bytes)"
        )

        def chunked():  # no Content-Length: the limit is enforced while streaming
            yield b'--b\r\nContent-Disposition: form-data; name="to"\r\n\r\n' + TO.encode()
            yield b'\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="x.pdf"'
            yield b"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n"
            for _ in range(11):
                yield b"0" * (1024 * 1024)
            yield b"\r\n--b--\r\n"

        streamed = client.post(
            "/fax", content=chunked(), headers={"Content-Type": "multipart/form-data; boundary=b"}
        )
        assert streamed.status_code == 413
    assert _leftovers(appliance) == []
    assert jobs_in_db(appliance) == 0


def test_415_for_a_binary_that_is_not_a_pdf(appliance: Appliance) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    with appliance.client() as client:
        response = send(client, body=png, name="fake.pdf")
        assert response.status_code == 415
        assert "PNG image" in response.json()["error"]
        wrong_type = client.post("/fax", json={"to": TO})
        assert wrong_type.status_code == 415
    assert _leftovers(appliance) == [] and jobs_in_db(appliance) == 0


@pytest.mark.parametrize("number", ["+1555", "12025550143", "+1 202 555 0143", "", "+15551234567"])
def test_400_for_a_bad_number(appliance: Appliance, number: str) -> None:
    with appliance.client() as client:
        response = send(client, to=number)
    assert response.status_code == 400
    assert "E.164" in response.json()["error"]
    assert jobs_in_db(appliance) == 0


def test_the_same_idempotency_key_twice_gives_one_job(appliance: Appliance) -> None:
    document = one_page_pdf()
    with appliance.client() as client:
        first = send(client, body=document, headers={"Idempotency-Key": "order-17"})
        second = send(client, body=document, headers={"Idempotency-Key": "order-17"})
        other = send(
            client, to="+14155552671", body=document, headers={"Idempotency-Key": "order-17"}
        )
        assert first.status_code == second.status_code == 202
        assert first.json()["id"] == second.json()["id"]
        assert other.status_code == 422
        appliance.wait_for(first.json()["id"])
    assert jobs_in_db(appliance) == 1
    assert len(ledger(appliance.data_dir)) == 1


def test_unknown_ids_and_bad_cursors(appliance: Appliance) -> None:
    with appliance.client() as client:
        assert client.get("/fax/0123").status_code == 404
        assert client.get("/plugins/nope").status_code == 404
        assert client.get("/fax", params={"cursor": "garbage!"}).status_code == 400
        assert client.get("/inbound/0123").status_code == 404
        assert client.get("/inbound", params={"cursor": "garbage!"}).status_code == 400


def test_pagination(appliance: Appliance) -> None:
    with appliance.client() as client:
        ids = [send(client).json()["id"] for _ in range(5)]
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = client.get("/fax", params=params).json()
            seen += [j["id"] for j in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert seen == list(reversed(ids))


def test_config_plugins_registry_and_health(appliance: Appliance) -> None:
    with appliance.client() as client:
        config = client.get("/config").json()
        assert config["fingerprint"].startswith("sha256:") and config["profile"] == "dev"
        plugins = {p["id"]: p for p in client.get("/plugins").json()}
        assert plugins["test"]["slots"] == ["inbound", "outbound"] and plugins["test"]["enabled"]
        assert client.get("/plugins/local").json()["manifest"]["id"] == "local"
        registry = client.get("/plugin-registry").json()
        assert {"test", "local"} <= {p["id"] for p in registry["plugins"]}
    ready = httpx.get(f"{appliance.url}/health/ready").json()
    assert ready["status"] == "ready" and ready["checks"]["database"]["ok"]


def test_refuses_to_start_on_a_bad_artifact(tmp_path: Path) -> None:
    missing = subprocess.run(
        [FAXBOT, "serve", "--artifact", str(tmp_path / "none.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 2
    assert "run `faxbot config compile --out" in missing.stderr
    (tmp_path / "bad.json").write_text("{")
    malformed = subprocess.run(
        [FAXBOT, "serve", "--artifact", str(tmp_path / "bad.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert malformed.returncode == 2 and "not valid JSON" in malformed.stderr


def test_missing_secret_is_named_never_its_value(tmp_path: Path) -> None:
    appliance = build(tmp_path, extra="      api_token: ${env:FAXBOT_TEST_TOKEN}\n")
    result = serve_that_fails(appliance, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 3
    assert "${env:FAXBOT_TEST_TOKEN} is not set" in result.stderr


def test_the_appliance_runs_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    """appliance.database_url names a server database: migrated at start, jobs sent through."""
    running = build(tmp_path, extra="appliance:\n  database_url: ${env:FAXBOT_TEST_DATABASE_URL}\n")
    running.start(env={"FAXBOT_TEST_DATABASE_URL": postgres_url.replace("+psycopg", "")})
    try:
        with running.client() as client:
            response = send(client)
            assert response.status_code == 202, response.text
            job = response.json()
            assert running.wait_for(job["id"])["status"] == "SUCCESS"
            assert [j["id"] for j in client.get("/fax").json()["items"]] == [job["id"]]
            body = one_page_pdf()  # the same bytes twice (fpdf2 stamps the time)
            again = send(client, body=body, headers={"Idempotency-Key": "pg-1"})
            replay = send(client, body=body, headers={"Idempotency-Key": "pg-1"})
            assert (again.status_code, replay.status_code) == (202, 202), replay.text
            assert replay.json()["id"] == again.json()["id"]
    finally:
        running.stop()
    assert not (running.data_dir / "faxbot.sqlite3").exists()  # the server database was used


def test_a_database_that_cannot_be_opened_stops_the_start_naming_the_setting(
    tmp_path: Path,
) -> None:
    """The driver's error, the setting it came from and what to check; no traceback needed."""
    appliance = build(
        tmp_path, extra="appliance:\n  database_url: sqlite:////nonexistent/faxbot/db.sqlite3\n"
    )
    result = serve_that_fails(appliance)
    assert result.returncode == 3
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        "faxbot serve: cannot start: cannot open appliance.database_url (sqlite): "
        "OperationalError: unable to open database file; check that the file's folder exists "
        "and the appliance can write to it"
    )
    assert "/nonexistent" not in result.stderr + result.stdout  # the URL is a secret setting


def test_a_postgresql_password_never_reaches_the_start_error(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    appliance = build(tmp_path, extra="appliance:\n  database_url: ${env:FAXBOT_TEST_DB}\n")
    result = serve_that_fails(
        appliance,
        env={**os.environ, "FAXBOT_TEST_DB": f"postgresql://fax:s3cr3t-pw@127.0.0.1:{port}/fax"},
    )
    assert result.returncode == 3
    assert "faxbot serve: cannot start: cannot open appliance.database_url (postgresql)" in (
        result.stderr
    )
    assert "s3cr3t-pw" not in result.stderr + result.stdout


def test_the_shipped_registry_is_served_from_any_directory(tmp_path: Path) -> None:
    """No --registry and a working directory far from the repository: the registry shipped
    in the package is served (it was a path relative to the working directory)."""
    appliance = build(tmp_path)
    appliance.start(registry=None)
    try:
        with appliance.client() as client:
            answer = client.get("/plugin-registry")
    finally:
        appliance.stop()
    assert answer.status_code == 200, answer.text
    assert answer.json() == json.loads((REPO / "registry" / "plugin-registry.json").read_text())


def test_a_second_appliance_on_the_same_data_dir_is_refused(appliance: Appliance) -> None:
    """It would clear the first one's uploads in progress and, on SQLite, take over its
    hand-overs as if it had crashed: it stops before touching anything, naming the holder."""
    with appliance.client() as client:
        job = send(client).json()
    second = serve_that_fails(appliance, port=free_port())
    assert second.returncode != 0
    last = second.stderr.strip().splitlines()[-1]
    assert "cannot start: another appliance is running on data_dir" in last, second.stderr
    assert appliance.process is not None
    assert str(appliance.process.pid) in last
    assert appliance.wait_for(job["id"])["status"] == "SUCCESS"  # the first one goes on
