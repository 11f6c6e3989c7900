"""Rate limits: a token bucket per API key, and one per client address for requests without a
valid key. In memory, per appliance process: a restart forgets them, and several appliances
behind one balancer (issue 16, scale-out) each count on their own; that needs a shared store.

A bucket holds up to `burst` tokens and gains `requests_per_minute / 60` a second; a request
takes one, and when none is left it is answered 429 with the seconds until the next token."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from faxbot.artifact import RateLimit

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

    def address_wait(self, address: str) -> int:
        """Seconds until `address` may present a key again after too many without a valid one."""
        if self.unauthenticated is None:
            return 0
        return self._addresses.wait(address, self.unauthenticated)

    def unauthenticated_request(self, address: str) -> None:
        """Count a request from `address` that had no valid key."""
        if self.unauthenticated is not None:
            self._addresses.take(address, self.unauthenticated)

    def key_request(self, key_id: str, limit: RateLimit | None) -> int:
        """Count a request of the key `key_id`: 0 when it may go on, else the seconds to wait."""
        return 0 if limit is None else self._keys.take(key_id, limit)
