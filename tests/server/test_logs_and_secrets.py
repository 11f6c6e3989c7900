"""Structured logs, and no secret in them or in any API response."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.server.conftest import build, one_page_pdf

pytestmark = pytest.mark.slow
SECRET = "s3cret-value-Qz7"


def test_json_lines_with_the_events_and_no_secret(tmp_path: Path) -> None:
    appliance = build(tmp_path, extra="      api_token: ${env:FAXBOT_TEST_TOKEN}\n")
    appliance.start(env={"FAXBOT_TEST_TOKEN": SECRET})
    bodies: list[str] = []
    try:
        with appliance.client() as client:
            job = client.post(
                "/fax", data={"to": "+12025550143"}, files={"file": ("a.pdf", one_page_pdf())}
            ).json()
            appliance.wait_for(job["id"])
            for path in (
                "/plugins",
                "/plugins/test",
                "/plugins/test/config",
                "/config",
                f"/fax/{job['id']}",
                "/fax",
            ):
                response = client.get(path)
                assert response.status_code == 200, path
                bodies.append(response.text)
            config = client.get("/plugins/test/config").json()
            assert config["slots"]["outbound"]["settings"]["api_token"] == "********"
            # the reference is not a secret: shown as written, with the same path as sources
            assert config["secret_references"] == {
                "providers.outbound.settings.api_token": "${env:FAXBOT_TEST_TOKEN}"
            }
            assert "providers.outbound.settings.api_token" in config["sources"]
    finally:
        appliance.stop()
    lines = appliance.log.read_text().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    events = {e.get("event") for e in entries}
    assert {
        "plugin_started",
        "dispatcher_started",
        "ready",
        "dev_profile",
        "job_queued",
        "job_sent",
        "job_finished",
        "request",
    } <= events
    ready = next(e for e in entries if e.get("event") == "ready")
    assert ready["capabilities"]["outbound"] == [
        "get_status",
        "health_check",
        "ingest_webhook",
        "send",
    ]
    request = next(e for e in entries if e.get("event") == "request")
    assert {"method", "path", "status", "ms", "key_id"} <= set(request)
    everything = "\n".join([*lines, *bodies])
    assert SECRET not in everything
    for token in appliance.tokens.values():
        assert token not in everything


def test_refused_requests_are_logged_with_their_status_and_key(tmp_path: Path) -> None:
    """A mistyped key is a 401 in the log, not a 500 that would page an operator."""
    appliance = build(tmp_path)
    appliance.start()
    try:
        with appliance.client(key="") as anonymous, appliance.client("reader") as reader:
            assert anonymous.get("/fax").status_code == 401
            assert reader.get("/config").status_code == 403
    finally:
        appliance.stop()
    requests = [
        entry
        for entry in map(json.loads, appliance.log.read_text().splitlines())
        if entry.get("event") == "request" and entry["path"] in ("/fax", "/config")
    ]
    assert [(r["path"], r["status"], r["key_id"]) for r in requests] == [
        ("/fax", 401, None),
        ("/config", 403, "reader"),
    ]
