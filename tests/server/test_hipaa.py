"""The hipaa profile keeps its promises: documents are encrypted at rest (unreadable on disk,
sent intact, tampering refused, old keys still read after a rotation), every access is in the
audit log (and no number, content or secret is), and the appliance refuses to start when
either cannot work."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
from pathlib import Path

import pytest
from faxbot.audit import read_audit
from faxbot.encryption import DamagedDocumentError, EncryptedStorage, KeyRing, UnknownKeyError
from faxbot.plugins.contract import Deps, StoredDocument
from faxbot_plugin_local import LocalStorage

from tests.server.conftest import Appliance, build, ledger, one_page_pdf, serve_that_fails

HIPAA = (
    "      read_documents: true\n"  # the test transport records the digest of what it took
    "profile: hipaa\n"
    "appliance:\n"
    "  public_url: https://fax.example.test\n"
    "  audit_log: true\n"
    "  storage_encryption_key: ${env:FAXBOT_STORAGE_KEY}\n"
    "  retention: {outbound_document_days: 7, inbound_document_days: 7}\n"
)
ROTATED = HIPAA + "  storage_encryption_previous_keys: ['${env:FAXBOT_OLD_STORAGE_KEY}']\n"
MARKER = b"Faxbot test page"


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def read_stored(data_dir: Path, key: str, keys: KeyRing) -> bytes:
    """A document as the appliance's storage gives it back, through the real local plugin."""

    async def read() -> bytes:
        local = LocalStorage()
        settings = {"directory": "documents", "fsync": False}
        await local.start(settings, Deps(data_dir, logging.getLogger("test")))
        try:
            return await StoredDocument(EncryptedStorage(local, keys), key).read()
        finally:
            await local.stop()

    return asyncio.run(read())


def send_one(appliance: Appliance) -> str:
    with appliance.client() as client:
        answer = client.post(
            "/fax",
            data={"to": "+12025550143"},
            files={"file": ("a.pdf", one_page_pdf(), "application/pdf")},
        )
    assert answer.status_code == 202, answer.text
    job_id: str = answer.json()["id"]
    assert appliance.wait_for(job_id)["status"] == "SUCCESS"
    return job_id


def one_sent_under_hipaa(tmp_path: Path, key: str) -> tuple[Appliance, str]:
    """A hipaa appliance that sent one fax and stopped, and the job's id."""
    appliance = build(tmp_path, extra=HIPAA)
    appliance.start(env={"FAXBOT_STORAGE_KEY": key})
    try:
        return appliance, send_one(appliance)
    finally:
        appliance.stop()


def test_documents_are_encrypted_at_rest_and_sent_intact(tmp_path: Path) -> None:
    key = new_key()
    appliance, job_id = one_sent_under_hipaa(tmp_path, key)
    stored = (appliance.data_dir / "documents" / f"{job_id}.pdf").read_bytes()
    assert b"%PDF" not in stored and MARKER not in stored
    [sent] = [e for e in ledger(appliance.data_dir) if e["job_id"] == job_id]
    original = read_stored(appliance.data_dir, f"{job_id}.pdf", KeyRing(base64.b64decode(key)))
    assert original.startswith(b"%PDF")
    assert sent["document_sha256"] == hashlib.sha256(original).hexdigest()
    assert key not in appliance.log.read_text()


def test_a_tampered_document_is_refused(tmp_path: Path) -> None:
    key = new_key()
    appliance, job_id = one_sent_under_hipaa(tmp_path, key)
    path = appliance.data_dir / "documents" / f"{job_id}.pdf"
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 2] ^= 0x01
    path.write_bytes(bytes(damaged))
    with pytest.raises(DamagedDocumentError, match=f"{job_id}.pdf"):
        read_stored(appliance.data_dir, f"{job_id}.pdf", KeyRing(base64.b64decode(key)))


