"""Real appliances for the contract tests: `faxbot serve` on loopback, built like
tests/server's, with what the error statuses need: a small upload limit, a key holding no
scope an implemented operation needs, and an appliance that lost its document
storage after start."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from faxbot.keys import new_key

from tests.server.conftest import FAXBOT, Appliance, build

UPLOAD_LIMIT = 65536  # small, so that the 413s need no 10 MB uploads


WEBHOOK_SECRET = "contract-webhook-secret"
INBOUND_NUMBER = "+12025550100"  # the number `desk` receives on


def contract_appliance(root: Path) -> Appliance:
    """build() with UPLOAD_LIMIT and a third key, `outsider`, whose only scope (inbound:list)
    no implemented operation needs: the fax:read operations' 403 (reader holds fax:read)."""
    # No limit on requests without a valid key: the fuzzer sends hundreds with bad keys, each
    # of which must get its 401 (tests/server/test_rate_limits.py tests the limit).
    limits = f"    upload_max_bytes: {UPLOAD_LIMIT}\n    unauthenticated_rate_limit: null\n"
    root.mkdir(parents=True, exist_ok=True)
    (root / "webhook-secret").write_text(WEBHOOK_SECRET)
    secret = f"      webhook_secret: ${{file:{root / 'webhook-secret'}}}\n"
    inbound = f"{secret}  inbound:\n    settings:\n{secret}"
    running = build(root, extra=f"{inbound}appliance:\n  limits:\n{limits}")
    outsider = new_key("outsider", ["inbound:list"])
    desk = new_key("desk", ["inbound:list", "inbound:read"])
    # API keys merge by id: this fragment adds the keys to build()'s. JSON is YAML.
    (root / "config.d" / "95-contract-keys.yaml").write_text(
        json.dumps(
            {"api_keys": [outsider.entry, {**desk.entry, "inbound_numbers": [INBOUND_NUMBER]}]}
        ),
        encoding="utf-8",
    )
    subprocess.run([FAXBOT, "config", "compile"], cwd=root, check=True, capture_output=True)
    running.tokens["outsider"] = outsider.token
    running.tokens["desk"] = desk.token
    return running


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    with contract_appliance(tmp_path_factory.mktemp("contract")).running() as running:
        yield running


@pytest.fixture(scope="module")
def degraded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    """Its document storage gone after start (GET /health/ready: 503)."""
    running = build(tmp_path_factory.mktemp("degraded"))
    running.start()
    try:
        shutil.rmtree(running.data_dir / "documents")
        yield running
    finally:
        running.stop()
