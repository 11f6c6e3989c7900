"""Fixtures of the replica tests: the storage the replicas share, and two replicas on a fresh
PostgreSQL database (fleet.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.replicas.fleet import Fleet, SharedStorage, fleet


@pytest.fixture
def shared_storage(tmp_path: Path) -> SharedStorage:
    """Local storage in one folder the replicas share (tmp_path/shared/documents, which each
    replica's data_dir, tmp_path/<name>/data, reaches as ../../shared/documents), and the
    ledger beside it. The s3 plugin on the moto server (tests/s3_server.py) was tried here:
    under 16 concurrent POSTs across two replicas its uploads stalled for minutes."""
    shared = tmp_path / "shared"
    shared.mkdir()
    fragment = (
        "providers:\n"
        "  storage:\n"
        "    plugin: local\n"
        "    version: 0.2.0\n"
        "    settings:\n"
        "      directory: ../../shared/documents\n"
    )
    return SharedStorage(fragment, shared / "ledger.jsonl")


@pytest.fixture
def replicas(
    tmp_path: Path, postgres_url: str, shared_storage: SharedStorage
) -> Iterator[Callable[[float], Fleet]]:
    """Replicas `a` and `b` (not started) with the test transport's delay given, stopped
    after the test."""
    made: list[Fleet] = []

    def make(delay: float) -> Fleet:
        made.append(fleet(tmp_path, postgres_url, shared_storage, delay=delay))
        return made[-1]

    try:
        yield make
    finally:
        for running in made:
            running.stop()
