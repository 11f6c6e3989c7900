"""When to retry a request and how long to wait first."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

# A connection that failed or timed out may or may not have reached the appliance; that is
# safe to retry because every POST /fax carries an Idempotency-Key.
RETRY_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_jitter = random.Random()  # noqa: S311 (spreads out retries; not a secret)


def should_retry(status: int) -> bool:
    """408 and 429 say "try later"; a 5xx may pass. Other 4xx would fail again the same way."""
    return status in (408, 429) or status >= 500


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
    """Exponential backoff with full jitter: retry n waits a random time in
    [0, min(cap, base * 2**n)], so clients that failed together do not retry together."""

    base: float = 0.5
    cap: float = 8.0
    max_retry_after: float = 60.0  # a longer Retry-After is not waited out: the error is raised

    def delay(self, retry: int, asked: float | None = None) -> float:
        if asked is not None:
            return asked
        return _jitter.uniform(0, min(self.cap, self.base * 2**retry))


__all__ = ["RETRY_ERRORS", "Backoff", "retry_after", "should_retry"]
