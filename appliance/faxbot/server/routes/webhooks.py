"""POST /webhooks/{plugin_id}: a provider's callback. No API key: the plugin verifies the
request (its signature or credentials). The body is bounded by
`appliance.limits.webhook_body_bytes`: a Content-Length over it is answered 413 before anything
is read, and a chunked body is counted as it arrives and refused at the limit. Form, multipart
and JSON bodies become a WebhookRequest whose `url` is the one the provider called (and
signed): `appliance.public_url` + path + query.

A verified webhook is never throttled by the unauthenticated rate limit (a provider sends
bursts of callbacks); a rejected one counts against its address, and an address over the
limit gets 429 instead of 401 for its next rejected ones."""

from __future__ import annotations

import urllib.parse
from typing import Any

from litestar import Request, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from multipart import MultipartError, MultipartSegment, PushMultipartParser, parse_options_header

from faxbot.plugins.contract import WebhookRequest
from faxbot.server.auth import rate_limited
from faxbot.server.error_codes import ErrorCode
from faxbot.server.errors import ApiError
from faxbot.server.lifecycle import Appliance
from faxbot.server.ratelimit import RateLimits
from faxbot.webhooks.service import Rejected, UnknownWebhook

MAX_PARTS = 64  # form fields and files of one multipart webhook


def _too_large(limit: int) -> ApiError:
    return ApiError(
        ErrorCode.WEBHOOK_TOO_LARGE,
        f"the webhook body is larger than {limit} bytes (appliance.limits.webhook_body_bytes)",
        {"limit_bytes": limit},
    )


async def _body(request: Request[Any, Any, Any], limit: int) -> bytes:
    """The whole body, refused (413) as soon as it is known to exceed `limit`."""
    if (request.content_length or 0) > limit:
        raise _too_large(limit)
    received = bytearray()
    try:
        async for chunk in request.stream():  # the route's own limit is `limit` too
            if len(received) + len(chunk) > limit:
                raise _too_large(limit)
            received += chunk
    except HTTPException as exc:
        if exc.status_code == 413 and not isinstance(exc, ApiError):
            raise _too_large(limit) from None
        raise
    return bytes(received)


def _form(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    """Form fields and file parts of a form-urlencoded or multipart body; none for JSON."""
    kind, options = parse_options_header(content_type)
    if kind == "application/x-www-form-urlencoded":
        text = body.decode("utf-8", errors="replace")
        return dict(urllib.parse.parse_qsl(text, keep_blank_values=True)), {}
    if kind != "multipart/form-data" or not options.get("boundary"):
        return {}, {}
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    parser = PushMultipartParser(str(options["boundary"]), max_segment_count=MAX_PARTS)
    part: MultipartSegment | None = None
    value = bytearray()
    try:
        for event in parser.parse(body):
            if isinstance(event, MultipartSegment):
                part, value = event, bytearray()
            elif event is None:
                if part is not None:
                    if part.filename is not None:
                        files[part.name] = bytes(value)
                    else:
                        fields[part.name] = value.decode("utf-8", errors="replace")
                part = None
            else:
                value += event
        parser.close()
    except MultipartError as exc:
        raise ApiError(ErrorCode.INVALID_REQUEST, f"malformed multipart body: {exc}") from None
    return fields, files


def _signed_url(request: Request[Any, Any, Any], public_url: str | None) -> str:
    """The URL the provider called: under public_url (what it was given, and signed)."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    path = request.scope["path"]
    # without public_url: as this appliance was reached
    base = public_url.rstrip("/") + path if public_url else str(request.url).split("?", 1)[0]
    return f"{base}?{query}" if query else base


def handler(limit: int) -> HTTPRouteHandler:
    """The route, with the body limit of this appliance (its request_max_body_size too, so
    that the app-wide upload limit does not apply to webhooks)."""

    @post(
        "/webhooks/{plugin_id:str}",
        include_in_schema=False,
        status_code=200,
        request_max_body_size=limit,
    )
    async def receive_webhook(
        request: Request[Any, Any, Any],
        appliance: NamedDependency[Appliance],
        plugin_id: FromPath[str],
    ) -> dict[str, Any]:
        service = appliance.webhooks
        if not service.knows(plugin_id):
            raise ApiError(
                ErrorCode.WEBHOOK_NOT_FOUND,
                f"no running plugin {plugin_id[:64]!r} takes webhooks",
                {"plugin_id": plugin_id[:64]},
            )
        limits: RateLimits = request.app.state.rate_limits
        client = request.scope.get("client")
        address = client[0] if client else ""
        throttled = limits.address_wait(address)
        body = await _body(request, limit)
        headers: dict[str, str] = {}
        for name, value in request.scope["headers"]:
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        fields, files = _form(headers.get("content-type", ""), body)
        webhook = WebhookRequest(
            url=_signed_url(request, appliance.artifact.appliance.public_url),
            method=request.method,
            headers=headers,
            body=body,
            fields=fields,
            files=files,
        )
        try:
            applied = await service.receive(plugin_id, webhook)
        except UnknownWebhook:
            raise ApiError(ErrorCode.WEBHOOK_NOT_FOUND, f"no plugin {plugin_id!r}") from None
        except Rejected:
            limits.unauthenticated_request(address)
            if throttled:
                raise rate_limited(throttled, {"limit": "unauthenticated"}) from None
            raise ApiError(
                ErrorCode.WEBHOOK_REJECTED,
                "the webhook could not be verified; nothing was changed",
                {"plugin_id": plugin_id},
            ) from None
        return {"status": "ok", "events": applied.counts}

    return receive_webhook
