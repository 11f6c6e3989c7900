"""POST /fax, GET /fax/{id}, GET /fax."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from litestar import Request, get, post
from litestar.params import FromPath, Parameter

from faxbot.documents.kinds import DocumentError, UnsupportedDocument
from faxbot.documents.prepare import TooManyPages, prepare
from faxbot.server.auth import SCOPE_OPT, api_key_of
from faxbot.server.errors import ApiError
from faxbot.server.headers import raw_header
from faxbot.server.models import FaxJob, FaxJobPage
from faxbot.server.openapi import SECURITY, SendFaxOperation, errors
from faxbot.server.runtime import Appliance
from faxbot.server.uploads import receive_fax_form
from faxbot.store.jobs import BadCursor

E164_HINT = "an E.164 number such as +12025550143"
IDEMPOTENCY_HEADER = b"idempotency-key"
MAX_IDEMPOTENCY_KEY = 255
INLINE_PREPARE_BYTES = 256 * 1024  # judged and counted on the event loop below this size


def appliance_of(request: Request[Any, Any, Any]) -> Appliance:
    found: Appliance = request.app.state.appliance
    return found


def idempotency_key_of(request: Request[Any, Any, Any]) -> str | None:
    """The Idempotency-Key header (documented by SendFaxOperation); 400 when it is empty or
    too long."""
    raw = raw_header(request.scope, IDEMPOTENCY_HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise ApiError(
            400,
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters",
            {"field": "Idempotency-Key", "length": len(key)},
        )
    return key


def valid_number(raw: str | None) -> str:
    """`raw` as an E.164 number, or ApiError 400 naming the problem."""
    if not raw:
        raise ApiError(400, f"missing field `to`: {E164_HINT}", {"field": "to"})
    text = raw.strip()
    if _e164(text) is None:
        raise ApiError(400, f"`to` must be {E164_HINT}", {"field": "to", "value": text[:32]})
    return text


@functools.lru_cache(maxsize=4096)
def _e164(text: str) -> str | None:
    """`text` if it is a valid number written in E.164, else None. Cached: checking a number
    with phonenumbers takes ~20 us, and a fax appliance sends to the same numbers again and
    again (a clinic's pharmacies, a firm's courts)."""
    import phonenumbers  # its metadata loads on the first fax, not at start

    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if formatted != text or not phonenumbers.is_valid_number(number):
        return None
    return formatted


@post(
    "/fax",
    operation_id="send_fax",
    tags=["fax"],
    security=SECURITY,
    operation_class=SendFaxOperation,
    responses=errors(400, 401, 403, 413, 415, 422, 503),
    status_code=202,
    opt={SCOPE_OPT: "fax:send"},
    summary="Send a fax",
    description="Queue a fax: multipart `to` (E.164) and `file` (PDF or UTF-8 text, judged by "
    "content). The job is durable before this answers 202. With an Idempotency-Key, a retried "
    "request returns the same job instead of sending again.",
)
async def send_fax(request: Request[Any, Any, Any]) -> FaxJob:
    appliance = appliance_of(request)
    key = api_key_of(request)
    idempotency_key = idempotency_key_of(request)
    form = await receive_fax_form(request, appliance.incoming, appliance.upload_max_bytes)
    try:
        to = valid_number(form.fields.get("to"))
        upload = form.document
        if upload is None:
            raise ApiError(
                400, "missing field `file`: a PDF or UTF-8 text document", {"field": "file"}
            )
        request_hash = hashlib.sha256(f"{to}\n{form.sha256}".encode()).hexdigest()
        if idempotency_key is not None:
            earlier = await anyio.to_thread.run_sync(
                appliance.store.by_idempotency_key, key.id, idempotency_key
            )
            if earlier is not None:
                return appliance.replay(earlier, request_hash)
        try:
            if form.size <= INLINE_PREPARE_BYTES:  # cheaper than a thread hop
                document = prepare(upload, max_pages=appliance.max_pages)
            else:
                document = await anyio.to_thread.run_sync(
                    lambda: prepare(upload, max_pages=appliance.max_pages)
                )
        except UnsupportedDocument as exc:
            raise ApiError(415, str(exc), {"field": "file"}) from None
        except TooManyPages as exc:
            raise ApiError(422, str(exc), {"field": "file"}) from None
        except DocumentError as exc:
            raise ApiError(422, str(exc), {"field": "file"}) from None
        return await appliance.queue_job(
            to=to,
            document=document.content,
            pages=document.pages,
            api_key_id=key.id,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
        )
    finally:
        if isinstance(form.document, Path):  # spilled to disk; stored documents were moved
            form.document.unlink(missing_ok=True)


@get(
    "/fax/{job_id:str}",
    operation_id="get_fax_status",
    tags=["fax"],
    security=SECURITY,
    responses=errors(400, 401, 403, 404),
    opt={SCOPE_OPT: "fax:read"},
    summary="Get a fax job and its status",
)
async def get_fax_status(request: Request[Any, Any, Any], job_id: FromPath[str]) -> FaxJob:
    job = await appliance_of(request).job_view(job_id)
    if job is None:
        raise ApiError(404, f"no fax job with id {job_id[:64]!r}", {"id": job_id[:64]})
    return job


@get(
    "/fax",
    operation_id="list_faxes",
    tags=["fax"],
    security=SECURITY,
    responses=errors(400, 401, 403),
    opt={SCOPE_OPT: "fax:read"},
    summary="List fax jobs, newest first",
)
async def list_faxes(
    request: Request[Any, Any, Any],
    limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Parameter(max_length=200)] = None,
) -> FaxJobPage:
    appliance = appliance_of(request)
    try:
        jobs, next_cursor = await anyio.to_thread.run_sync(appliance.store.page, limit, cursor)
    except BadCursor as exc:
        raise ApiError(400, str(exc), {"field": "cursor"}) from None
    return FaxJobPage(items=[appliance.view(j) for j in jobs], next_cursor=next_cursor)


HANDLERS = [send_fax, get_fax_status, list_faxes]
