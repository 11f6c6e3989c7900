"""The Faxbot Python SDK: `Faxbot()` sends faxes, follows their jobs and calls every other
operation of the appliance's API.

The model code under `faxbot_client._generated` is generated from the appliance's OpenAPI spec
by `faxbot codegen`; import its types from here or from `faxbot_client.models`, never from
`_generated`. This package's other modules are written by hand."""

from faxbot_client._generated.models import (
    ConfigSummary,
    Diagnostics,
    ErrorCode,
    FaxJob,
    FaxJobPage,
    FaxStatus,
    Health,
    InboundFax,
    InboundFaxPage,
    KeyInfo,
    PluginConfig,
    PluginDetail,
    PluginSummary,
)
from faxbot_client.client import TERMINAL, Faxbot
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
    WaitTimeout,
)
from faxbot_client.retry import Backoff, Polling
from faxbot_client.uploads import Document

__version__ = "3.0.0.dev0"

__all__ = [
    "TERMINAL",
    "AuthenticationError",
    "Backoff",
    "BadRequestError",
    "ConfigSummary",
    "ConnectionFailed",
    "Diagnostics",
    "Document",
    "ErrorCode",
    "FaxJob",
    "FaxJobPage",
    "FaxStatus",
    "Faxbot",
    "FaxbotError",
    "Health",
    "InboundFax",
    "InboundFaxPage",
    "KeyInfo",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PluginConfig",
    "PluginDetail",
    "PluginSummary",
    "Polling",
    "RateLimitError",
    "ServerError",
    "UnprocessableError",
    "UnsupportedMediaTypeError",
    "WaitTimeout",
]
