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
    assert ready["capabilities"]["outbound"] == ["get_status", "health_check", "send"]
    request = next(e for e in entries if e.get("event") == "request")
    assert {"method", "path", "status", "ms", "key_id"} <= set(request)
    everything = "\n".join([*lines, *bodies])
    assert SECRET not in everything
    for token in appliance.tokens.values():
        assert token not in everything
