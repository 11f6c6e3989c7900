"""The resolved artifact `build/faxbot.resolved.json`: a typed structure the compiler writes as
canonical JSON (atomically) and the appliance reads back strictly. Not part of the compiler
package, so that the appliance and the plugin host read it without the compiler; the
appliance refuses anything it cannot trust.

`fingerprint` is "sha256:" + the SHA-256 of the canonical JSON of the artifact without its
`fingerprint`, `build` (compiled_at, source_revision) and `sources` (file:line blame): it
names the effective configuration, so a moved comment or a rebuild from another commit keeps
it, and any change of a value changes it."""

from __future__ import annotations

import json
import os
import re
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import msgspec

from faxbot.canonical import pretty_bytes, sha256_hex
from faxbot.kernel.keypath import parse_path
from faxbot.kernel.secrets import SecretModel, schema_secrets
from faxbot.plugins.contract import Slot

ARTIFACT_VERSION = 1
DEFAULT_PATH = Path("build/faxbot.resolved.json")
UNFINGERPRINTED = ("fingerprint", "build", "sources")
# Far deeper than any artifact the compiler writes (plugin config schemas are the deepest
# part, at about 10), far shallower than the recursion of the decoder and of every walk
# over the artifact (fingerprint, secret model): a deeper file is refused before decoding.
MAX_DEPTH = 100
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))

Profile = Literal["dev", "hipaa"]


