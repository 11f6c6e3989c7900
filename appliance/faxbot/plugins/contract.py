"""The whole plugin contract, in one file a plugin author can read start to end.

A plugin is a Python distribution `faxbot_plugin_<name>` with an entry point in group
`faxbot.plugins` whose name is the plugin id and whose object is a `Plugin` subclass:

    [project.entry-points."faxbot.plugins"]
    test = "faxbot_plugin_test:TestTransport"

The class carries its `manifest` (see `load_manifest`; schema in
docs/schemas/plugin-manifest.schema.json). For every capability the manifest claims, the class
defines the method of the same name (`health_check` is the `health` method); the compiler
refuses a manifest that claims a capability its class does not implement.

Lifecycle, driven by the appliance for the plugins the artifact names, and only those:
`validate_config(settings)` at compile time (beyond the manifest's `config_schema`), then
`start(settings, deps)` within a time budget (warn over 2 s, fail over 10 s), `stop()` at
shutdown, and `health()` when the plugin offers `health_check`. A plugin gets only its own
settings, with secret references already resolved, and the core services in `Deps`.
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

SLOTS = ("outbound", "inbound", "storage", "auth")
START_WARN_SECONDS = 2.0
START_FAIL_SECONDS = 10.0


@dataclass(frozen=True)
class Manifest:
    id: str
    name: str
    version: str
    description: str
    platform: str
    categories: tuple[str, ...]
    capabilities: tuple[str, ...]
    config_schema: Mapping[str, Any]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    plaintext: bool = False  # talks to its backend unencrypted: refused by the hipaa profile
    author: str | None = None
    homepage: str | None = None
    license: str | None = None
    ui: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


def manifest_from(raw: Mapping[str, Any]) -> Manifest:
    """A Manifest from its JSON form. Its shape is checked by discovery, not here."""
    return Manifest(
        id=raw["id"],
        name=raw["name"],
        version=raw["version"],
        description=raw["description"],
        platform=raw["platform"],
        categories=tuple(raw["categories"]),
        capabilities=tuple(raw["capabilities"]),
        config_schema=raw["config_schema"],
        defaults=raw.get("defaults", {}),
        plaintext=raw.get("plaintext", False),
        author=raw.get("author"),
        homepage=raw.get("homepage"),
        license=raw.get("license"),
        ui=raw.get("ui", {}),
        raw=raw,
    )


def load_manifest(package: str, filename: str = "manifest.json") -> Manifest:
    """Read a plugin's manifest shipped as package data."""
    return manifest_from(json.loads(resources.files(package).joinpath(filename).read_text("utf-8")))


@dataclass(frozen=True)
class SettingProblem:
    """A problem `validate_config` found: `path` is inside the plugin's settings."""

    path: tuple[str | int, ...]
    message: str


@dataclass(frozen=True)
class Deps:
    """Core services a plugin may use. Plugins never read the process environment."""

    data_dir: Path
    logger: logging.Logger


class FaxStatus(enum.StrEnum):
    """The v2 job status values, kept for v2 clients."""

    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


@dataclass(frozen=True)
class OutboundFax:
    job_id: str
    to: str  # E.164
    document: Path  # a PDF the core stored; never a client's file name
    pages: int


@dataclass(frozen=True)
class SendReceipt:
    provider_sid: str
    status: FaxStatus = FaxStatus.IN_PROGRESS


@dataclass(frozen=True)
class StatusUpdate:
    status: FaxStatus
    pages: int | None = None
    error: str | None = None


class TransportError(Exception):
    """A transport failed. `retryable` is True only where sending again cannot duplicate a fax
    (the provider surely did not accept it: connection refused, 429, 503 before acceptance)."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str = ""


class Plugin:
    """Base class of every plugin. Subclasses add the methods of the capabilities they claim:

    outbound: `async send(fax: OutboundFax) -> SendReceipt`,
              `async get_status(provider_sid: str) -> StatusUpdate`,
              optional `async find_sent(job_id: str) -> SendReceipt | None`: the earlier
              hand-over of this job if the provider has it. With it, a job whose hand-over
              was cut short by a crash is looked up, then sent only if the provider never got
              it; without it, such a job ends FAILED rather than risk a second fax.
    inbound:  `async list_inbound(...)`, `async get_inbound_pdf(...)`, `async ingest_webhook(...)`
    storage:  `async put(key: str, chunks: AsyncIterator[bytes]) -> int`,
              `async get(key: str) -> Path`, `async delete(key: str) -> None`,
              optional `async put_file(key: str, path: Path) -> int`: store a file the core
              no longer needs (the plugin may move it); used instead of `put` when offered
    auth:     `async validate_token(token: str) -> Sequence[str] | None` (scopes, or None)
    any:      `async health() -> Health` for the `health_check` capability
    """

    manifest: ClassVar[Manifest]

    def validate_config(self, settings: Mapping[str, Any]) -> Sequence[SettingProblem]:
        """Checks the JSON Schema cannot express. `settings` has defaults applied and secret
        references unresolved. Return every problem, not only the first."""
        return ()

    async def start(self, settings: Mapping[str, Any], deps: Deps) -> None:
        """Open connections and resources. Must finish within START_FAIL_SECONDS."""

    async def stop(self) -> None:
        """Release what `start` opened. Called once, also after a failed start."""


# The method that implements each capability, where it differs from the capability's name.
CAPABILITY_METHODS: Mapping[str, str] = {"health_check": "health"}


def implements(plugin_cls: type[Plugin], capability: str) -> bool:
    method = CAPABILITY_METHODS.get(capability, capability)
    return callable(getattr(plugin_cls, method, None))


__all__ = [
    "SLOTS",
    "START_FAIL_SECONDS",
    "START_WARN_SECONDS",
    "AsyncIterator",
    "Deps",
    "FaxStatus",
    "Health",
    "Manifest",
    "OutboundFax",
    "Plugin",
    "SendReceipt",
    "SettingProblem",
    "StatusUpdate",
    "TransportError",
    "implements",
    "load_manifest",
    "manifest_from",
]
