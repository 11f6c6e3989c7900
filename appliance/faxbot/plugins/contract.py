"""The whole plugin contract, in one file a plugin author can read start to end. A plugin
imports this module and nothing else of faxbot.

A plugin is a Python distribution `faxbot_plugin_<name>` with an entry point in group
`faxbot.plugins` whose name is the plugin id and whose object is a `Plugin` subclass:

    [project.entry-points."faxbot.plugins"]
    test = "faxbot_plugin_test:TestTransport"

The class carries its `manifest` (see `load_manifest`; schema in
docs/schemas/plugin-manifest.schema.json) and implements the protocol of each slot it fills
(its manifest's `categories`), with one method per capability it claims:

    class MyTransport(Plugin, OutboundTransport, FindsSent): ...

Naming the protocols as bases lets a type checker check the methods; the compiler checks them
too, for every plugin (names, `async`, parameters), and refuses a plugin whose methods do not
match with a located error, the way pluggy checks a hook implementation against its spec.

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
from typing import Any, ClassVar, Literal, Protocol, get_args, runtime_checkable

Slot = Literal["outbound", "inbound", "storage", "auth"]
SLOTS: tuple[Slot, ...] = get_args(Slot)
START_WARN_SECONDS = 2.0
START_FAIL_SECONDS = 10.0


# -- what a plugin is -----------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    id: str
    name: str
    version: str
    description: str
    platform: str
    categories: tuple[Slot, ...]
    capabilities: tuple[str, ...]
    config_schema: Mapping[str, Any]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    plaintext: bool = False  # talks to its backend unencrypted: refused by the hipaa profile
    hipaa_requires: tuple[str, ...] = ()  # settings the hipaa profile requires to be set
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
        hipaa_requires=tuple(raw.get("hipaa_requires", ())),
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


@runtime_checkable
class DocumentLinks(Protocol):
    """A core service: a short-lived, single-use URL through which a provider fetches a stored
    document (Phaxio's `content_url`), served by the appliance without an API key."""

    async def link(self, document: StoredDocument, ttl_seconds: float) -> str:
        """An absolute URL under `appliance.public_url` that serves `document` once, within
        `ttl_seconds`; the token in it is random and stored only as a digest."""
        ...


@dataclass(frozen=True)
class Deps:
    """Core services a plugin may use. Plugins never read the process environment."""

    data_dir: Path  # the appliance's data directory; a plugin keeps its files under it
    logger: logging.Logger
    webhook_url: str | None = None  # where the provider calls this plugin back (public_url)
    profile: str = "dev"  # `hipaa`: keep no copy at the provider longer than needed
    document_links: DocumentLinks | None = None  # None without appliance.public_url


class Plugin:
    """Base class of every plugin: its manifest and lifecycle. The capability methods come
    from the protocols below."""

    manifest: ClassVar[Manifest]

    def validate_config(self, settings: Mapping[str, Any]) -> Sequence[SettingProblem]:
        """Checks the JSON Schema cannot express. `settings` has defaults applied and secret
        references unresolved. Return every problem, not only the first."""
        return ()

    async def start(self, settings: Mapping[str, Any], deps: Deps) -> None:
        """Open connections and resources. Must finish within START_FAIL_SECONDS."""

    async def stop(self) -> None:
        """Release what `start` opened. Called once, also after a failed start."""


# -- the values that cross the boundary -----------------------------------------------------


class FaxStatus(enum.StrEnum):
    """Where a fax is; the v2 values, kept for v2 clients."""

    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


class DocumentNotFound(LookupError):
    """Storage has no document under the key."""


class StoredDocument:
    """A document in storage, read on demand: a transport that uploads the file reads it, one
    that does not never pays for it."""

    def __init__(self, storage: Storage, key: str) -> None:
        self._storage = storage
        self.key = key

    async def chunks(self) -> AsyncIterator[bytes]:
        """The document's bytes, in chunks, from the start."""
        async for chunk in await self._storage.get(self.key):
            yield chunk

    async def read(self) -> bytes:
        """The whole document (at most the appliance's upload limit)."""
        return b"".join([chunk async for chunk in self.chunks()])


@dataclass(frozen=True)
class OutboundFax:
    job_id: str
    to: str  # E.164
    pages: int
    document: StoredDocument  # the PDF the core stored; never a client's file name


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


class OutcomeUnknown(TransportError):
    """The provider may have taken the fax: the request went out and no answer came back (a
    timeout, a dropped connection after sending). Never retried as such: the core looks the
    hand-over up with `find_sent` later, and sends again only if the provider does not have
    it (without `find_sent`, the job ends FAILED)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


@dataclass(frozen=True)
class ReceivedFax:
    """A fax the provider received for us. `document` is the PDF when the provider sent it
    along (a webhook's file part); otherwise the core fetches it with `get_inbound_pdf`."""

    provider_sid: str
    sender: str | None  # E.164 when the provider knows it
    recipient: str | None  # our number it arrived on
    pages: int | None
    received_at: float  # epoch seconds
    document: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class StatusReport:
    """A provider's word on a fax we sent, pushed to us (a webhook) instead of polled.

    `event_id` names this event at the provider: a second delivery of the same event has the
    same id, and the core ignores it. `job_id` is the job id the transport sent along (a tag,
    a label) when the provider echoes it: a report that arrives before the hand-over is
    committed is matched by it."""

    provider_sid: str
    update: StatusUpdate
    event_id: str
    job_id: str | None = None


TransportEvent = ReceivedFax | StatusReport


@dataclass(frozen=True)
class WebhookRequest:
    """A provider's call to `POST /webhooks/{plugin_id}`, as received, for the plugin to verify
    (signature or credentials) and read."""

    url: str  # as the provider called it: public_url + path + query, the signed URL
    method: str
    headers: Mapping[str, str]  # names in lower case
    body: bytes  # the raw body
    fields: Mapping[str, str] = field(default_factory=dict)  # form fields, for form bodies
    files: Mapping[str, bytes] = field(default_factory=dict, repr=False)  # multipart file parts


class WebhookRejected(Exception):
    """The webhook failed verification: answered 401, and nothing is changed."""


@dataclass(frozen=True)
class TokenGrant:
    key_id: str  # who, for logs and the audit log; never the token
    scopes: frozenset[str]


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str = ""


# -- the capabilities, as protocols ---------------------------------------------------------


@runtime_checkable
class OutboundTransport(Protocol):
    """Slot `outbound`: capabilities `send` and `get_status`."""

    async def send(self, fax: OutboundFax) -> SendReceipt:
        """Hand the fax to the provider. Raise TransportError(retryable=True) only when the
        provider surely did not take it; any other failure is never sent again blindly."""
        ...

    async def get_status(self, provider_sid: str) -> StatusUpdate:
        """Where the fax handed over as `provider_sid` is now."""
        ...


@runtime_checkable
class FindsSent(Protocol):
    """Optional for an outbound transport. With it, a job whose hand-over was cut short by a
    crash is looked up, then sent only if the provider never got it; without it, such a job
    ends FAILED rather than risk a second fax."""

    async def find_sent(self, job_id: str) -> SendReceipt | None:
        """The earlier hand-over of `job_id` if the provider has it, else None."""
        ...


@runtime_checkable
class DeletesCopies(Protocol):
    """Optional for a transport. The core calls it once a sent fax has ended and once a
    received fax is stored durably, never before: the provider's stored copy of the document
    may go. The plugin deletes it when its settings ask (always under the `hipaa` profile);
    a failure is reported by raising TransportError and is logged, not retried."""

    async def delete_copy(self, provider_sid: str) -> None:
        """Remove the provider's stored document of `provider_sid`, if the settings ask."""
        ...


@runtime_checkable
class InboundTransport(Protocol):
    """Slot `inbound`: capabilities `list_inbound` and `get_inbound_pdf`."""

    async def list_inbound(self, since: float | None) -> Sequence[ReceivedFax]:
        """Faxes the provider received since `since` (epoch seconds; None: all it keeps),
        oldest first: how the core catches up on webhooks it missed."""
        ...

    async def get_inbound_pdf(self, provider_sid: str) -> AsyncIterator[bytes]:
        """The received fax's PDF, in chunks."""
        ...


@runtime_checkable
class WebhookReceiver(Protocol):
    """Capability `ingest_webhook`: the provider calls the appliance back."""

    async def ingest_webhook(self, request: WebhookRequest) -> Sequence[TransportEvent]:
        """Verify the request (raise WebhookRejected when it is forged) and read its events.
        The core stores them; a duplicate delivery is recognised there and ignored."""
        ...


@runtime_checkable
class Storage(Protocol):
    """Slot `storage`: capabilities `put`, `get`, `delete`. Keys are the core's own names
    (letters, digits, `.`, `_`, `-`), never a client's file name."""

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        """Store the chunks under `key`; durable when it returns. Returns the byte count."""
        ...

    async def get(self, key: str) -> AsyncIterator[bytes]:
        """The document's bytes in chunks; raises DocumentNotFound for an unknown key."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the document; an unknown key is not an error."""
        ...


@runtime_checkable
class ListsDocuments(Protocol):
    """Optional for storage. With it, a document no job refers to (its request failed after
    the document was stored, or the process died in between) is found and deleted after a
    grace period; without it, such a document stays until removed by hand."""

    async def list_documents(self, stored_before: float) -> AsyncIterator[str]:
        """The keys of the documents stored before `stored_before` (epoch seconds), in any
        order; a document stored or deleted meanwhile may or may not be listed."""
        ...


@runtime_checkable
class TokenValidator(Protocol):
    """Slot `auth`: capability `validate_token`."""

    async def validate_token(self, token: str) -> TokenGrant | None:
        """Who the token is and what it may do, or None when it is not valid."""
        ...


@runtime_checkable
class HealthCheck(Protocol):
    """Capability `health_check`, for a plugin of any slot."""

    async def health(self) -> Health:
        """Whether the plugin's backend is reachable."""
        ...


# Each capability the catalog names, and the protocol whose method implements it.
CAPABILITIES: Mapping[str, tuple[type, str]] = {
    "send": (OutboundTransport, "send"),
    "get_status": (OutboundTransport, "get_status"),
    "list_inbound": (InboundTransport, "list_inbound"),
    "get_inbound_pdf": (InboundTransport, "get_inbound_pdf"),
    "ingest_webhook": (WebhookReceiver, "ingest_webhook"),
    "put": (Storage, "put"),
    "get": (Storage, "get"),
    "delete": (Storage, "delete"),
    "validate_token": (TokenValidator, "validate_token"),
    "health_check": (HealthCheck, "health"),
}
# Methods a plugin may offer without a capability; checked like the others when present.
OPTIONAL_METHODS: Mapping[str, type] = {
    "find_sent": FindsSent,
    "list_documents": ListsDocuments,
    "delete_copy": DeletesCopies,
}
# The protocol a plugin must implement in full to fill a slot (inbound: at least one of two).
SLOT_PROTOCOLS: Mapping[Slot, tuple[type, ...]] = {
    "outbound": (OutboundTransport,),
    "inbound": (InboundTransport, WebhookReceiver),
    "storage": (Storage,),
    "auth": (TokenValidator,),
}


__all__ = [
    "CAPABILITIES",
    "OPTIONAL_METHODS",
    "SLOTS",
    "SLOT_PROTOCOLS",
    "START_FAIL_SECONDS",
    "START_WARN_SECONDS",
    "DeletesCopies",
    "Deps",
    "DocumentLinks",
    "DocumentNotFound",
    "FaxStatus",
    "FindsSent",
    "Health",
    "HealthCheck",
    "InboundTransport",
    "ListsDocuments",
    "Manifest",
    "OutboundFax",
    "OutboundTransport",
    "OutcomeUnknown",
    "Plugin",
    "ReceivedFax",
    "SendReceipt",
    "SettingProblem",
    "Slot",
    "StatusReport",
    "StatusUpdate",
    "Storage",
    "StoredDocument",
    "TokenGrant",
    "TokenValidator",
    "TransportError",
    "TransportEvent",
    "WebhookReceiver",
    "WebhookRejected",
    "WebhookRequest",
    "load_manifest",
    "manifest_from",
]