def test_a_rotated_key_still_reads_old_documents(tmp_path: Path) -> None:
    old, new = new_key(), new_key()
    appliance = build(tmp_path / "a", extra=ROTATED)
    env = {"FAXBOT_STORAGE_KEY": old, "FAXBOT_OLD_STORAGE_KEY": new_key()}
    appliance.start(env=env)
    try:
        before = send_one(appliance)
    finally:
        appliance.stop()
    # The rotation: the old key becomes a previous key; the appliance starts and sends on.
    appliance.start(env={"FAXBOT_STORAGE_KEY": new, "FAXBOT_OLD_STORAGE_KEY": old})
    try:
        after = send_one(appliance)
    finally:
        appliance.stop()
    ring = KeyRing(base64.b64decode(new), [base64.b64decode(old)])
    for job_id in (before, after):
        assert read_stored(appliance.data_dir, f"{job_id}.pdf", ring).startswith(b"%PDF")
    with pytest.raises(UnknownKeyError):
        read_stored(appliance.data_dir, f"{before}.pdf", KeyRing(base64.b64decode(new)))


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({}, "appliance.storage_encryption_key: ${env:FAXBOT_STORAGE_KEY} is not set"),
        (
            {"FAXBOT_STORAGE_KEY": "not-a-key-at-all"},
            "appliance.storage_encryption_key: a storage key is 32 random bytes",
        ),
    ],
)
def test_no_start_when_encryption_cannot_work(
    tmp_path: Path, env: dict[str, str], reason: str
) -> None:
    appliance = build(tmp_path, extra=HIPAA)
    clean = {k: v for k, v in os.environ.items() if k != "FAXBOT_STORAGE_KEY"}
    done = serve_that_fails(appliance, env={**clean, **env})
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("faxbot serve: cannot start: ") and reason in last, done.stderr
    assert "not-a-key-at-all" not in done.stderr + done.stdout


def test_the_audit_log_records_who_did_what_and_nothing_it_must_not(tmp_path: Path) -> None:
    key = new_key()
    appliance = build(tmp_path, extra=HIPAA)
    appliance.start(env={"FAXBOT_STORAGE_KEY": key})
    number = "+12025550143"
    try:
        job_id = send_one(appliance)
        with appliance.client() as admin, appliance.client("reader") as reader:
            assert admin.get(f"/fax/{job_id}").status_code == 200
            assert admin.get("/fax/0123456789abcdef0123456789abcdef").status_code == 404
            assert admin.get("/fax", params={"limit": 5}).status_code == 200
            assert admin.get("/plugins/test/config").status_code == 200
            refused = reader.post(
                "/fax", data={"to": number}, files={"file": ("a.pdf", one_page_pdf())}
            )
            assert refused.status_code == 403
        with appliance.client(key="") as anonymous:
            assert anonymous.get(f"/fax/{job_id}").status_code == 401
        fingerprint = json.loads((appliance.root / "build" / "faxbot.resolved.json").read_text())[
            "fingerprint"
        ]
    finally:
        appliance.stop()

    path = appliance.data_dir / "audit" / "audit.jsonl"
    lines = read_audit(path)
    seen = [(line["action"], line["outcome"], line["key_id"]) for line in lines]
    assert seen[0] == ("appliance_started", "ok", None)
    assert lines[0]["detail"] == {"fingerprint": fingerprint, "profile": "hipaa"}
    assert seen[-1] == ("appliance_stopped", "ok", None)
    expected = [
        ("fax_send", "ok", "admin"),
        ("fax_handover", "ok", None),
        ("fax_status_read", "ok", "admin"),
        ("fax_status_read", "not_found", "admin"),
        ("fax_list_read", "ok", "admin"),
        ("config_read", "ok", "admin"),
        ("fax_send", "denied", "reader"),
        ("fax_status_read", "denied", None),
    ]
    for entry in expected:
        assert entry in seen, (entry, seen)
    [sent] = [line for line in lines if line["action"] == "fax_send" and line["outcome"] == "ok"]
    assert sent["subject"] == job_id
    assert sent["detail"]["to"] == "+1*******43" and sent["detail"]["pages"] == 1
    assert all(line["at"].endswith("Z") for line in lines)

    text = path.read_text()
    for forbidden in (number, number[1:], MARKER.decode(), "%PDF", key, *appliance.tokens.values()):
        assert forbidden not in text, forbidden
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)


def test_no_start_when_the_audit_log_cannot_be_written(tmp_path: Path) -> None:
    appliance = build(tmp_path, extra=HIPAA)
    appliance.data_dir.mkdir(parents=True)
    (appliance.data_dir / "audit").write_text("a file where the audit folder should be")
    done = serve_that_fails(appliance, env={**os.environ, "FAXBOT_STORAGE_KEY": new_key()})
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert "cannot start: appliance.audit_log: cannot open the audit log" in last, done.stderr
