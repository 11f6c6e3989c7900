"""The keys' rate-limit buckets in PostgreSQL (faxbot.store.ratelimits) on a real server: the
burst, the wait until the next token, the refill, and that concurrent takes through two
replicas' connections never grant more than the bucket holds."""

from __future__ import annotations

import asyncio
import time

from faxbot.artifact import RateLimit
from faxbot.store.database import Database, migrate
from faxbot.store.ratelimits import SharedKeyBuckets, bucket_name


def test_a_bucket_grants_its_burst_then_refills(postgres_database: Database) -> None:
    migrate(postgres_database)
    limit = RateLimit(requests_per_minute=120, burst=3)  # a token every half second

    async def scenario() -> tuple[list[int], int]:
        buckets = SharedKeyBuckets(postgres_database)
        first = [await buckets.take("alice", limit) for _ in range(4)]
        first.append(await buckets.take("bob", limit))  # a bucket per key
        await asyncio.sleep(0.6)
        return first, await buckets.take("alice", limit)

    first, later = asyncio.run(scenario())
    assert first == [0, 0, 0, 1, 0]  # the fourth waits for the next token (0.5 s: 1 s)
    assert later == 0


def test_concurrent_takes_by_two_replicas_grant_only_the_burst(
    postgres_database: Database, postgres_url: str
) -> None:
    migrate(postgres_database)
    limit = RateLimit(requests_per_minute=1, burst=10)

    other = Database(postgres_url)  # the second replica's own connections

    async def scenario() -> list[int]:
        replicas = [SharedKeyBuckets(postgres_database), SharedKeyBuckets(other)]
        return await asyncio.gather(*(replicas[i % 2].take("shared", limit) for i in range(40)))

    began = time.monotonic()
    try:
        waits = asyncio.run(scenario())
    finally:
        other.close()
    assert waits.count(0) == 10
    assert all(1 <= wait <= 60 for wait in waits if wait)
    assert time.monotonic() - began < 30


def test_a_long_key_id_gets_a_bucket_name_that_fits() -> None:
    assert bucket_name("ops") == "key:ops"
    long = bucket_name("x" * 200)
    assert len(long) <= 80
    assert long != bucket_name("x" * 201)
