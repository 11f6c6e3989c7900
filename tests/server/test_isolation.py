"""Isolation between keys, through a real `faxbot serve` (on SQLite and on a real PostgreSQL
server): a key reads and lists only the jobs it created; another key's job answers 404 as one
that does not exist; fax:read_all (with fax:read) reads every key's."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.postgres_server import new_database
from tests.server.conftest import FAIL_NUMBER, Appliance, build, one_page_pdf
from tests.server.more_keys import Key, add_keys

pytestmark = pytest.mark.slow
TO = "+12025550143"
KEYS = {
    "alice": Key(("fax:send", "fax:read")),
    "bob": Key(("fax:send", "fax:read")),
    "auditor": Key(("fax:read", "fax:read_all")),
    "all-only": Key(("fax:read_all",)),
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def appliance(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Appliance]:
    """One appliance per database for the module: each test lists only the jobs created since
    its own first one (`created_since`)."""
    with contextlib.ExitStack() as stack:
        env: dict[str, str] = {}
        extra = ""
        if request.param == "postgresql":
            url = stack.enter_context(new_database(request.getfixturevalue("postgres_server")))
            extra = "appliance:\n  database_url: ${env:FAXBOT_TEST_DATABASE_URL}\n"
            env["FAXBOT_TEST_DATABASE_URL"] = url.replace("+psycopg", "")
        running = build(tmp_path_factory.mktemp(request.param), delay=0, extra=extra)
        add_keys(running, KEYS)
        running.start(env=env)
        yield running
        running.stop()


def send(client: httpx.Client, to: str = TO) -> str:
    sent = client.post("/fax", data={"to": to}, files={"file": one_page_pdf()})
    assert sent.status_code == 202, sent.text
    job_id: str = sent.json()["id"]
    return job_id


def created_at(client: httpx.Client, job_id: str) -> str:
    at: str = client.get(f"/fax/{job_id}").json()["created_at"]
    return at


def finished(client: httpx.Client, job_id: str) -> None:
    deadline = time.monotonic() + 30
    while client.get(f"/fax/{job_id}").json()["status"] not in ("SUCCESS", "FAILED"):
        assert time.monotonic() < deadline, f"job {job_id} did not finish in 30 s"
        time.sleep(0.05)


def listed(client: httpx.Client, **params: Any) -> list[str]:
    found: list[str] = []
    cursor = None
    while True:
        page = client.get("/fax", params={**params, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        found += [job["id"] for job in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return found


def test_each_key_reads_and_lists_only_its_own_jobs(appliance: Appliance) -> None:
    with appliance.client("alice") as alice, appliance.client("bob") as bob:
        a1, a2 = send(alice), send(alice, FAIL_NUMBER)
        b1 = send(bob)
        a3 = send(alice)
        since = created_at(alice, a1)

        assert listed(alice, created_since=since) == [a3, a2, a1]
        # the cursor stays within alice's jobs
        assert listed(alice, created_since=since, limit=1) == [a3, a2, a1]
        assert listed(bob, created_since=since) == [b1]
        assert listed(bob, created_since=since, limit=1, to=TO) == [b1]
        assert listed(alice, created_since=since, to=FAIL_NUMBER) == [a2]
        assert listed(bob, created_since=since, to=FAIL_NUMBER) == []
        for job_id in (a1, a2, a3):
            finished(alice, job_id)
        assert listed(alice, created_since=since, status="FAILED") == [a2]
        assert listed(alice, created_since=since, status="SUCCESS", limit=1) == [a3, a1]
        assert listed(bob, created_since=since, status="FAILED") == []
        assert set(listed(bob)).isdisjoint({a1, a2, a3})
        assert set(listed(alice)).isdisjoint({b1})
        assert listed(bob, created_until=created_at(bob, b1)) == [j for j in listed(bob) if j != b1]

        assert alice.get(f"/fax/{a1}").status_code == 200
        assert bob.get(f"/fax/{b1}").status_code == 200
        assert alice.get(f"/fax/{b1}").status_code == 404


def test_another_keys_job_answers_as_one_that_does_not_exist(appliance: Appliance) -> None:
    with appliance.client("alice") as alice, appliance.client("bob") as bob:
        theirs = send(bob)
        foreign = alice.get(f"/fax/{theirs}")
        missing = alice.get(f"/fax/{'0' * 32}")
    assert (foreign.status_code, missing.status_code) == (404, 404)
    body, other = foreign.json(), missing.json()
    assert body["code"] == other["code"] == "job_not_found"
    assert body["details"] == {"id": theirs}
    assert body["error"] == other["error"].replace("0" * 32, theirs)
    assert {k for k in body if k != "request_id"} == {k for k in other if k != "request_id"}


def test_read_all_reads_and_lists_every_keys_jobs(appliance: Appliance) -> None:
    with appliance.client("alice") as alice, appliance.client("bob") as bob:
        a1, b1 = send(alice), send(bob, FAIL_NUMBER)
        since = created_at(alice, a1)
    with appliance.client() as admin:
        mine = send(admin)
    with appliance.client("auditor") as auditor:
        assert listed(auditor, created_since=since) == [mine, b1, a1]
        assert listed(auditor, created_since=since, limit=1) == [mine, b1, a1]
        assert listed(auditor, created_since=since, to=FAIL_NUMBER) == [b1]
        assert auditor.get(f"/fax/{a1}").json()["id"] == a1
        assert auditor.get(f"/fax/{b1}").json()["to"] == FAIL_NUMBER
    # fax:read_all widens fax:read; alone it reads nothing.
    with appliance.client("all-only") as only:
        refused = only.get("/fax")
    assert refused.status_code == 403
    assert refused.json()["details"]["required_scope"] == "fax:read"
