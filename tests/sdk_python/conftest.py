"""A real appliance (`faxbot serve` on loopback, see tests/server/conftest.py) for the SDK."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from faxbot_client import Faxbot, FaxJob

from tests.server.conftest import Appliance, appliance

__all__ = ["appliance"]  # the real `faxbot serve` fixture, shared with tests/server

TO = "+12025550143"


@pytest.fixture
def faxbot(appliance: Appliance) -> Iterator[Faxbot]:
    with Faxbot(appliance.url, appliance.tokens["admin"]) as client:
        yield client


def wait_until_done(faxbot: Faxbot, job_id: str, timeout: float = 30) -> FaxJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = faxbot.get_fax_status(job_id)
        if job.status in ("SUCCESS", "FAILED"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} not done after {timeout} s")
