"""Every error answers `{"error": "<message>", "details": {...}}` with the right status."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from faxbot.audit import AuditUnavailable
from faxbot.jobs.errors import (
    DocumentRejected,
    IdempotencyConflict,
    InvalidRequest,
    JobNotFound,
    NotSending,
    UnsupportedDocument,
)
from faxbot.server.plugin_views import UnknownPlugin

log = logging.getLogger("faxbot.server")


class ApiError(HTTPException):
    """An error with a message for the client and structured details."""

    def __init__(
        self,
        status_code: int,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status_code, detail=message, headers=headers)
        self.details = details or {}


def error_body(message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": message, "details": details or {}}


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    details = getattr(exc, "details", None)
    if isinstance(exc, ValidationException):
        details = {"problems": exc.extra} if exc.extra else {}
    message = exc.detail
    if exc.status_code == 404 and message == "Not Found":
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
    return Response(error_body(message, details), status_code=exc.status_code, headers=exc.headers)


# The one place domain errors become HTTP: each type and its status.
DOMAIN_STATUS: dict[type[Exception], int] = {
    InvalidRequest: 400,
    UnsupportedDocument: 415,
    DocumentRejected: 422,
    IdempotencyConflict: 422,
    JobNotFound: 404,
    NotSending: 503,
    UnknownPlugin: 404,
}


def handle_domain(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    status = next(DOMAIN_STATUS[t] for t in type(exc).__mro__ if t in DOMAIN_STATUS)
    details: dict[str, Any] = getattr(exc, "details", None) or {}
    return Response(error_body(str(exc), details), status_code=status)


def handle_audit_unavailable(
    request: Request[Any, Any, Any], exc: AuditUnavailable
) -> Response[Any]:
    """An access that cannot be recorded is not served (the hipaa profile's promise)."""
    log.error("audit log unavailable", extra={"event": "audit_failed", "reason": exc.reason})
    return Response(
        error_body("the audit log cannot record this request; see the appliance log"),
        status_code=503,
    )


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error", extra={"event": "error", "path": request.url.path})
    return Response(
        error_body("internal error; see the appliance log"),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    HTTPException: handle_http,
    **dict.fromkeys(DOMAIN_STATUS, handle_domain),
    AuditUnavailable: handle_audit_unavailable,
    Exception: handle_unexpected,
}