class Listen(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    host: str
    port: int


class RateLimit(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    requests_per_minute: int
    burst: int


class HttpLimits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The HTTP connection's bounds (faxbot.server.http_limits enforces them)."""

    max_header_bytes: int
    max_headers: int
    header_timeout_seconds: int
    body_min_bytes_per_second: int
    body_grace_seconds: int
    idle_timeout_seconds: int
    max_connections: int
    max_requests_per_connection: int


class Limits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    upload_max_bytes: int
    max_pages: int
    send_timeout_seconds: int
    max_attempts: int
    render_workers: int  # 0: chosen from the CPU count (faxbot.documents.renderers)
    render_queue: int
    http: HttpLimits
    key_rate_limit: RateLimit | None  # of a key with no rate_limit of its own; None: none
    unauthenticated_rate_limit: RateLimit | None  # per client address; None: none
    webhook_body_bytes: int  # largest POST /webhooks/{plugin_id} body


class Retention(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How long what the appliance keeps is kept, in days (None: kept); faxbot.retention
    enforces it."""

    outbound_document_days: float | None
    inbound_document_days: float | None
    job_row_days: float | None
    inbound_row_days: float | None
    webhook_event_days: float
    sweep_seconds: float


class Replicas(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How replicas on one PostgreSQL hold the jobs they work (faxbot.dispatch, store/leases.py);
    unused on SQLite."""

    lease_seconds: float
    heartbeat_seconds: float  # less than lease_seconds / 2 (config/rules.py)
    claim_seconds: float


class Destinations(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The destination policy (faxbot.destinations applies it)."""

    countries: tuple[str, ...]
    number_types: tuple[str, ...]


class ApplianceSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    public_url: str | None
    listen: Listen
    data_dir: str
    database_url: str | None  # a secret reference when it holds a password
    audit_log: bool
    shutdown_grace_seconds: float  # faxbot.server.drain
    shutdown_delay_seconds: float
    storage_encryption_key: str | None  # a secret reference
    storage_encryption_previous_keys: tuple[str, ...]  # secret references: old keys still read
    limits: Limits
    destinations: Destinations
    retention: Retention
    replicas: Replicas


class Provider(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    plugin: str
    version: str
    enabled: bool
    settings: dict[str, Any]  # the plugin's own, checked against its config_schema


class PluginPin(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    version: str
    distribution: str | None
    capabilities: tuple[str, ...]
    categories: tuple[Slot, ...]
    manifest_digest: str
    secret_settings: tuple[str, ...]  # key paths inside its settings, `[*]` for any index
    slots: tuple[Slot, ...]


class ApiKeyEntry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: str
    sha256: str
    scopes: tuple[str, ...]
    expires: str | None = None
    description: str | None = None
    # Absent (UNSET): appliance.limits.key_rate_limit applies; None: no limit for this key.
    rate_limit: RateLimit | msgspec.UnsetType | None = msgspec.UNSET
    inbound_numbers: tuple[str, ...] = ()  # the numbers whose received faxes the key reads


class Surface(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    capabilities: dict[Slot, tuple[str, ...]]
    operations: tuple[str, ...]
    mcp_tools: tuple[str, ...]


class Build(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    compiled_at: str | None
    source_revision: str | None


class Artifact(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The compiled configuration, as the appliance reads it."""

    version: Literal[1]
    fingerprint: str
    profile: Profile
    appliance: ApplianceSettings
    providers: dict[Slot, Provider]
    plugins: dict[str, PluginPin]
    api_keys: tuple[ApiKeyEntry, ...]
    surface: Surface
    sources: dict[str, str]  # key path -> file:line
    build: Build

    def enabled(self, slot: Slot) -> Provider | None:
        provider = self.providers.get(slot)
        return provider if provider is not None and provider.enabled else None

    def secrets(self) -> SecretModel:
        """Where this artifact's secrets are (references, resolved only at start)."""
        return artifact_secret_model(json.loads(msgspec.json.encode(self)))


@cache
def appliance_secret_model() -> SecretModel:
    """The appliance keys the fragment schema marks secret, at their place in the config."""
    text = resources.files("faxbot.config").joinpath("fragment.schema.json").read_text("utf-8")
    appliance = json.loads(text)["properties"]["appliance"]
    return SecretModel(schema_secrets(appliance)).under(("appliance",))


def artifact_secret_model(artifact: dict[str, Any]) -> SecretModel:
    """The secrets of an artifact in its JSON form: the appliance's, and each provider's
    settings that its plugin marks secret (as pinned in `plugins`)."""
    model = appliance_secret_model()
    plugins = artifact.get("plugins") or {}
    for slot, entry in (artifact.get("providers") or {}).items():
        pin = plugins.get(entry.get("plugin")) if isinstance(entry, dict) else None
        paths = (pin or {}).get("secret_settings") or []
        settings = SecretModel(frozenset(parse_path(p) for p in paths))
        model = model | settings.under(("providers", slot, "settings"))
    return model


class ArtifactError(Exception):
    """The artifact is missing or cannot be trusted; the message says what to run."""


def fingerprint(artifact: dict[str, Any]) -> str:
    content = {k: v for k, v in artifact.items() if k not in UNFINGERPRINTED}
    return "sha256:" + sha256_hex(content)


def seal(artifact: dict[str, Any]) -> dict[str, Any]:
    """The artifact in its typed shape (every field present) with its fingerprint; raises
    ArtifactError if `artifact` does not have that shape."""
    draft = {**artifact, "fingerprint": ""}
    try:
        shaped: dict[str, Any] = json.loads(msgspec.json.encode(msgspec.convert(draft, Artifact)))
    except msgspec.ValidationError as exc:
        raise ArtifactError(f"the compiled artifact is malformed: {exc}") from None
    shaped["fingerprint"] = fingerprint(shaped)
    return shaped


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(0o644)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def artifact_bytes(artifact: dict[str, Any]) -> bytes:
    return pretty_bytes(artifact)


def load_artifact(path: Path) -> Artifact:
    """The artifact at `path`, fully validated, or ArtifactError saying what to run."""
    hint = f"run `faxbot config compile --out {path}`"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ArtifactError(f"no artifact at {path}; {hint}") from None
    except OSError as exc:
        raise ArtifactError(f"cannot read artifact {path}: {exc.strerror}") from None
    depth = _nesting(raw)
    if depth > MAX_DEPTH:
        raise ArtifactError(
            f"artifact {path} is nested deeper than {MAX_DEPTH} levels, which no compiled "
            f"artifact is (edited or damaged); {hint}"
        )
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"artifact {path} is not valid JSON ({exc}); {hint}") from None
    if not isinstance(data, dict):
        raise ArtifactError(f"artifact {path} is not a JSON object; {hint}")
    version = data.get("version")
    if version != ARTIFACT_VERSION:
        raise ArtifactError(
            f"artifact {path} has version {version!r}, this faxbot reads version "
            f"{ARTIFACT_VERSION}; {hint} with this faxbot"
        )
    missing = [name for name in Artifact.__struct_fields__ if name not in data]
    if missing:
        raise ArtifactError(f"artifact {path} lacks {', '.join(missing)}; {hint}")
    try:
        artifact = msgspec.convert(data, Artifact)
    except msgspec.ValidationError as exc:
        raise ArtifactError(f"artifact {path} is malformed ({exc}); {hint}") from None
    if artifact.fingerprint != fingerprint(data):
        raise ArtifactError(
            f"artifact {path} does not match its fingerprint (edited or damaged); {hint}"
        )
    return artifact


def _nesting(raw: bytes) -> int:
    """How deep the JSON text's arrays and objects nest (brackets inside strings not counted),
    or MAX_DEPTH + 1 as soon as it is deeper; malformed JSON is the decoder's to explain."""
    depth = deepest = 0
    for bracket in _STRINGS.sub(b"", raw).translate(None, _NOT_BRACKETS):
        depth += 1 if bracket in b"[{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > MAX_DEPTH:
                break
    return deepest
