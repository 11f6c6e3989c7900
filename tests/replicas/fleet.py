"""Replicas for the tests: several `faxbot serve` processes built from one artifact, each in
its own folder (its own data_dir) on one real PostgreSQL (tests/postgres_server.py), sharing
the documents and the test transport's ledger (one provider for all).

The storage is a fixture of its own (conftest.py, `shared_storage`): the s3 plugin on one
bucket of the moto server (tests/s3_server.py), which every replica reads and writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.server.conftest import FAXBOT, Appliance, build, free_port
from tests.server.more_keys import Key, add_keys
from tests.server.receiving import SECRET

# Short terms so a takeover shows in seconds (the defaults are 30 s, 10 s and 5 s).
LEASE_SECONDS = 3
HEARTBEAT_SECONDS = 1
CLAIM_SECONDS = 0.5
# The test transport takes a fax to this number but loses its answer (OutcomeUnknown): the
# job stays handing over until `find_sent` finds it, by its replica or by the one after it.
UNKNOWN_NUMBER = "+12025550177"


@dataclass(frozen=True)
class SharedStorage:
    """What replicas share besides the database: the storage slot's fragment, the ledger, and
    what the storage needs in the replicas' environment."""

    fragment: str
    ledger: Path
    env: dict[str, str] = field(default_factory=dict)


def ledger_of(storage: SharedStorage) -> list[dict[str, object]]:
    if not storage.ledger.exists():
        return []
    return [json.loads(line) for line in storage.ledger.read_text().splitlines() if line]


@dataclass
class Fleet:
    replicas: dict[str, Appliance]
    database_url: str  # psycopg's form
    storage: SharedStorage

    def start(self, *names: str, timeout: float = 60) -> None:
        """Start these replicas at once (each on its replica id) and wait until all are
        ready."""
        for name in names or tuple(self.replicas):
            replica = self.replicas[name]
            with replica.log.open("ab") as log:
                replica.process = subprocess.Popen(
                    [FAXBOT, "serve", "--port", str(replica.port)],
                    cwd=replica.root,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, **self.storage.env, "FAXBOT_REPLICA_ID": name},
                )
        deadline = time.monotonic() + timeout
        for name in names or tuple(self.replicas):
            replica = self.replicas[name]
            while True:
                assert replica.process is not None
                if replica.process.poll() is not None:
                    raise AssertionError(f"{name} exited: {replica.log.read_text()[-3000:]}")
                try:
                    if httpx.get(f"{replica.url}/health/ready", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"{name} not ready: {replica.log.read_text()[-3000:]}")
                time.sleep(0.05)

    def stop(self) -> None:
        for replica in self.replicas.values():
            replica.stop()

    def query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        """Rows of `sql` (parameters as %s) on the replicas' database."""
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            return list(connection.execute(sql, params or None).fetchall())


def fleet(
    root: Path,
    postgres_url: str,
    storage: SharedStorage,
    names: tuple[str, ...] = ("a", "b"),
    delay: float = 1.0,
) -> Fleet:
    """Compile one artifact (the example config.d, test keys, PostgreSQL, short leases, the
    shared storage and ledger, a webhook secret) and give each replica a folder with it."""
    url = "postgresql://" + postgres_url.split("://", 1)[1]
    (root / "secret").parent.mkdir(parents=True, exist_ok=True)
    (root / "secret").write_text(SECRET)
    appliance = (
        "appliance:\n"
        f"  database_url: {url}\n"
        "  replicas:\n"
        f"    lease_seconds: {LEASE_SECONDS}\n"
        f"    heartbeat_seconds: {HEARTBEAT_SECONDS}\n"
        f"    claim_seconds: {CLAIM_SECONDS}\n"
    )
    extra = (
        f"      ledger_path: {storage.ledger}\n"
        f"      webhook_secret: ${{file:{root / 'secret'}}}\n"
        f"      outcome_unknown_numbers: ['{UNKNOWN_NUMBER}']\n"
    )
    first = build(
        root / names[0],
        delay=delay,
        extra=extra,
        fragments={"92-replicas.yaml": appliance},
    )
    # The example's storage fragment replaced (its local settings would merge into the new
    # ones), compiled again with a key that reads the metrics.
    (first.root / "config.d" / "20-storage.yaml").write_text(storage.fragment)
    add_keys(first, {"scraper": Key(("metrics:read",))})
    replicas = {names[0]: first}
    for name in names[1:]:
        folder = root / name
        folder.mkdir()
        shutil.copytree(first.root / "build", folder / "build")
        replicas[name] = Appliance(folder, free_port(), dict(first.tokens))
    return Fleet(replicas, postgres_url.replace("postgresql+psycopg://", "postgresql://"), storage)
