"""The s3 plugin against a real S3-compatible server on loopback (moto, tests/s3_server.py):
documents stored byte for byte, streamed in parts without being held whole, encrypted by the
store with the configured key, no partial upload left by a failure, and a start that fails
with one clear line naming the bucket and what to check, never a credential."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from faxbot.plugins.contract import Deps, DocumentNotFound, StoredDocument
from faxbot.plugins.discovery import manifest_problems
from faxbot_plugin_s3 import S3Storage, S3StorageError, StorageKeyError
from faxbot_plugin_s3.errors import start_problem
from faxbot_plugin_s3.settings import MIB, settings_problems

from tests.s3_server import create_bucket, s3_client, s3_settings

pytestmark = pytest.mark.usefixtures("s3_env")
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET = "wJalrXUtnFEMI-not-a-real-secret"


def deps(tmp_path: Path, profile: str = "dev") -> Deps:
    return Deps(data_dir=tmp_path, logger=logging.getLogger("test.s3"), profile=profile)


async def _chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def with_storage(
    tmp_path: Path, settings: dict[str, Any], scenario: Callable[[S3Storage], Awaitable[None]]
) -> None:
    async def run() -> None:
        storage = S3Storage()
        await storage.start(settings, deps(tmp_path))
        try:
            await scenario(storage)
        finally:
            await storage.stop()

    asyncio.run(asyncio.wait_for(run(), 60))


def test_the_plugin_meets_the_contract() -> None:
    assert manifest_problems(S3Storage, S3Storage.manifest) == []


def test_a_document_round_trips_and_is_deleted(
    tmp_path: Path, s3_server: str, s3_bucket: str
) -> None:
    document = b"%PDF-1.7 " + bytes(range(256)) * 40

    async def scenario(storage: S3Storage) -> None:
        assert await storage.put("job1.pdf", _chunks(document, 1000)) == len(document)
        assert await StoredDocument(storage, "job1.pdf").read() == document
        await storage.delete("job1.pdf")
        await storage.delete("job1.pdf")  # an unknown key is not an error
        with pytest.raises(DocumentNotFound):
            await storage.get("job1.pdf")
        assert (await storage.health()).ok
        for bad in ("../escape.pdf", "a/b.pdf", ""):  # the core's names only, never a path
            with pytest.raises(StorageKeyError):
                await storage.put(bad, _chunks(b"x"))

    with_storage(tmp_path, s3_settings(s3_server, s3_bucket), scenario)
    assert "Contents" not in s3_client(s3_server).list_objects_v2(Bucket=s3_bucket)


def test_a_large_document_is_streamed_in_parts_never_held_whole(
    tmp_path: Path, s3_server: str, s3_bucket: str
) -> None:
    """12 MiB with 5 MiB parts: by the time the source yields its last chunk, the server
    already holds the first two parts, so the plugin held at most one part of it."""
    document = bytes(range(256)) * (12 * MIB // 256)
    seen: list[int] = []
    client = s3_client(s3_server)

    async def source() -> AsyncIterator[bytes]:
        async for chunk in _chunks(document, 256 * 1024):
            if len(seen) == len(document) // (256 * 1024) - 1:  # the last chunk
                uploads = client.list_multipart_uploads(Bucket=s3_bucket)["Uploads"]
                [upload] = uploads
                parts = client.list_parts(
                    Bucket=s3_bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )["Parts"]
                seen.append(len(parts))
            else:
                seen.append(0)
            yield chunk

    async def scenario(storage: S3Storage) -> None:
        assert await storage.put("big.pdf", source()) == len(document)
        assert await StoredDocument(storage, "big.pdf").read() == document

    with_storage(tmp_path, s3_settings(s3_server, s3_bucket), scenario)
    assert seen[-1] == 2
    head = client.head_object(Bucket=s3_bucket, Key="documents/big.pdf")
    assert head["ETag"].strip('"').endswith("-3")  # a multipart object of three parts
    assert head["ContentLength"] == len(document)


def test_a_failed_upload_leaves_no_object_and_no_parts(
    tmp_path: Path, s3_server: str, s3_bucket: str
) -> None:
    async def failing() -> AsyncIterator[bytes]:
        for _ in range(7 * 4):  # 7 MiB: one part sent, then the client goes away
            yield b"x" * (256 * 1024)
        raise ConnectionResetError("the client went away")

    async def scenario(storage: S3Storage) -> None:
        with pytest.raises(ConnectionResetError):
            await storage.put("cut.pdf", failing())

    with_storage(tmp_path, s3_settings(s3_server, s3_bucket), scenario)
    client = s3_client(s3_server)
    assert client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
    assert "Contents" not in client.list_objects_v2(Bucket=s3_bucket)


@pytest.mark.parametrize("size", [1000, 6 * MIB], ids=["put-object", "multipart"])
def test_sse_kms_goes_with_every_upload(
    tmp_path: Path, s3_server: str, s3_bucket: str, size: int
) -> None:
    settings = s3_settings(s3_server, s3_bucket, sse="aws:kms", sse_kms_key_id=KMS_KEY)

    async def scenario(storage: S3Storage) -> None:
        await storage.put("secret.pdf", _chunks(b"s" * size))

    with_storage(tmp_path, settings, scenario)
    head = s3_client(s3_server).head_object(Bucket=s3_bucket, Key="documents/secret.pdf")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == KMS_KEY


def test_sse_s3_goes_with_every_upload(tmp_path: Path, s3_server: str, s3_bucket: str) -> None:
    async def scenario(storage: S3Storage) -> None:
        await storage.put("plain.pdf", _chunks(b"p" * 100))

    with_storage(tmp_path, s3_settings(s3_server, s3_bucket, sse="AES256"), scenario)
    head = s3_client(s3_server).head_object(Bucket=s3_bucket, Key="documents/plain.pdf")
    assert head["ServerSideEncryption"] == "AES256"


def test_documents_are_listed_for_the_orphan_sweep(
    tmp_path: Path, s3_server: str, s3_bucket: str
) -> None:
    client = s3_client(s3_server)
    client.put_object(Bucket=s3_bucket, Key="elsewhere/other.pdf", Body=b"not ours")
    client.put_object(Bucket=s3_bucket, Key="documents/deeper/other.pdf", Body=b"not ours")

    async def scenario(storage: S3Storage) -> None:
        for key in ("a.pdf", "b.pdf"):
            await storage.put(key, _chunks(b"%PDF-1.7"))
        later = time.time() + 60
        assert sorted([key async for key in await storage.list_documents(later)]) == [
            "a.pdf",
            "b.pdf",
        ]
        assert [key async for key in await storage.list_documents(time.time() - 3600)] == []

    with_storage(tmp_path, s3_settings(s3_server, s3_bucket), scenario)


def test_a_missing_bucket_fails_the_start_with_one_clear_line(
    tmp_path: Path, s3_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = s3_settings(
        s3_server, "no-such-bucket", access_key_id="AKIDEXAMPLE", secret_access_key=SECRET
    )

    async def start() -> None:
        storage = S3Storage()
        try:
            await storage.start(settings, deps(tmp_path))
        finally:
            await storage.stop()

    caplog.set_level(logging.DEBUG)
    with pytest.raises(S3StorageError) as caught:
        asyncio.run(start())
    message = str(caught.value)
    assert message == (
        f"bucket 'no-such-bucket' at {s3_server} does not exist: create it, or check "
        "settings.bucket, settings.region and settings.endpoint_url"
    )
    assert SECRET not in caplog.text and "AKIDEXAMPLE" not in message


def test_a_wrong_endpoint_fails_the_start_naming_it(tmp_path: Path) -> None:
    from tests.server.conftest import free_port

    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = s3_settings(endpoint, "faxbot", connect_timeout_seconds=1)

    async def start() -> None:
        storage = S3Storage()
        try:
            await storage.start(settings, deps(tmp_path))
        finally:
            await storage.stop()

    with pytest.raises(S3StorageError, match=r"cannot connect to bucket 'faxbot' at http://127"):
        asyncio.run(start())


def test_denied_credentials_are_named_without_their_values() -> None:
    refused = ClientError(
        {"Error": {"Code": "InvalidAccessKeyId", "Message": "AKIDEXAMPLE is unknown"}},
        "HeadBucket",
    )
    message = str(start_problem(refused, "bucket 'b' at https://s3.example.test"))
    assert message.startswith("bucket 'b' at https://s3.example.test refused the credentials")
    assert "AKIDEXAMPLE" not in message and "access_key_id" in message


def test_the_hipaa_profile_needs_encryption_at_start_too(tmp_path: Path, s3_server: str) -> None:
    storage = S3Storage()

    async def start() -> None:
        try:
            await storage.start(s3_settings(s3_server, "b-x"), deps(tmp_path, "hipaa"))
        finally:
            await storage.stop()

    with pytest.raises(S3StorageError, match=r"requires settings\.sse"):
        asyncio.run(start())


def test_settings_the_schema_cannot_check() -> None:
    base = {"bucket": "b-x", "region": "us-east-1"}
    assert settings_problems(base) == []
    assert (
        settings_problems({**base, "access_key_id": "${env:K}", "secret_access_key": "${env:S}"})
        == []
    )
    [half] = settings_problems({**base, "access_key_id": "${env:K}"})
    assert half.path == ("secret_access_key",) and "together" in half.message
    [token_only] = settings_problems({**base, "session_token": "${env:T}"})
    assert token_only.path == ("access_key_id",)
    [kms] = settings_problems({**base, "sse": "AES256", "sse_kms_key_id": KMS_KEY})
    assert kms.path == ("sse_kms_key_id",)


def test_a_second_bucket_is_independent(tmp_path: Path, s3_server: str) -> None:
    """create_bucket (the fixture's helper for other tests) gives a fresh, empty bucket."""
    first, second = create_bucket(s3_server), create_bucket(s3_server)
    assert first != second

    async def scenario(storage: S3Storage) -> None:
        await storage.put("only.pdf", _chunks(b"%PDF"))

    with_storage(tmp_path, s3_settings(s3_server, first), scenario)
    assert "Contents" not in s3_client(s3_server).list_objects_v2(Bucket=second)
