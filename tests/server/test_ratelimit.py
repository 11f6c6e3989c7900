"""The token buckets behind the rate limits, on a clock the test moves (the server tests
check the 429s through a real `faxbot serve`)."""

from __future__ import annotations

import asyncio

from faxbot.artifact import RateLimit
from faxbot.server.ratelimit import MAX_BUCKETS, Buckets, RateLimits

TWO_A_SECOND = RateLimit(requests_per_minute=120, burst=3)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_one_request_per_refill() -> None:
    clock = Clock()
    buckets = Buckets(clock)
    assert [buckets.take("k", TWO_A_SECOND) for _ in range(4)] == [0, 0, 0, 1]
    clock.now += 0.5  # one token back
    assert [buckets.take("k", TWO_A_SECOND) for _ in range(2)] == [0, 1]
    clock.now += 60  # never more than the burst
    assert [buckets.take("k", TWO_A_SECOND) for _ in range(4)] == [0, 0, 0, 1]


def test_retry_after_is_the_whole_seconds_until_the_next_token() -> None:
    clock = Clock()
    buckets = Buckets(clock)
    slow = RateLimit(requests_per_minute=1, burst=1)
    assert buckets.take("k", slow) == 0
    assert buckets.take("k", slow) == 60
    clock.now += 59.5
    assert buckets.take("k", slow) == 1
    clock.now += 0.5
    assert buckets.take("k", slow) == 0


def test_buckets_are_per_name_and_bounded() -> None:
    clock = Clock()
    buckets = Buckets(clock)
    one = RateLimit(requests_per_minute=1, burst=1)
    assert buckets.take("a", one) == 0
    assert buckets.take("b", one) == 0
    assert buckets.take("a", one) > 0
    for n in range(MAX_BUCKETS):  # "a" is the least recently used: forgotten, so full again
        buckets.take(f"other-{n}", one)
    assert buckets.take("a", one) == 0


def test_an_address_is_refused_only_after_its_requests_without_a_key() -> None:
    clock = Clock()
    limits = RateLimits(RateLimit(requests_per_minute=1, burst=2), clock)
    assert limits.address_wait("10.0.0.1") == 0
    limits.unauthenticated_request("10.0.0.1")
    assert limits.address_wait("10.0.0.1") == 0
    limits.unauthenticated_request("10.0.0.1")
    assert limits.address_wait("10.0.0.1") == 60
    assert limits.address_wait("10.0.0.2") == 0
    clock.now += 60
    assert limits.address_wait("10.0.0.1") == 0


def test_no_limit_is_no_limit() -> None:
    limits = RateLimits(None, Clock())
    for _ in range(1000):
        limits.unauthenticated_request("10.0.0.1")
        assert asyncio.run(limits.key_request("k", None)) == 0
    assert limits.address_wait("10.0.0.1") == 0
