"""Rate limits: a token bucket per API key, and one per client address for requests without a
valid key. In memory, per appliance process (a restart forgets them), except the keys' buckets
on PostgreSQL: replicas behind one balancer share those in the database
(faxbot.store.ratelimits), so a key gets its limit once across the fleet, not once per replica.
The addresses' buckets stay per replica: they only slow down floods of bad keys, which cannot
guess a 32-byte token at any rate, and sharing them would cost every request a second
database statement (docs/decisions.md, "Rate limits shared by replicas").

A bucket holds up to `burst` tokens and gains `requests_per_minute / 60` a second; a request
takes one, and when none is left it is answered 429 with the seconds until the next token."""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from faxbot.artifact import RateLimit

log = logging.getLogger("faxbot.server")
MAX_BUCKETS = 10_000  # buckets kept per kind; the least recently used go first


@dataclass
class _Bucket:
    tokens: float
    at: float


class Buckets:
    """The token buckets of one kind (keys, or addresses), by name, all with one limit or each
    with its own."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._clock = clock

    def _refilled(self, name: str, limit: RateLimit) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.get(name)
        if bucket is None:
            bucket = self._buckets[name] = _Bucket(float(limit.burst), now)
            if len(self._buckets) > MAX_BUCKETS:
                # A forgotten bucket starts full again: at most a burst more for the oldest.
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(name)
            rate = limit.requests_per_minute / 60
            bucket.tokens = min(float(limit.burst), bucket.tokens + (now - bucket.at) * rate)
            bucket.at = now
        return bucket

    def wait(self, name: str, limit: RateLimit) -> int:
        """Seconds until `name` may make a request (0: now), taking nothing."""
        if name not in self._buckets:  # full: not worth a bucket until something is taken
            return 0
        bucket = self._refilled(name, limit)
        if bucket.tokens >= 1:
            return 0
        return max(1, math.ceil((1 - bucket.tokens) * 60 / limit.requests_per_minute))

    def take(self, name: str, limit: RateLimit) -> int:
        """Take a token for `name`'s request: 0 when it may go on, else the seconds to wait
        (and nothing is taken)."""
        bucket = self._refilled(name, limit)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0
        return self.wait(name, limit)


class SharedBuckets(Protocol):
    """Buckets of keys shared by the replicas (faxbot.store.ratelimits.SharedKeyBuckets)."""

    async def take(self, key_id: str, limit: RateLimit) -> int: ...


class RateLimits:
    """The appliance's limits: each key's own (or the appliance default for keys), and the one
    for requests without a valid key, per client address."""

    def __init__(
        self,
        unauthenticated: RateLimit | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.unauthenticated = unauthenticated
        self._keys = Buckets(clock)
        self._addresses = Buckets(clock)
        self._shared: SharedBuckets | None = None
        self._shared_failing = False

    def share(self, buckets: SharedBuckets | None) -> None:
        """Count keys' requests in `buckets` (the replicas' shared store) from now on; None:
        in memory again (the appliance stopped)."""
        self._shared = buckets

    def address_wait(self, address: str) -> int:
        """Seconds until `address` may present a key again after too many without a valid one."""
        if self.unauthenticated is None:
            return 0
        return self._addresses.wait(address, self.unauthenticated)

    def unauthenticated_request(self, address: str) -> None:
        """Count a request from `address` that had no valid key."""
        if self.unauthenticated is not None:
            self._addresses.take(address, self.unauthenticated)

    async def key_request(self, key_id: str, limit: RateLimit | None) -> int:
        """Count a request of the key `key_id`: 0 when it may go on, else the seconds to wait."""
        if limit is None:
            return 0
        if self._shared is not None:
            try:
                wait = await self._shared.take(key_id, limit)
            except Exception as exc:
                # The database refuses writes: readiness says so, and the request itself may
                # well fail for the same reason. Counted here meanwhile: this replica's share.
                if not self._shared_failing:  # one line per outage, not one per request
                    self._shared_failing = True
                    log.warning(
                        "shared rate limits unavailable: counted per replica until the "
                        "database answers again",
                        extra={"event": "rate_limits_local", "error": type(exc).__name__},
                    )
            else:
                self._shared_failing = False
                return wait
        return self._keys.take(key_id, limit)
