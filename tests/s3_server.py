"""An S3-compatible server on loopback for the tests (a pytest plugin, loaded by
tests/conftest.py): moto in server mode, started once per test session as a subprocess on a
free port when a test asks for it, stopped after.

Nothing reaches AWS: the server and every client made here have dummy credentials
(`S3_ENV`), the instance metadata service is off, and the endpoint is always the loopback
server. Its API, for any test that needs object storage:

- `s3_server` (session fixture): the endpoint URL, `http://127.0.0.1:<port>`.
- `s3_bucket` (fixture): a new, empty bucket on it for one test; its name.
- `create_bucket(endpoint, name)`, `s3_client(endpoint)`: a bucket made, and a boto3 client to
  look at what the server holds (objects, their encryption, multipart uploads).
- `s3_settings(endpoint, bucket, **more)`: the s3 plugin's settings for that bucket.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import free_port

REGION = "us-east-1"
# Credentials the server accepts and AWS would not: the ambient chain of a client or a
# `faxbot serve` in a test finds these, never a developer's real ones.
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing-key-id",
    "AWS_SECRET_ACCESS_KEY": "testing-secret-key",
    "AWS_SESSION_TOKEN": "testing-session",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The endpoint URL of a moto server on loopback, for the whole test session. Its output
    goes to a file, never to a pipe: moto logs a line per request, and a pipe nobody reads
    fills after ~600 of them (64 KiB), when every request of the server stops for good."""
    port = free_port()
    env = {**os.environ, **S3_ENV, "MOTO_PORT": str(port)}
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(server, endpoint, log)
        yield endpoint
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(30)


def _wait_until_up(server: subprocess.Popen[bytes], endpoint: str, log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{endpoint}/moto-api/data.json", timeout=2)
            return
        except httpx.TransportError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                server.wait(30)
                errors = log.read_text(errors="replace")
                raise RuntimeError(f"moto server did not start: {errors[-2000:]}") from None
            time.sleep(0.1)


def s3_client(endpoint: str) -> Any:
    """A boto3 S3 client of the server (boto3 comes with moto), for the tests' own looks."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"],
    )


def create_bucket(endpoint: str, name: str | None = None) -> str:
    """A new empty bucket on the server; its name."""
    bucket = name or f"faxbot-{secrets.token_hex(6)}"
    s3_client(endpoint).create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture
def s3_bucket(s3_server: str) -> str:
    """A new, empty bucket for one test."""
    return create_bucket(s3_server)


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process's ambient AWS chain: the dummy credentials, no metadata service."""
    for name, value in S3_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def s3_settings(endpoint: str, bucket: str, **more: Any) -> dict[str, Any]:
    """The s3 plugin's settings (defaults applied, as `start` gets them) for `bucket` on the
    server, path-style as S3-compatible servers want."""
    return {
        "bucket": bucket,
        "prefix": "documents/",
        "region": REGION,
        "endpoint_url": endpoint,
        "addressing_style": "path",
        "part_size_mib": 5,
        "connect_timeout_seconds": 5,
        "read_timeout_seconds": 30,
        **more,
    }
