"""Rate limits through a real `faxbot serve`: a key over its own limit is answered 429
`rate_limited` with Retry-After, and is served again once it waited; other keys are not
affected; requests without a valid key are limited per client address, and an address over
that limit is answered 429 before any key it presents is checked. The limits in these
artifacts are tiny so that the outcomes do not depend on how fast the machine is."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import Appliance, build
from tests.server.more_keys import Key, add_keys

pytestmark = pytest.mark.slow
KEYS = {
    # one token a minute: after its burst of 2, a third request within the minute is refused
    "slow": Key(("fax:read",), rate_limit=(1, 2)),
    # two tokens a second, one at a time: refused now and then, served again a second later
    "quick": Key(("fax:read",), rate_limit=(120, 1)),
}


@pytest.fixture(scope="module")
def appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    """Shared: each test uses keys of its own."""
    running = build(tmp_path_factory.mktemp("keys"), delay=0)
    add_keys(running, KEYS)
    with running.running():
        yield running


def retry_after(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["code"] == "rate_limited"
    seconds = int(response.headers["Retry-After"])
    assert seconds >= 1
    assert body["details"]["retry_after"] == seconds
    return seconds


def test_a_key_over_its_limit_is_refused_with_retry_after(appliance: Appliance) -> None:
    with appliance.client("slow") as slow, appliance.client("admin") as admin:
        assert [slow.get("/fax").status_code for _ in range(2)] == [200, 200]
        refused = slow.get("/fax")
        assert 1 <= retry_after(refused) <= 60
        assert refused.json()["details"]["key_id"] == "slow"
        assert refused.headers["X-Request-Id"]
        # other keys keep their own buckets; the default (appliance.limits.key_rate_limit) is none
        assert all(admin.get("/fax").status_code == 200 for _ in range(30))
        assert retry_after(slow.get(f"/fax/{'0' * 32}")) >= 1  # every operation counts


def test_a_key_is_served_again_after_waiting_as_told(appliance: Appliance) -> None:
    with appliance.client("quick") as quick:
        for _ in range(100):
            response = quick.get("/fax")
            if response.status_code == 429:
                break
            assert response.status_code == 200
        seconds = retry_after(response)
        time.sleep(seconds)
        assert quick.get("/fax").status_code == 200


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[Appliance]:
    extra = (
        "appliance:\n  limits:\n"
        "    unauthenticated_rate_limit: {requests_per_minute: 1, burst: 3}\n"
    )
    running = build(tmp_path, delay=0, extra=extra)
    with running.running():
        yield running


def test_requests_without_a_valid_key_are_limited_per_address(guarded: Appliance) -> None:
    # requests with a valid key take nothing from the address's allowance
    with guarded.client() as admin:
        assert all(admin.get("/fax").status_code == 200 for _ in range(10))
    with httpx.Client(base_url=guarded.url, timeout=30) as anonymous:
        statuses = [
            anonymous.get("/fax", headers=headers).status_code
            for headers in ({}, {"X-API-Key": "guess-1"}, {"Authorization": "Bearer guess-2"})
        ]
        assert statuses == [401, 401, 401]
        assert retry_after(anonymous.get("/fax", headers={"X-API-Key": "guess-3"})) <= 60
        # Over the limit, the address's keys are not checked at all, not even a valid one:
        # a correct guess would look the same as a wrong one.
        valid = anonymous.get("/fax", headers={"X-API-Key": guarded.tokens["admin"]})
        assert retry_after(valid) >= 1
        assert valid.json()["details"]["limit"] == "unauthenticated"
        # routes that need no key are not limited
        assert anonymous.get("/health/live").status_code == 200
        assert anonymous.get("/health/ready").status_code == 200
