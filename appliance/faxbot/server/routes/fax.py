"""POST /fax, GET /fax/{id}, GET /fax."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, Parameter

from faxbot.jobs.numbers import valid_number
from faxbot.jobs.service import JobService
from faxbot.plugins.contract import FaxStatus
from faxbot.server.auth import api_key_of, caller_of
from faxbot.server.error_codes import ErrorCode
from faxbot.server.errors import ApiError
from faxbot.server.headers import raw_header
from faxbot.server.models import FaxJob, FaxJobPage
from faxbot.server.openapi import E164_PATTERN, SendFaxOperation, errors
from faxbot.server.routes import Operation, operation
from faxbot.server.uploads import receive_fax_form
from faxbot.store.jobs import Job, JobFilter

IDEMPOTENCY_HEADER = b"idempotency-key"
MAX_IDEMPOTENCY_KEY = 255


@functools.lru_cache(maxsize=16_384)
def utc_iso(epoch: float) -> str:
    """`epoch` as ISO 8601 in UTC with milliseconds, such as 2026-01-31T12:00:00.123Z. Cached:
    clients poll a job again and again, its times never change, and formatting them was ~5%
    of a GET's samples."""
    at = datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")
    return at.replace("+00:00", "Z")


def fax_job(job: Job) -> FaxJob:
    return FaxJob(
        id=job.id,
        to=job.to,
        status=job.status,
        pages=job.pages,
        error=job.error,
        backend=job.backend,
        provider_sid=job.provider_sid,
        created_at=utc_iso(job.created_at),
        updated_at=utc_iso(job.updated_at),
    )


def idempotency_key_of(request: Request[Any, Any, Any]) -> str | None:
    """The Idempotency-Key header (documented by SendFaxOperation); 400 when it is empty or
    too long."""
    raw = raw_header(request.scope, IDEMPOTENCY_HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise ApiError(
            ErrorCode.INVALID_REQUEST,
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters",
            {"field": "Idempotency-Key", "length": len(key)},
        )
    return key


@operation(
    "send_fax",
    tags=["fax"],
    operation_class=SendFaxOperation,
    responses=errors(400, 401, 403, 413, 415, 422, 503),
    status_code=202,
    summary="Send a fax",
    description="Queue a fax: multipart `to` (E.164) and `file` (PDF or UTF-8 text, judged by "
    "content). The job is durable before this answers 202. With an Idempotency-Key, a retried "
    "request returns the same job instead of sending again. A number the destination policy "
    "does not allow (its country, or a premium-rate or other costly kind of number) answers "
    "422 `destination_refused` before anything is stored.",
)
async def send_fax(
    request: Request[Any, Any, Any],
    jobs: NamedDependency[JobService],
) -> FaxJob:
    key = api_key_of(request)
    idempotency_key = idempotency_key_of(request)
    form = await receive_fax_form(request, jobs.uploads)
    try:
        job = await jobs.send(
            to=form.fields.get("to"),
            upload=form.upload,
            key_id=key.id,
            idempotency_key=idempotency_key,
        )
    finally:
        if form.upload is not None and isinstance(form.upload.content, Path):
            form.upload.content.unlink(missing_ok=True)  # spilled to disk; storage has a copy
    return fax_job(job)


@operation(
    "get_fax_status",
    tags=["fax"],
    responses=errors(400, 401, 403, 404),
    summary="Get a fax job and its status",
    description="A job the key created (any key's with the scope fax:read_all); another "
    "key's job answers 404 `job_not_found`, as one that does not exist.",
)
async def get_fax_status(
    request: Request[Any, Any, Any], jobs: NamedDependency[JobService], job_id: FromPath[str]
) -> FaxJob:
    return fax_job(await jobs.get(job_id, caller_of(request)))


def _time_filter(name: str, value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ApiError(
            ErrorCode.INVALID_REQUEST,
            f"`{name}` needs a time zone, such as 2026-01-31T12:00:00Z (RFC 3339)",
            {"field": name, "value": value.isoformat()},
        )
    return value.timestamp()


@operation(
    "list_faxes",
    tags=["fax"],
    responses=errors(400, 401, 403),
    summary="List fax jobs, newest first",
    description="The key's own jobs (every key's with the scope fax:read_all), newest first, "
    "`limit` at a time; `next_cursor` continues the list and "
    "is valid only with the same filters (another filter's cursor answers 400 "
    "`invalid_cursor`). The filters combine (all must match).",
)
async def list_faxes(
    request: Request[Any, Any, Any],
    jobs: NamedDependency[JobService],
    limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Parameter(max_length=200)] = None,
    status: Annotated[
        FaxStatus | None, Parameter(description="Only jobs with this status.")
    ] = None,
    to: Annotated[
        str | None,
        Parameter(
            description="Only jobs to this recipient, an E.164 number such as +12025550143.",
            max_length=32,
            schema_extra={"pattern": E164_PATTERN},
        ),
    ] = None,
    created_since: Annotated[
        datetime | None,
        Parameter(description="Only jobs created at or after this time (RFC 3339)."),
    ] = None,
    created_until: Annotated[
        datetime | None,
        Parameter(description="Only jobs created before this time (RFC 3339)."),
    ] = None,
) -> FaxJobPage:
    filters = JobFilter(
        status=status,
        to=None if to is None else valid_number(to),
        created_since=_time_filter("created_since", created_since),
        created_until=_time_filter("created_until", created_until),
    )
    found, next_cursor = await jobs.page(limit, cursor, caller_of(request), filters)
    return FaxJobPage(items=[fax_job(j) for j in found], next_cursor=next_cursor)


HANDLERS: list[Operation | HTTPRouteHandler] = [send_fax, get_fax_status, list_faxes]
