"""Typed errors: one class per status the API answers with, all carrying the API's
`{"error": <message>, "details": {...}}` body as `.message` and `.details`."""

from __future__ import annotations

import json
from typing import Any

import httpx


class FaxbotError(Exception):
    """An error from the Faxbot API, or no answer from it (`status` is None)."""

    def __init__(
        self, message: str, *, status: int | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
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
    """404: no such job, or the appliance does not serve the operation."""


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
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, details=details)
        self.retry_after = retry_after


class ServerError(FaxbotError):
    """5xx: the appliance failed, or is starting or without a transport (503)."""


class ConnectionFailed(FaxbotError):
    """No answer: the connection failed or timed out on every attempt."""


_BY_STATUS: dict[int, type[FaxbotError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    422: UnprocessableError,
}


def _body(response: httpx.Response) -> tuple[str, dict[str, Any]]:
    """The API's message and details; a proxy's or a crashed server's body is not JSON."""
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        details = body.get("details")
        return body["error"], details if isinstance(details, dict) else {}
    text = response.text.strip()[:200]
    reason = response.reason_phrase or "error"
    return f"HTTP {response.status_code} {reason}" + (f": {text}" if text else ""), {}


def error_for(response: httpx.Response, retry_after: float | None = None) -> FaxbotError:
    message, details = _body(response)
    status = response.status_code
    if status == 429:
        return RateLimitError(message, details=details, retry_after=retry_after)
    if status >= 500:
        return ServerError(message, status=status, details=details)
    kind = _BY_STATUS.get(status, FaxbotError)
    return kind(message, status=status, details=details)


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
    "error_for",
]
