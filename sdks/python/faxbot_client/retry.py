"""When to retry a request, how long to wait first, and how often `wait` polls: the SDK retry
policy of sdks/retry-policy.json (emitted into `_generated/retry_policy.py`), shared with the
Node SDK."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from faxbot_client._generated import retry_policy as policy

# A connection that failed or timed out may or may not have reached the appliance; that is
# safe to retry because every POST /fax carries an Idempotency-Key.
RETRY_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
RETRY_STATUSES = policy.RETRY_STATUSES
MAX_RETRIES = policy.MAX_RETRIES
_jitter = random.Random()  # noqa: S311 (spreads out retries; not a secret)


def should_retry(status: int) -> bool:
    """408 and 429 say "try later", and 500, 502, 503 and 504 may pass; other answers (a 4xx,
    501 Not Implemented, 505, ...) would fail again the same way."""
    return status in RETRY_STATUSES


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date (RFC 9110)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an obsolete date form without a zone: GMT by definition
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with equal jitter: retry n waits a random time in [c/2, c] with
    c = min(cap, base * 2**n), so that clients that failed together do not retry together, yet
    each waits at least half the step. A Retry-After is waited instead; one over
    `max_retry_after` is not waited out (the error is raised at once)."""

    base: float = policy.BASE_SECONDS
    cap: float = policy.CAP_SECONDS
    max_retry_after: float = policy.MAX_RETRY_AFTER_SECONDS

    def delay(self, retry: int, asked: float | None = None) -> float:
        if asked is not None:
            return asked
        ceiling = min(self.cap, self.base * 2**retry)
        return _jitter.uniform(ceiling / 2, ceiling)


@dataclass(frozen=True)
class Polling:
    """How `Faxbot.wait` polls: the first interval, then each `multiplier` times the last, up
    to `max_interval` (seconds)."""

    first_interval: float = policy.WAIT_FIRST_INTERVAL_SECONDS
    multiplier: float = policy.WAIT_MULTIPLIER
    max_interval: float = policy.WAIT_MAX_INTERVAL_SECONDS

    def intervals(self) -> Iterator[float]:
        interval = self.first_interval
        while True:
            yield min(interval, self.max_interval)
            interval = min(interval * self.multiplier, self.max_interval)


__all__ = [
    "MAX_RETRIES",
    "RETRY_ERRORS",
    "RETRY_STATUSES",
    "Backoff",
    "Polling",
    "retry_after",
    "should_retry",
]
