"""GET /fax's filters (status, to, created_since, created_until) with limit and cursor, against
a real `faxbot serve` on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import FAIL_NUMBER, Appliance, build, one_page_pdf

pytestmark = pytest.mark.slow
TO = "+12025550143"
OTHER = "+14155552671"


@pytest.fixture(params=["sqlite", "postgresql"])
def appliance(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Appliance]:
    if request.param == "sqlite":
        running = build(tmp_path, delay=0)
        running.start()
    else:
        url: str = request.getfixturevalue("postgres_url")
        extra = "appliance:\n  database_url: ${env:FAXBOT_TEST_DATABASE_URL}\n"
        running = build(tmp_path, delay=0, extra=extra)
        running.start(env={"FAXBOT_TEST_DATABASE_URL": url.replace("+psycopg", "")})
    yield running
    running.stop()


def ids(client: httpx.Client, **params: Any) -> list[str]:
    response = client.get("/fax", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_cursor"] is None
    return [job["id"] for job in body["items"]]


def refused(client: httpx.Client, code: str, **params: Any) -> dict[str, Any]:
    response = client.get("/fax", params=params)
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


def test_filters_combine_with_each_other_and_with_the_cursor(appliance: Appliance) -> None:
    with appliance.client() as client:
        jobs = []
        for number in (TO, FAIL_NUMBER, TO, OTHER):
            sent = client.post("/fax", data={"to": number}, files={"file": one_page_pdf()})
            assert sent.status_code == 202, sent.text
            jobs.append(appliance.wait_for(sent.json()["id"]))
        j0, j1, j2, j3 = (str(job["id"]) for job in jobs)
        at = [str(job["created_at"]) for job in jobs]

        assert ids(client) == [j3, j2, j1, j0]
        assert ids(client, status="FAILED") == [j1]
        assert ids(client, status="SUCCESS") == [j3, j2, j0]
        assert ids(client, status="queued") == []
        assert ids(client, to=OTHER) == [j3]
        assert ids(client, to=TO) == [j2, j0]
        assert ids(client, created_since=at[1]) == [j3, j2, j1]  # inclusive
        assert ids(client, created_until=at[2]) == [j1, j0]  # exclusive
        assert ids(client, created_since=at[1], created_until=at[3]) == [j2, j1]
        assert ids(client, to=TO, created_since=at[1]) == [j2]
        assert ids(client, status="SUCCESS", created_until=at[3]) == [j2, j0]
        offset = at[1].replace("Z", "+00:00")  # any RFC 3339 offset
        assert ids(client, created_since=offset) == [j3, j2, j1]

        # a filtered list, a page at a time: the cursor continues the same query
        filtered = {"to": TO, "limit": 1}
        first = client.get("/fax", params=filtered).json()
        assert [j["id"] for j in first["items"]] == [j2]
        cursor = first["next_cursor"]
        second = client.get("/fax", params={**filtered, "cursor": cursor}).json()
        assert ([j["id"] for j in second["items"]], second["next_cursor"]) == ([j0], None)

        # ... and no other one: it would skip or repeat jobs
        for other in ({"limit": 1}, {"to": OTHER, "limit": 1}, {**filtered, "status": "FAILED"}):
            body = refused(client, "invalid_cursor", cursor=cursor, **other)
            assert "other filters" in body["error"]
        unfiltered = client.get("/fax", params={"limit": 1}).json()["next_cursor"]
        refused(client, "invalid_cursor", cursor=unfiltered, to=TO)
        assert client.get("/fax", params={"limit": 1, "cursor": unfiltered}).status_code == 200


def test_a_bad_filter_value_is_a_400_naming_the_parameter(appliance: Appliance) -> None:
    with appliance.client() as client:
        status = refused(client, "invalid_request", status="DONE")
        assert "`status`" in status["error"]
        number = refused(client, "invalid_number", to="+1555")
        assert number["details"]["field"] == "to"
        for bad in ("yesterday", "2026-13-01T00:00:00Z"):
            assert (
                "`created_since`" in refused(client, "invalid_request", created_since=bad)["error"]
            )
        naive = refused(client, "invalid_request", created_until="2026-01-31T12:00:00")
        assert naive["details"]["field"] == "created_until"
        assert "time zone" in naive["error"]
