"""S3 object storage: documents as objects `<prefix><key>` in one bucket of AWS S3 or an
S3-compatible store, so that every replica of the appliance reads what any other stored.

The client is aiobotocore (botocore's requests on asyncio): uploads and downloads stream
through the event loop without a thread per request (docs/decisions.md, "Object storage").
`put` is durable when it returns: S3 acknowledges an object only once it is stored. A document
that does not fit in one part (`part_size_mib`) goes up as a multipart upload, one part held
at a time, aborted on failure (uploads.py). `start` checks the bucket (HeadBucket) and fails
with one line naming the bucket and the store and what to check (errors.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError
from faxbot.plugins.contract import (
    Deps,
    DocumentNotFound,
    Health,
    HealthCheck,
    ListsDocuments,
    Manifest,
    Plugin,
    SettingProblem,
    Storage,
    load_manifest,
)

from faxbot_plugin_s3.errors import (
    S3StorageError,
    error_code,
    operation_problem,
    start_problem,
)
from faxbot_plugin_s3.settings import S3Settings, read_settings, settings_problems
from faxbot_plugin_s3.uploads import upload

if TYPE_CHECKING:
    from aiobotocore.response import StreamingBody
    from types_aiobotocore_s3 import S3Client

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
CHUNK = 256 * 1024  # documents are read back in chunks of this size
CHECK_SECONDS = 8.0  # the bucket check at start, inside the appliance's 10 s start budget
MISSING = frozenset({"NoSuchKey", "404", "NotFound"})

__all__ = ["S3Settings", "S3Storage", "S3StorageError", "StorageKeyError"]


class StorageKeyError(ValueError):
    pass


class S3Storage(Plugin, Storage, ListsDocuments, HealthCheck):
    manifest: ClassVar[Manifest] = load_manifest(__name__)

    def __init__(self) -> None:
        self._settings: S3Settings | None = None
        self._client: S3Client | None = None
        self._resources = contextlib.AsyncExitStack()

    def validate_config(self, settings: Mapping[str, Any]) -> Sequence[SettingProblem]:
        return settings_problems(settings)

    async def start(self, settings: Mapping[str, Any], deps: Deps) -> None:
        config = read_settings(settings)
        if deps.profile == "hipaa" and config.sse is None:  # the compiler refuses it first
            raise S3StorageError("the hipaa profile requires settings.sse (server-side encryption)")
        credentials = config.credentials
        client = await self._resources.enter_async_context(
            get_session().create_client(
                "s3",
                region_name=config.region,
                endpoint_url=config.endpoint_url,
                aws_access_key_id=credentials.access_key_id if credentials else None,
                aws_secret_access_key=credentials.secret_access_key if credentials else None,
                aws_session_token=credentials.session_token if credentials else None,
                config=AioConfig(
                    connect_timeout=config.connect_timeout,
                    read_timeout=config.read_timeout,
                    retries={"mode": "standard", "max_attempts": 3},
                    s3={"addressing_style": config.addressing_style},
                ),
            )
        )
        try:
            await asyncio.wait_for(client.head_bucket(Bucket=config.bucket), CHECK_SECONDS)
        except Exception as exc:
            raise start_problem(exc, config.store) from None
        self._settings, self._client = config, client
        deps.logger.info(
            f"s3 storage: {config.store}, prefix {config.prefix!r}, "
            f"encryption {config.sse or 'the bucket default'}",
            extra={"event": "s3_storage_ready"},
        )

    async def stop(self) -> None:
        self._client = None
        await self._resources.aclose()

    def _ready(self) -> tuple[S3Client, S3Settings]:
        if self._client is None or self._settings is None:
            raise RuntimeError("s3 storage used before start()")
        return self._client, self._settings

    def _name(self, key: str) -> str:
        if not _KEY.match(key) or ".." in key:
            raise StorageKeyError(f"invalid storage key {key!r}")
        _, config = self._ready()
        return config.prefix + key

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        """Stream the chunks into object `<prefix><key>`; the byte count. Durable when it
        returns; on failure nothing is left under the key's upload."""
        name = self._name(key)
        client, config = self._ready()
        try:
            return await upload(
                client,
                config.bucket,
                name,
                chunks,
                part_bytes=config.part_bytes,
                encryption=config.encryption(),
            )
        except ClientError as exc:
            raise operation_problem(exc, config.store, f"storing {key}") from None
        except BotoCoreError as exc:
            raise start_problem(exc, config.store) from None

    async def get(self, key: str) -> AsyncIterator[bytes]:
        name = self._name(key)
        client, config = self._ready()
        try:
            answer = await client.get_object(Bucket=config.bucket, Key=name)
        except ClientError as exc:
            if error_code(exc) in MISSING:
                raise DocumentNotFound(key) from None
            raise operation_problem(exc, config.store, f"reading {key}") from None
        except BotoCoreError as exc:
            raise start_problem(exc, config.store) from None
        return _streamed(answer["Body"])

    async def delete(self, key: str) -> None:
        name = self._name(key)
        client, config = self._ready()
        try:  # S3 answers 204 for a key it does not have: not an error, as the contract wants
            await client.delete_object(Bucket=config.bucket, Key=name)
        except ClientError as exc:
            raise operation_problem(exc, config.store, f"deleting {key}") from None

    async def list_documents(self, stored_before: float) -> AsyncIterator[str]:
        """The keys under the prefix last written before `stored_before`, a page of up to
        1,000 objects per request (ListObjectsV2); objects in deeper folders are not ours."""
        client, config = self._ready()
        return _listed(client, config, stored_before)

    async def health(self) -> Health:
        if self._client is None or self._settings is None:
            return Health(ok=False, detail="not started")
        config = self._settings
        try:
            await self._client.head_bucket(Bucket=config.bucket)
        except Exception as exc:
            return Health(ok=False, detail=str(start_problem(exc, config.store)))
        return Health(ok=True, detail=config.store)


async def _streamed(body: StreamingBody) -> AsyncIterator[bytes]:
    async with body:  # gives the connection back however the reading ends
        async for chunk in body.iter_chunks(CHUNK):
            yield chunk


async def _listed(client: S3Client, config: S3Settings, stored_before: float) -> AsyncIterator[str]:
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=config.bucket, Prefix=config.prefix
    )
    async for page in pages:
        for item in page.get("Contents", []):
            key = item["Key"][len(config.prefix) :]
            if _KEY.match(key) and item["LastModified"].timestamp() < stored_before:
                yield key
