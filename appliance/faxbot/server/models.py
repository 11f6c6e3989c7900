"""What the API answers with. These types, with the routes' operationIds, are the source the
OpenAPI spec and the SDKs are generated from."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar.params import KwargDefinition

from faxbot.plugins.contract import FaxStatus

# An RFC 3339 time, such as 2026-01-31T12:00:00.123Z: a string on the wire, typed as a
# date-time in the spec so that the SDKs read it as one.
DateTime = Annotated[str, KwargDefinition(format="date-time")]


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


class ErrorBody(msgspec.Struct, kw_only=True):
    error: str
    details: dict[str, Any]


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


class ConfigSummary(msgspec.Struct, kw_only=True):
    fingerprint: str
    profile: str
    compiled_at: str | None
    source_revision: str | None
    operations: list[str]
    mcp_tools: list[str]


class Health(msgspec.Struct, kw_only=True):
    status: str
    checks: dict[str, Any]
