"""Two real `faxbot serve` replicas on one real PostgreSQL, under the hipaa profile: each writes
its own audit stream (its own file, its id on every line, its own order; what a caller did on
replica B is in B's stream), and an API key's rate limit holds across both of them."""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import pytest
from faxbot.audit import read_audit

from tests.postgres_server import new_database
from tests.server.conftest import Appliance, build, free_port, one_page_pdf
from tests.server.more_keys import Key, add_keys

pytestmark = pytest.mark.slow
TO = "+12025550143"
# Documents in one folder beside the replicas' data_dirs (root/<replica>/data/../../documents):
# a job taken by the replica that did not store it still finds its document.
HIPAA = (
    "profile: hipaa\n"
    "appliance:\n"
    "  public_url: https://fax.example.test\n"
    "  audit_log: true\n"
    "  database_url: ${env:FAXBOT_TEST_DATABASE_URL}\n"
    "  storage_encryption_key: ${env:FAXBOT_STORAGE_KEY}\n"
    "  retention: {outbound_document_days: 7, inbound_document_days: 7}\n"
)
STORAGE = "providers:\n  storage:\n    settings:\n      directory: ../../documents\n"


def replicas(root: Path, keys: dict[str, Key]) -> tuple[Appliance, Appliance]:
    """Replica A built in root/a (config compiled once), and B: the same artifact in root/b."""
    a = build(root / "a", delay=0, extra=HIPAA, fragments={"80-storage.yaml": STORAGE})
    add_keys(a, keys)
    (root / "b").mkdir()
    shutil.copytree(a.root / "build", root / "b" / "build")
    b = Appliance(root / "b", free_port(), dict(a.tokens))
    return a, b


@pytest.fixture
def pair(tmp_path: Path, postgres_server: str) -> Iterator[tuple[Appliance, Appliance]]:
    a, b = replicas(tmp_path, {"limited": Key(("fax:read",), rate_limit=(1, 4))})
    env = {"FAXBOT_STORAGE_KEY": base64.b64encode(os.urandom(32)).decode()}
    with ExitStack() as stack:
        url = stack.enter_context(new_database(postgres_server))
        env["FAXBOT_TEST_DATABASE_URL"] = url.replace("+psycopg", "")
        a.start(env={**env, "FAXBOT_REPLICA_ID": "replica-a"})
        stack.callback(a.stop)
        b.start(env={**env, "FAXBOT_REPLICA_ID": "replica-b"})
        stack.callback(b.stop)
        yield a, b


def test_each_replica_writes_its_own_ordered_audit_stream(
    pair: tuple[Appliance, Appliance],
) -> None:
    a, b = pair
    with a.client() as client:
        sent = client.post(
            "/fax", data={"to": TO}, files={"file": ("a.pdf", one_page_pdf(), "application/pdf")}
        )
    assert sent.status_code == 202, sent.text
    job_id = sent.json()["id"]
    assert b.wait_for(job_id)["status"] == "SUCCESS"  # read on B (and polled there)
    with b.client() as client:
        assert client.get("/fax").status_code == 200
    a.stop()
    b.stop()

    streams = {}
    for replica, appliance in (("replica-a", a), ("replica-b", b)):
        folder = appliance.data_dir / "audit"
        assert sorted(p.name for p in folder.iterdir()) == [f"{replica}.jsonl"]
        lines = read_audit(folder / f"{replica}.jsonl")
        assert {line["replica"] for line in lines} == {replica}
        assert lines[0]["action"] == "appliance_started"
        assert lines[-1]["action"] == "appliance_stopped"
        stamps = [datetime.fromisoformat(line["at"]) for line in lines]
        assert stamps == sorted(stamps)  # its own order: one writer, appended
        streams[replica] = lines

    def done(replica: str, action: str) -> list[str | None]:
        return [line["subject"] for line in streams[replica] if line["action"] == action]

    assert done("replica-a", "fax_send") == [job_id]
    assert done("replica-b", "fax_send") == []
    assert job_id in done("replica-b", "fax_status_read")  # B's action, in B's stream
    assert job_id not in done("replica-a", "fax_status_read")
    assert [line["detail"]["count"] for line in streams["replica-b"] if
            line["action"] == "fax_list_read"] == [1]  # fmt: skip
    # the hand-over happened once, on whichever replica took the job
    assert len(done("replica-a", "fax_handover") + done("replica-b", "fax_handover")) == 1


def test_a_key_s_rate_limit_holds_across_replicas(pair: tuple[Appliance, Appliance]) -> None:
    a, b = pair
    answers = []
    with a.client("limited") as on_a, b.client("limited") as on_b:
        for _ in range(4):  # burst 4, one more a minute: alternating between the replicas
            answers += [on_a.get("/fax").status_code, on_b.get("/fax").status_code]
        refused = on_a.get("/fax")
    assert answers == [200, 200, 200, 200, 429, 429, 429, 429]
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
