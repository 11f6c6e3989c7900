"""Typed errors: one class per status the API answers with, all carrying the API's error body
`{"error", "code", "details", "request_id"}` as `.message`, `.code`, `.details` and
`.request_id`, and the HTTP status as `.status`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from faxbot_client._generated.models import FaxJob


class FaxbotError(Exception):
    """An error from the Faxbot API, or no answer from it (`status` is None).

    `code` is the API's machine-readable code (`invalid_number`, `job_not_found`, ...), kept
    as the string the appliance sent, also when this SDK does not know it; None when the
    answer was not the API's (a proxy's page) or there was none. `request_id` is the
    appliance's id of the request (from the body, else its X-Request-Id header; when there
    was no answer, the id this SDK sent): quote it when asking an operator."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.details: dict[str, Any] = details or {}

    def __str__(self) -> str:
        return self.message if self.status is None else f"{self.status}: {self.message}"


class BadRequestError(FaxbotError):
    """400: a missing or invalid field, e.g. a number that is not E.164."""


class AuthenticationError(FaxbotError):
    """401: no API key, or an invalid or expired one."""


class PermissionDeniedError(FaxbotError):
    """403: the API key lacks the scope the operation needs (`details["required_scope"]`)."""


class NotFoundError(FaxbotError):
    """404: no such job or plugin, or the appliance does not serve the operation."""


class PayloadTooLargeError(FaxbotError):
    """413: the document is over the appliance's upload limit (`details["limit_bytes"]`)."""


class UnsupportedMediaTypeError(FaxbotError):
    """415: the document is neither a PDF nor UTF-8 text."""


class UnprocessableError(FaxbotError):
    """422: an unreadable PDF, too many pages, or an Idempotency-Key reused for another fax."""


class RateLimitError(FaxbotError):
    """429: too many requests; `retry_after` is the wait the server asked for, in seconds."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = 429,
        code: str | None = None,
        request_id: str | None = None,
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, request_id=request_id, details=details)
        self.retry_after = retry_after


class ServerError(FaxbotError):
    """5xx: the appliance failed, or is starting or without a transport (503)."""


class ConnectionFailed(FaxbotError):
    """No answer: the connection failed or timed out on every attempt."""


class WaitTimeout(FaxbotError):
    """`Faxbot.wait` reached its deadline before the job reached SUCCESS or FAILED; `job` is
    the last state seen."""

    def __init__(self, message: str, *, job: FaxJob, request_id: str | None = None) -> None:
        super().__init__(message, request_id=request_id)
        self.job = job


_BY_STATUS: dict[int, type[FaxbotError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    422: UnprocessableError,
}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def error_for(
    response: httpx.Response, retry_after: float | None = None, sent_id: str | None = None
) -> FaxbotError:
    """The error an answer means. A proxy's or a crashed server's body is not the API's: the
    message is then the status and the start of the body, and `code` None."""
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    request_id = _text(response.headers.get("X-Request-Id")) or sent_id
    code: str | None = None
    details: dict[str, Any] = {}
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        message: str = body["error"]
        code = _text(body.get("code"))
        request_id = _text(body.get("request_id")) or request_id
        if isinstance(body.get("details"), dict):
            details = body["details"]
    else:
        text = response.text.strip()[:200]
        reason = response.reason_phrase or "error"
        message = f"HTTP {response.status_code} {reason}" + (f": {text}" if text else "")
    status = response.status_code
    if status == 429:
        return RateLimitError(
            message, code=code, request_id=request_id, details=details, retry_after=retry_after
        )
    kind = ServerError if status >= 500 else _BY_STATUS.get(status, FaxbotError)
    return kind(message, status=status, code=code, request_id=request_id, details=details)


__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ConnectionFailed",
    "FaxbotError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "UnprocessableError",
    "UnsupportedMediaTypeError",
    "WaitTimeout",
    "error_for",
]
