"""API keys' rate-limit buckets in PostgreSQL (the rate_buckets table, migration 0005), so that
replicas behind one balancer share each key's limit instead of granting it once each.

A request is one statement: INSERT ... ON CONFLICT DO UPDATE ... RETURNING refills the key's
bucket for the time since its last request, takes a token if there is one, and says whether it
did, under the row's lock, so two replicas never both take the last token. Time is the
database server's clock (one clock for the fleet, whatever the replicas' own say).

The statement runs on a pooled reader connection with `synchronous_commit = off`, not through
the writer: a bucket needs no fsync (a server crash forgets the last fraction of a second of
counts, a burst more at worst), and a request should not wait for the jobs' group commit. With
the writer a take cost 8 ms on an idle server, one commit's fsync (bench/shared_ratelimit_bench.py).

SQLite keeps the buckets in memory (faxbot.server.ratelimit): one process has them all."""

from __future__ import annotations

import asyncio
import hashlib
import math

from faxbot.artifact import RateLimit
from faxbot.store.database import Database

# The same token-bucket arithmetic as faxbot.server.ratelimit.Buckets, in SQL: refilled =
# min(burst, tokens + elapsed * rate); a token is taken when refilled >= 1.
_REFILLED = "LEAST(%(burst)s, b.tokens + GREATEST(0, EXCLUDED.at - b.at) * %(rate)s)"
TAKE = f"""
INSERT INTO rate_buckets AS b (name, tokens, at, taken)
VALUES (%(name)s, %(burst)s - 1, EXTRACT(EPOCH FROM clock_timestamp()), true)
ON CONFLICT (name) DO UPDATE SET
    tokens = CASE WHEN {_REFILLED} >= 1 THEN {_REFILLED} - 1 ELSE {_REFILLED} END,
    taken = {_REFILLED} >= 1,
    at = EXCLUDED.at
RETURNING tokens, taken
"""  # noqa: S608 (no value is formatted in: only the expression above)
NO_FSYNC = "SET synchronous_commit = off"  # this session's commits: readers write nothing else
MAX_NAME = 80  # rate_buckets.name


def bucket_name(key_id: str) -> str:
    """The row of `key_id`'s bucket: the id itself when it fits (config.d ids always do), else
    its digest (an auth plugin's ids may be longer)."""
    name = f"key:{key_id}"
    return (
        name
        if len(name) <= MAX_NAME
        else "key-sha256:" + hashlib.sha256(key_id.encode()).hexdigest()
    )


class SharedKeyBuckets:
    """The API keys' buckets of every replica on one PostgreSQL database."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def take(self, key_id: str, limit: RateLimit) -> int:
        """Take a token for a request of `key_id`: 0 when it may go on, else the seconds until
        its next token (nothing is taken then)."""
        params = {
            "name": bucket_name(key_id),
            "burst": float(limit.burst),
            "rate": limit.requests_per_minute / 60,
        }

        def run() -> tuple[float, bool]:
            with self._database.reading() as cursor:  # autocommit: the statement commits
                cursor.execute(NO_FSYNC)
                cursor.execute(TAKE, params)
                tokens, taken = cursor.fetchone()
            return float(tokens), bool(taken)

        tokens, taken = await asyncio.to_thread(run)
        if taken:
            return 0
        return max(1, math.ceil((1 - tokens) * 60 / limit.requests_per_minute))
