"""API timestamps: ISO 8601, UTC, milliseconds, `Z`; the same text datetime.isoformat gives."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from faxbot.server.auth import utc_iso


def _reference(epoch: float) -> str:
    at = datetime.fromtimestamp(epoch, UTC)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("epoch", "text"),
    [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (1795320787.8869, "2026-11-22T04:13:07.886Z"),
        (1709208000.9999996, "2024-02-29T12:00:01.000Z"),  # rounds up into the next second
        (4102444799.999, "2099-12-31T23:59:59.999Z"),
    ],
)
def test_known_instants(epoch: float, text: str) -> None:
    assert utc_iso(epoch) == text == _reference(epoch)


def test_agrees_with_isoformat_on_many_instants() -> None:
    draw = random.Random(20261122)
    for _ in range(20_000):
        epoch = draw.uniform(0, 4.1e9)
        assert utc_iso(epoch) == _reference(epoch), epoch
