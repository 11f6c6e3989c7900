"""Plugins that exist only for tests, discovered through injected entry points (like pytest's
own tests fake importlib.metadata) so nothing has to be installed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any, ClassVar

from faxbot.plugins.contract import (
    Manifest,
    OutboundFax,
    Plugin,
    SendReceipt,
    SettingProblem,
    StatusUpdate,
    TokenGrant,
    TokenValidator,
    manifest_from,
)
from faxbot.plugins.discovery import GROUP, PluginSource


def manifest(**overrides: Any) -> Manifest:
    raw: dict[str, Any] = {
        "id": "fake",
        "name": "Fake",
        "version": "1.0.0",
        "description": "A plugin for tests.",
        "platform": "python",
        "categories": ["outbound"],
        "capabilities": ["send", "get_status"],
        "config_schema": {
            "type": "object",
            "additionalProperties": False,
            "required": ["account"],
            "properties": {
                "account": {"type": "string", "minLength": 3},
                "secret": {"type": "string", "format": "password", "minLength": 20},
                "callback_url": {"type": "string"},
                "retries": {"type": "integer", "minimum": 0},
            },
        },
        "defaults": {"retries": 2},
    }
    raw.update(overrides)
    return manifest_from(raw)


class FakeOutbound(Plugin):
    """Valid; validate_config rejects an account named 'forbidden'."""

    manifest: ClassVar[Manifest] = manifest()

    def validate_config(self, settings: Mapping[str, Any]) -> Sequence[SettingProblem]:
        if settings.get("account") == "forbidden":
            return [SettingProblem(("account",), "this account is closed")]
        return ()

    async def send(self, fax: OutboundFax) -> SendReceipt:
        return SendReceipt(provider_sid=fax.job_id)

    async def get_status(self, provider_sid: str) -> StatusUpdate:
        raise NotImplementedError


class ClaimsTooMuch(Plugin):
    """Claims get_status but does not implement it."""

    manifest: ClassVar[Manifest] = manifest(id="greedy", capabilities=["send", "get_status"])

    async def send(self, fax: OutboundFax) -> SendReceipt:
        return SendReceipt(provider_sid=fax.job_id)


class WrongSlotCapability(Plugin):
    """Claims a storage capability while only offering the outbound slot."""

    manifest: ClassVar[Manifest] = manifest(
        id="confused", capabilities=["send", "get_status", "put"]
    )

    async def send(self, fax: OutboundFax) -> SendReceipt:
        return SendReceipt(provider_sid=fax.job_id)

    async def get_status(self, provider_sid: str) -> StatusUpdate:
        raise NotImplementedError

    async def put(self, key: str, chunks: Any) -> int:
        return 0


class WrongSignatures(Plugin):
    """Implements its capabilities with methods the core cannot call: a plain `def`, a
    renamed parameter, an extra parameter without a default."""

    manifest: ClassVar[Manifest] = manifest(id="wrongsig")

    def send(self, job: OutboundFax) -> SendReceipt:  # not async, and not `fax`
        return SendReceipt(provider_sid=job.job_id)

    async def get_status(self, provider_sid: str, region: str) -> StatusUpdate:
        raise NotImplementedError


class FakeAuth(Plugin, TokenValidator):
    """An identity provider that knows one token: `sso-token`, a reader named sso-user."""

    manifest: ClassVar[Manifest] = manifest(
        id="sso",
        categories=["auth"],
        capabilities=["validate_token"],
        config_schema={"type": "object", "additionalProperties": False},
        defaults={},
    )

    async def validate_token(self, token: str) -> TokenGrant | None:
        if token == "sso-token":
            return TokenGrant(key_id="sso-user", scopes=frozenset({"fax:read"}))
        return None


class BadManifest(Plugin):
    manifest: ClassVar[Manifest] = manifest(id="badmanifest", version="one", platform="cobol")


class NotAPlugin:
    pass


FAKES = {
    "fake": "tests.fake_plugins:FakeOutbound",
    "greedy": "tests.fake_plugins:ClaimsTooMuch",
    "confused": "tests.fake_plugins:WrongSlotCapability",
    "wrongsig": "tests.fake_plugins:WrongSignatures",
    "sso": "tests.fake_plugins:FakeAuth",
    "badmanifest": "tests.fake_plugins:BadManifest",
    "notaplugin": "tests.fake_plugins:NotAPlugin",
    "brokenimport": "tests.no_such_module:Plugin",
}


def fake_entry_points(include_installed: bool = True) -> list[metadata.EntryPoint]:
    eps = [metadata.EntryPoint(name, value, GROUP) for name, value in FAKES.items()]
    if include_installed:
        eps += list(metadata.entry_points(group=GROUP))
    return eps


def fake_source(include_installed: bool = True) -> PluginSource:
    return PluginSource(lambda: fake_entry_points(include_installed))
