"""GET /inbound, GET /inbound/{id}, GET /inbound/{id}/pdf: received faxes, isolated by number
(inbound/service.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, Parameter, QueryParameter
from litestar.response import Stream

from faxbot.inbound.service import InboundService
from faxbot.jobs.numbers import valid_number
from faxbot.server.auth import caller_of
from faxbot.server.models import InboundFax, InboundFaxPage
from faxbot.server.openapi import E164_PATTERN, PdfOperation, errors
from faxbot.server.routes import Operation, operation
from faxbot.server.routes.fax import _time_filter, utc_iso
from faxbot.store import inbound as store
from faxbot.store.inbound import InboundFilter

PDF = "application/pdf"


def inbound_fax(fax: store.InboundFax) -> InboundFax:
    return InboundFax(
        id=fax.id,
        sender=fax.sender,
        to=fax.recipient,
        pages=fax.pages,
        status=fax.status,
        provider=fax.provider,
        provider_sid=fax.provider_sid,
        received_at=utc_iso(fax.received_at),
        document_deleted=fax.document_deleted_at is not None,
    )


def _number(name: str) -> Any:
    return QueryParameter(
        name=name,
        description=f"Only faxes {'to' if name == 'to' else 'from'} this E.164 number.",
        max_length=32,
        schema_extra={"pattern": E164_PATTERN},
    )


@operation(
    "list_inbound",
    tags=["inbound"],
    responses=errors(400, 401, 403),
    summary="List received faxes, newest first",
    description="The faxes received on the key's `inbound_numbers` (every number's with the "
    "scope inbound:read_all), newest first, `limit` at a time; `next_cursor` continues the "
    "list with the same filters. The filters combine (all must match).",
)
async def list_inbound(
    request: Request[Any, Any, Any],
    inbound: NamedDependency[InboundService],
    limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Parameter(max_length=200)] = None,
    to: Annotated[str | None, _number("to")] = None,
    sender: Annotated[str | None, _number("from")] = None,
    received_since: Annotated[
        datetime | None,
        Parameter(description="Only faxes received at or after this time (RFC 3339)."),
    ] = None,
    received_until: Annotated[
        datetime | None,
        Parameter(description="Only faxes received before this time (RFC 3339)."),
    ] = None,
) -> InboundFaxPage:
    filters = InboundFilter(
        to=None if to is None else valid_number(to),
        sender=None if sender is None else valid_number(sender),
        since=_time_filter("received_since", received_since),
        until=_time_filter("received_until", received_until),
    )
    found, next_cursor = await inbound.page(limit, cursor, caller_of(request), filters)
    return InboundFaxPage(items=[inbound_fax(f) for f in found], next_cursor=next_cursor)


@operation(
    "get_inbound",
    tags=["inbound"],
    responses=errors(400, 401, 403, 404),
    summary="Get a received fax",
    description="A fax received on one of the key's `inbound_numbers` (any with the scope "
    "inbound:read_all); another number's fax answers 404 `inbound_not_found`, as one that "
    "does not exist.",
)
async def get_inbound(
    request: Request[Any, Any, Any],
    inbound: NamedDependency[InboundService],
    id: FromPath[str],
) -> InboundFax:
    return inbound_fax(await inbound.get(id, caller_of(request)))


@operation(
    "get_inbound_pdf",
    tags=["inbound"],
    responses={
        200: ResponseSpec(
            data_container=bytes,
            media_type=PDF,
            description="The received fax's PDF, streamed.",
            generate_examples=False,
        ),
        **errors(400, 401, 403, 404, 410),
    },
    media_type=PDF,
    operation_class=PdfOperation,
    summary="Download a received fax's PDF",
    description="The PDF as the provider delivered it, streamed as `application/pdf`. 404 as "
    "for GET /inbound/{id}; 410 `document_deleted` once retention deleted the document.",
)
async def get_inbound_pdf(
    request: Request[Any, Any, Any],
    inbound: NamedDependency[InboundService],
    id: FromPath[str],
) -> Stream:
    fax, chunks = await inbound.document(id, caller_of(request))
    return Stream(
        chunks,
        media_type=PDF,
        headers={"Content-Disposition": f'attachment; filename="{fax.id}.pdf"'},
    )


HANDLERS: list[Operation | HTTPRouteHandler] = [list_inbound, get_inbound, get_inbound_pdf]
