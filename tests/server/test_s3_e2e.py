"""`faxbot serve` with its documents in S3 (the s3 plugin on the moto server,
tests/s3_server.py): a fax sent with the test transport ends SUCCESS, its document is an
object under the prefix, encrypted by the appliance's key and by the store (SSE-KMS), and the
transport read it back intact; a missing bucket stops the start with one clear line and no
secret."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
from pathlib import Path

from faxbot.encryption import is_encrypted

from tests.s3_server import S3_ENV, s3_client
from tests.server.conftest import FAXBOT, Appliance, build, ledger, one_page_pdf, serve_that_fails

KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET = "s3-secret-access-key-for-the-test"


def with_s3_storage(tmp_path: Path, endpoint: str, bucket: str) -> Appliance:
    """The test build with local storage replaced by the s3 plugin, credentials as
    references, and the appliance's own encryption at rest."""
    appliance = build(tmp_path, extra="      read_documents: true\n")
    (appliance.root / "config.d" / "20-storage.yaml").write_text(
        "appliance:\n"
        "  storage_encryption_key: ${env:FAXBOT_STORAGE_KEY}\n"
        "providers:\n"
        "  storage:\n"
        "    plugin: s3\n"
        "    version: 1.0.0\n"
        "    settings:\n"
        f"      bucket: {bucket}\n"
        "      prefix: faxbot/documents/\n"
        f"      endpoint_url: {endpoint}\n"
        "      addressing_style: path\n"
        "      sse: aws:kms\n"
        f"      sse_kms_key_id: {KMS_KEY}\n"
        "      access_key_id: ${env:S3_ACCESS_KEY_ID}\n"
        "      secret_access_key: ${env:S3_SECRET_ACCESS_KEY}\n"
    )
    subprocess.run(
        [FAXBOT, "config", "compile"], cwd=appliance.root, check=True, capture_output=True
    )
    return appliance


def environment() -> dict[str, str]:
    return {
        **S3_ENV,
        "S3_ACCESS_KEY_ID": S3_ENV["AWS_ACCESS_KEY_ID"],
        "S3_SECRET_ACCESS_KEY": SECRET,
        "FAXBOT_STORAGE_KEY": base64.b64encode(os.urandom(32)).decode(),
    }


def test_a_fax_is_sent_with_its_document_in_s3(
    tmp_path: Path, s3_server: str, s3_bucket: str
) -> None:
    appliance = with_s3_storage(tmp_path, s3_server, s3_bucket)
    env = environment()
    pdf = one_page_pdf()
    appliance.start(env=env)
    try:
        with appliance.client() as client:
            answer = client.post(
                "/fax",
                data={"to": "+12025550143"},
                files={"file": ("a.pdf", pdf, "application/pdf")},
            )
            assert answer.status_code == 202, answer.text
            job_id = answer.json()["id"]
            assert appliance.wait_for(job_id)["status"] == "SUCCESS"
            assert client.get("/health/ready").status_code == 200
    finally:
        appliance.stop()
    s3 = s3_client(s3_server)
    listed = s3.list_objects_v2(Bucket=s3_bucket)["Contents"]
    assert [item["Key"] for item in listed] == [f"faxbot/documents/{job_id}.pdf"]
    stored = s3.get_object(Bucket=s3_bucket, Key=listed[0]["Key"])
    assert stored["ServerSideEncryption"] == "aws:kms" and stored["SSEKMSKeyId"] == KMS_KEY
    body = stored["Body"].read()
    assert is_encrypted(body) and b"%PDF" not in body
    [sent] = [entry for entry in ledger(appliance.data_dir) if entry["job_id"] == job_id]
    assert sent["document_sha256"] == hashlib.sha256(pdf).hexdigest()
    log = appliance.log.read_text()
    assert SECRET not in log and env["FAXBOT_STORAGE_KEY"] not in log


def test_a_missing_bucket_stops_the_start_with_one_clear_line(
    tmp_path: Path, s3_server: str
) -> None:
    appliance = with_s3_storage(tmp_path, s3_server, "no-such-faxbot-bucket")
    env = environment()
    failed = serve_that_fails(appliance, env={**os.environ, **env})
    assert failed.returncode != 0
    output = failed.stdout + failed.stderr
    assert (
        f"bucket 'no-such-faxbot-bucket' at {s3_server} does not exist: create it, or check "
        "settings.bucket, settings.region and settings.endpoint_url"
    ) in output, output
    assert SECRET not in output and env["FAXBOT_STORAGE_KEY"] not in output
