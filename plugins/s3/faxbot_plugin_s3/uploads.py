"""Streaming a document into the store without holding it whole: one PutObject when it fits in
one part, else a multipart upload of parts sent as they fill (at most one part held), and
the upload aborted on any failure so that no partial object, and no stored part, is left."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.type_defs import CompletedPartTypeDef

    from faxbot_plugin_s3.settings import Encryption


async def upload(
    client: S3Client,
    bucket: str,
    name: str,
    chunks: AsyncIterator[bytes],
    *,
    part_bytes: int,
    encryption: Encryption,
) -> int:
    """Store `chunks` as object `name`; the byte count. `encryption` (ServerSideEncryption,
    SSEKMSKeyId) goes with the PutObject or, for a multipart upload, with its creation, which
    is where S3 takes it."""
    held = bytearray()
    size = 0
    upload_id: str | None = None
    parts: list[CompletedPartTypeDef] = []
    try:
        async for chunk in chunks:
            held += chunk
            size += len(chunk)
            while len(held) > part_bytes:  # more than one part: this one is not the last
                if upload_id is None:
                    created = await client.create_multipart_upload(
                        Bucket=bucket, Key=name, **encryption
                    )
                    upload_id = created["UploadId"]
                part = bytes(held[:part_bytes])
                del held[:part_bytes]
                parts.append(await _send_part(client, bucket, name, upload_id, len(parts), part))
        if upload_id is None:
            await client.put_object(Bucket=bucket, Key=name, Body=bytes(held), **encryption)
            return size
        if held:
            parts.append(await _send_part(client, bucket, name, upload_id, len(parts), bytes(held)))
        held.clear()
        await client.complete_multipart_upload(
            Bucket=bucket, Key=name, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
        return size
    except BaseException:
        if upload_id is not None:
            # shielded: a cancelled request still leaves no parts behind (they are billed)
            await asyncio.shield(_abort(client, bucket, name, upload_id))
        raise


async def _send_part(
    client: S3Client, bucket: str, name: str, upload_id: str, index: int, data: bytes
) -> CompletedPartTypeDef:
    number = index + 1  # S3 numbers parts from 1
    sent = await client.upload_part(
        Bucket=bucket, Key=name, UploadId=upload_id, PartNumber=number, Body=data
    )
    return {"ETag": sent["ETag"], "PartNumber": number}


async def _abort(client: S3Client, bucket: str, name: str, upload_id: str) -> None:
    # An abort that fails leaves parts for the bucket's lifecycle rule
    # (AbortIncompleteMultipartUpload, docs/plugins.md); the first error is the one to report.
    with contextlib.suppress(Exception):
        await client.abort_multipart_upload(Bucket=bucket, Key=name, UploadId=upload_id)
