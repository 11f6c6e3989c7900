"""Fixtures of the replica tests: the storage the replicas share, and two replicas on a fresh
PostgreSQL database (fleet.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.replicas.fleet import Fleet, SharedStorage, fleet
from tests.s3_server import S3_ENV


@pytest.fixture
def shared_storage(tmp_path: Path, s3_server: str, s3_bucket: str) -> SharedStorage:
    """Object storage the replicas share: the s3 plugin on one bucket of the moto server
    (tests/s3_server.py), path-style, with the dummy credentials in the replicas'
    environment; the ledger in tmp_path/shared."""
    shared = tmp_path / "shared"
    shared.mkdir()
    fragment = (
        "providers:\n"
        "  storage:\n"
        "    plugin: s3\n"
        "    version: 1.0.0\n"
        "    settings:\n"
        f"      bucket: {s3_bucket}\n"
        f"      endpoint_url: {s3_server}\n"
        "      addressing_style: path\n"
    )
    return SharedStorage(fragment, shared / "ledger.jsonl", dict(S3_ENV))


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
