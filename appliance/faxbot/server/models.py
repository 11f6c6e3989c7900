"""What the API answers with. These types, with the routes' operationIds, are the source the
OpenAPI spec and the SDKs are generated from."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from faxbot.plugins.contract import FaxStatus
from faxbot.server.error_codes import ErrorCode
from faxbot.server.warning_codes import WarningCode

# A time on the wire: an RFC 3339 string in UTC with milliseconds, such as
# 2026-01-31T12:00:00.123Z (kept a string: the v2 shape, and the exact text clients see).
DateTime = Annotated[
    str,
    msgspec.Meta(
        extra_json_schema={
            "description": "An RFC 3339 date-time in UTC, such as 2026-01-31T12:00:00.123Z.",
            "extra": {"format": "date-time"},
        }
    ),
]


class FaxJob(msgspec.Struct, kw_only=True):
    """A fax job, as Faxbot v2 clients know it."""

    id: str
    to: str
    status: FaxStatus
    pages: int
    error: str | None
    backend: str
    provider_sid: str | None
    created_at: DateTime
    updated_at: DateTime


class FaxJobPage(msgspec.Struct, kw_only=True):
    items: list[FaxJob]
    next_cursor: str | None


class InboundFax(msgspec.Struct, kw_only=True):
    """A received fax. `from` and `to` are E.164 numbers when the provider gave them; the PDF
    is at GET /inbound/{id}/pdf until retention deletes it (`document_deleted`)."""

    id: str
    sender: str | None = msgspec.field(name="from")
    to: str | None
    pages: int | None
    status: str
    provider: str
    provider_sid: str
    received_at: DateTime
    document_deleted: bool


class InboundFaxPage(msgspec.Struct, kw_only=True):
    items: list[InboundFax]
    next_cursor: str | None


class ErrorBody(msgspec.Struct, kw_only=True):
    """The body of every error. `code` is for programs (accept codes you do not know);
    `error` is the message for people, `detail` the same message for Faxbot v2 clients."""

    error: str
    detail: str
    code: ErrorCode
    details: dict[str, Any]
    request_id: str


class PluginSummary(msgspec.Struct, kw_only=True):
    id: str
    name: str
    version: str
    description: str
    categories: list[str]
    capabilities: list[str]
    slots: list[str]
    enabled: bool


class PluginDetail(msgspec.Struct, kw_only=True):
    id: str
    name: str
    version: str
    description: str
    categories: list[str]
    capabilities: list[str]
    slots: list[str]
    enabled: bool
    manifest: dict[str, Any]


class PluginConfig(msgspec.Struct, kw_only=True):
    id: str
    slots: dict[str, dict[str, Any]]  # slot -> {enabled, version, settings (secrets masked)}
    sources: dict[str, str]  # setting path -> file:line in config.d
    # secret setting path (as in sources) -> its reference as written, `${env:NAME}` or
    # `${file:/path}`; a secret that is not a valid reference is never listed
    secret_references: dict[str, str]


class ConfigSummary(msgspec.Struct, kw_only=True):
    fingerprint: str
    profile: str
    compiled_at: str | None
    source_revision: str | None
    operations: list[str]
    mcp_tools: list[str]


class KeyInfo(msgspec.Struct, kw_only=True):
    id: str
    scopes: list[str]
    operations: list[str]  # served here and allowed by the key's scopes (operationIds)


class Health(msgspec.Struct, kw_only=True):
    status: str
    checks: dict[str, Any]


class Versions(msgspec.Struct, kw_only=True):
    faxbot: str
    python: str
    plugins: dict[str, str]  # plugin id -> the installed distribution's version


class PluginHealth(msgspec.Struct, kw_only=True):
    ok: bool
    detail: str  # short: the plugin's own health detail, or why there is none


class PluginDiagnosis(msgspec.Struct, kw_only=True):
    slots: list[str]
    enabled: bool
    version: str
    health: PluginHealth


class ActiveCapabilities(msgspec.Struct, kw_only=True):
    """What this appliance serves, as GET /config says it."""

    by_slot: dict[str, list[str]]
    operations: list[str]
    mcp_tools: list[str]


class DiagnosticWarning(msgspec.Struct, kw_only=True):
    code: WarningCode
    message: str
    subject: str | None = None  # what it is about, e.g. an API key's id


class RecentError(msgspec.Struct, frozen=True, kw_only=True):
    """A problem the appliance logged: its structured fields only, never the message."""

    at: DateTime
    level: str  # warning | error | critical
    event: str | None  # the log line's event, e.g. send_outcome_unknown
    code: str | None  # the line's code, else the exception's class name
    plugin: str | None  # the plugin it is about, when the line names one


class Diagnostics(msgspec.Struct, kw_only=True):
    """What a support ticket needs to know about this appliance, secrets, numbers and tokens
    masked: its identity, versions, readiness checks, plugins, warnings and recent errors."""

    generated_at: DateTime
    versions: Versions
    fingerprint: str
    profile: str
    compiled_at: str | None
    source_revision: str | None
    replica: str
    checks: dict[str, Any]  # the readiness checks, as GET /health/ready computes them
    plugins: dict[str, PluginDiagnosis]
    capabilities: ActiveCapabilities
    warnings: list[DiagnosticWarning]
    recent_errors: list[RecentError]  # newest first
