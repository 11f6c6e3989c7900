"""The appliance serves its own spec to any API key (the committed docs/openapi.json, byte
for byte, and no HTML page that loads code from a CDN), and the legacy GET /health of Faxbot
v2, against a real `faxbot serve` on loopback."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from faxbot.server.routes.system import LegacyCalls

from tests.conftest import REPO
from tests.server.conftest import Appliance, build

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    running = build(tmp_path_factory.mktemp("spec"))
    with running.running():
        yield running


def test_the_spec_is_the_committed_file_for_any_key(appliance: Appliance) -> None:
    refused = httpx.get(f"{appliance.url}/openapi.json")  # no API key
    assert (refused.status_code, refused.json()["code"]) == (401, "missing_api_key")
    with appliance.client("reader") as client:  # a key with no scope beyond fax:read
        response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.content == (REPO / "docs" / "openapi.json").read_bytes()
    assert "/openapi.json" not in response.json()["paths"]


@pytest.mark.parametrize(
    "path",
    [
        "/schema",
        "/schema/swagger",
        "/schema/redoc",
        "/schema/elements",
        "/schema/rapidoc",
        "/schema/openapi.json",
        "/openapi",
        "/openapi/swagger",
        "/openapi/openapi.json",
    ],
)
def test_there_are_no_schema_pages(appliance: Appliance, path: str) -> None:
    """Litestar's schema pages load their scripts from a CDN; they are off."""
    with appliance.client() as client:
        response = client.get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "<script" not in response.text


def test_the_legacy_health_check_answers_and_is_logged_as_deprecated(
    appliance: Appliance,
) -> None:
    for _ in range(2):
        response = httpx.get(f"{appliance.url}/health")  # v2's check_health sends no key
        assert (response.status_code, response.json()) == (200, {"status": "ok"})
        assert response.headers["X-Request-Id"]
    lines = [json.loads(line) for line in appliance.log.read_text().splitlines()]
    deprecated = [e for e in lines if e.get("event") == "deprecated_route"]
    assert deprecated, "no deprecated_route line"
    assert deprecated[0]["level"] == "warning"
    assert (deprecated[0]["path"], deprecated[0]["replacement"]) == ("/health", "/health/live")
    assert deprecated[0]["calls"] == 1
    spec = json.loads((REPO / "docs" / "openapi.json").read_text())
    assert "/health" not in spec["paths"]  # so no SDK grows a method for it


def test_a_polled_legacy_route_is_logged_at_most_once_a_minute_with_its_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [1000.0]
    logger = logging.getLogger("legacy-calls-test")  # not under faxbot, which may not propagate
    calls = LegacyCalls(logger, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger=logger.name):
        for at in (1000.0, 1001.0, 1059.0, 1060.0, 1061.0, 1200.0):
            now[0] = at
            calls.called("/health", "/health/live")
    counts = [getattr(r, "calls", None) for r in caplog.records]
    assert counts == [1, 3, 2]  # at 1000; at 1060 (1001, 1059, 1060); at 1200 (1061, 1200)
