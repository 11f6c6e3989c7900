"""The test transport: an outbound plugin that sends nothing. A fax succeeds `delay_seconds`
after hand-over, or fails when its number is in `fail_numbers`.

It keeps no state: the provider sid carries the hand-over time and the outcome, so a status
check after an appliance restart gives the same answer as before it."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from faxbot.plugins.contract import (
    Deps,
    FaxStatus,
    Health,
    Manifest,
    OutboundFax,
    Plugin,
    SendReceipt,
    StatusUpdate,
    TransportError,
    load_manifest,
)

FAILED_MESSAGE = "test transport: the number is in fail_numbers"


class TestTransport(Plugin):
    __test__ = False  # not a pytest test class
    manifest: ClassVar[Manifest] = load_manifest(__name__)

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._delay = 1.0
        self._fail_numbers: frozenset[str] = frozenset()

    async def start(self, settings: Mapping[str, Any], deps: Deps) -> None:
        self._delay = float(settings["delay_seconds"])
        self._fail_numbers = frozenset(settings["fail_numbers"])

    async def send(self, fax: OutboundFax) -> SendReceipt:
        outcome = "F" if fax.to in self._fail_numbers else "S"
        handed_over_ms = int(self._clock() * 1000)
        return SendReceipt(provider_sid=f"test-{handed_over_ms}-{outcome}-{fax.job_id}")

    async def get_status(self, provider_sid: str) -> StatusUpdate:
        try:
            _, handed_over_ms, outcome, _job = provider_sid.split("-", 3)
            started = int(handed_over_ms) / 1000
        except ValueError:
            raise TransportError(
                f"not a test transport sid: {provider_sid!r}", retryable=False
            ) from None
        if self._clock() - started < self._delay:
            return StatusUpdate(FaxStatus.IN_PROGRESS)
        if outcome == "F":
            return StatusUpdate(FaxStatus.FAILED, error=FAILED_MESSAGE)
        return StatusUpdate(FaxStatus.SUCCESS)

    async def health(self) -> Health:
        return Health(ok=True, detail="test transport: nothing to reach")
