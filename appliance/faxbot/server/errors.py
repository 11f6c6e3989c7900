"""Every error answers the `ErrorBody` shape with the right status: `error` (the message),
`detail` (the same message: Faxbot v2 clients, written for FastAPI, read that field), `code`
(an ErrorCode, for programs), `details` (structured, safe to show) and `request_id` (the
`X-Request-Id` the response carries)."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from faxbot.audit import AuditUnavailable
from faxbot.inbound.service import DocumentGone, InboundNotFound
from faxbot.jobs.errors import (
    DatabaseLost,
    DatabaseUnavailable,
    DestinationRefused,
    DocumentTooComplex,
    IdempotencyConflict,
    InvalidCursor,
    InvalidNumber,
    InvalidRequest,
    JobNotFound,
    NotReceiving,
    NotSending,
    RendererBusy,
    RenderFailed,
    StorageFull,
    TooManyPages,
    UnreadableDocument,
    UnsupportedDocument,
)
from faxbot.server.error_codes import ErrorCode, code_for_status
from faxbot.server.plugin_views import UnknownPlugin
from faxbot.server.request_ids import request_id

log = logging.getLogger("faxbot.server")


class ApiError(HTTPException):
    """An error with its code, a message for the client and structured details; the status
    is the code's."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=code.status, detail=message, headers=headers)
        self.code = code
        self.details = details or {}


def error_body(
    request: Request[Any, Any, Any],
    code: ErrorCode,
    message: str,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "error": message,
        "detail": message,
        "code": code.value,
        "details": details or {},
        "request_id": request_id(request.scope),
    }


def _validation_message(request: Request[Any, Any, Any], problems: Any) -> str:
    """Litestar says "Validation failed for GET /fax"; the client wants the parameter."""
    if isinstance(problems, list) and problems and isinstance(problems[0], dict):
        first = problems[0]
        if first.get("key"):
            where = f"{first['source']} parameter" if first.get("source") else "parameter"
            return f"invalid {where} `{first['key']}`: {first.get('message', 'invalid value')}"
    return f"invalid request to {request.method} {request.url.path}"


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    details = getattr(exc, "details", None)
    code = getattr(exc, "code", None)
    if not isinstance(code, ErrorCode):
        code = code_for_status(exc.status_code)
    message = exc.detail
    if isinstance(exc, ValidationException):
        details = {"problems": exc.extra} if exc.extra else {}
        message = _validation_message(request, exc.extra)
    elif exc.status_code == 404 and message == "Not Found":
        message = f"no route {request.method} {request.url.path}"
    elif exc.status_code == 405 and message == "Method Not Allowed":
        message = f"{request.method} is not allowed on {request.url.path}"
    elif exc.status_code == 413 and not details:
        limit = request.app.state.upload_max_bytes
        message = (
            f"the request is larger than the upload limit of {limit} bytes "
            "(appliance.limits.upload_max_bytes)"
        )
        details = {"limit_bytes": limit}
    return Response(
        error_body(request, code, message, details),
        status_code=exc.status_code,
        headers=exc.headers,
    )


# The one place domain errors become HTTP: each type's code, which carries its status. A type
# is looked up along its MRO, so a subclass without its own entry answers as its base.
DOMAIN_CODES: dict[type[Exception], ErrorCode] = {
    InvalidRequest: ErrorCode.INVALID_REQUEST,
    InvalidNumber: ErrorCode.INVALID_NUMBER,
    InvalidCursor: ErrorCode.INVALID_CURSOR,
    UnsupportedDocument: ErrorCode.UNSUPPORTED_DOCUMENT,
    TooManyPages: ErrorCode.TOO_MANY_PAGES,
    UnreadableDocument: ErrorCode.UNREADABLE_DOCUMENT,
    DocumentTooComplex: ErrorCode.DOCUMENT_TOO_COMPLEX,
    RendererBusy: ErrorCode.RENDERER_BUSY,
    RenderFailed: ErrorCode.RENDER_FAILED,
    IdempotencyConflict: ErrorCode.IDEMPOTENCY_KEY_REUSED,
    JobNotFound: ErrorCode.JOB_NOT_FOUND,
    DestinationRefused: ErrorCode.DESTINATION_REFUSED,
    NotSending: ErrorCode.TRANSPORT_UNAVAILABLE,
    NotReceiving: ErrorCode.TRANSPORT_UNAVAILABLE,
    InboundNotFound: ErrorCode.INBOUND_NOT_FOUND,
    DocumentGone: ErrorCode.DOCUMENT_DELETED,
    StorageFull: ErrorCode.STORAGE_FULL,
    DatabaseLost: ErrorCode.DATABASE_LOST,
    DatabaseUnavailable: ErrorCode.DATABASE_UNAVAILABLE,
    UnknownPlugin: ErrorCode.PLUGIN_NOT_FOUND,
}


def handle_domain(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    code = next(DOMAIN_CODES[t] for t in type(exc).__mro__ if t in DOMAIN_CODES)
    details: dict[str, Any] = getattr(exc, "details", None) or {}
    retry_after = getattr(exc, "retry_after_seconds", None)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return Response(
        error_body(request, code, str(exc), details), status_code=code.status, headers=headers
    )


def handle_audit_unavailable(
    request: Request[Any, Any, Any], exc: AuditUnavailable
) -> Response[Any]:
    """An access that cannot be recorded is not served (the hipaa profile's promise)."""
    log.error(
        "audit log unavailable",
        extra={
            "event": "audit_failed",
            "reason": exc.reason,
            "request_id": request_id(request.scope),
        },
    )
    code = ErrorCode.AUDIT_UNAVAILABLE
    message = "the audit log cannot record this request; see the appliance log"
    return Response(error_body(request, code, message), status_code=code.status)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception(
        "unhandled error",
        extra={
            "event": "error",
            "path": request.url.path,
            "request_id": request_id(request.scope),
        },
    )
    code = ErrorCode.INTERNAL_ERROR
    return Response(
        error_body(request, code, "internal error; see the appliance log"),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    HTTPException: handle_http,
    **dict.fromkeys(DOMAIN_CODES, handle_domain),
    AuditUnavailable: handle_audit_unavailable,
    Exception: handle_unexpected,
}
