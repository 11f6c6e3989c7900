"""The Faxbot Python SDK: `Faxbot(base_url, api_key)` sends faxes and follows their jobs.

The request and model code under `faxbot_client._generated` is generated from the appliance's
OpenAPI spec by `faxbot codegen`; this package's other modules are written by hand."""

from faxbot_client._generated.models import FaxJob, FaxJobPage
from faxbot_client.client import Faxbot
from faxbot_client.errors import (
    AuthenticationError,
    BadRequestError,
    ConnectionFailed,
    FaxbotError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnprocessableError,
    UnsupportedMediaTypeError,
)
from faxbot_client.retry import Backoff
from faxbot_client.uploads import Document

__version__ = "3.0.0.dev0"

__all__ = [
    "AuthenticationError",
    "Backoff",
    "BadRequestError",
    "ConnectionFailed",
    "Document",
    "FaxJob",
    "FaxJobPage",
    "Faxbot",
    "FaxbotError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "UnprocessableError",
    "UnsupportedMediaTypeError",
]
