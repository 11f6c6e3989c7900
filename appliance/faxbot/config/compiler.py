"""The compile pipeline: fragments -> merge -> structure -> providers -> rules -> artifact."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from faxbot.artifact import ARTIFACT_VERSION, appliance_secret_model, seal
from faxbot.catalog import load_catalog
from faxbot.config import rules
from faxbot.config.codes import SCHEMA_PREFIX, Code
from faxbot.config.diagnostics import Diagnostic, Mark, has_errors, sort_diagnostics
from faxbot.config.fragments import Fragment, load_fragments
from faxbot.config.merge import Merged, merge_fragments
from faxbot.config.providers import check_providers
from faxbot.config.structure import Locator, apply_defaults, fragment_schema, validate
from faxbot.kernel.keypath import KeyPath, format_path
from faxbot.kernel.secrets import SecretModel
from faxbot.plugins.discovery import InstalledPlugin, PluginSource

DEFAULT_SOURCE = "default"


@dataclass(frozen=True)
class BuildInfo:
    """What the build adds beside the config: neither changes the fingerprint."""

    compiled_at: str | None = None
    source_revision: str | None = None

    @classmethod
    def from_epoch(cls, epoch: str | None, source_revision: str | None = None) -> BuildInfo:
        """`epoch` is SOURCE_DATE_EPOCH: no wall-clock time enters the artifact without it."""
        if epoch is None or epoch == "":
            return cls(None, source_revision)
        if not epoch.isdigit():
            raise ValueError(f"SOURCE_DATE_EPOCH must be whole seconds since 1970, not {epoch!r}")
        when = datetime.fromtimestamp(int(epoch), UTC).isoformat().replace("+00:00", "Z")
        return cls(when, source_revision)


@dataclass
class CompileResult:
    fragments: list[Fragment]
    merged: Merged
    diagnostics: list[Diagnostic]
    data: dict[str, Any]
    secrets: SecretModel
    defaulted: dict[KeyPath, str]
    plugins: dict[str, InstalledPlugin] = field(default_factory=dict)
    artifact: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    def is_secret(self, path: KeyPath) -> bool:
        return self.secrets.is_secret(path)


def compile_config(
    config_dir: Path,
    source: PluginSource,
    *,
    build: BuildInfo | None = None,
    strict_pins: bool = True,
    extra: Sequence[Path] = (),
    now: datetime | None = None,
) -> CompileResult:
    """Compile `config_dir` (then the `extra` fragment files). `now` is the instant API key
    expiry is judged at: the command line passes the clock; None skips that warning, so that
    a compile without it gives the same diagnostics on any day."""
    fragments, diagnostics = load_fragments(config_dir, extra)
    merged, merge_problems = merge_fragments(fragments)
    diagnostics += merge_problems
    data = merged.data

    appliance_secrets = appliance_secret_model()
    root = Mark(fragments[0].display, 1, 1) if fragments else None

    def value_mark(path: KeyPath) -> Mark | None:
        return merged.mark(path) or root

    def key_mark(path: KeyPath) -> Mark | None:
        return merged.key_mark(path) or root

    if fragments:
        locate = Locator(value_mark, key_mark, appliance_secrets.is_secret)
        diagnostics += validate(fragment_schema(), data, (), locate)
    filled: list[KeyPath] = []
    apply_defaults(fragment_schema(), data, (), filled)
    defaulted = dict.fromkeys(filled, DEFAULT_SOURCE)

    providers = check_providers(data, merged, source, strict_pins=strict_pins)
    diagnostics += providers.diagnostics
    defaulted.update(providers.defaulted)
    secrets = providers.secrets | appliance_secrets

    diagnostics += rules.check_appliance(data, merged)
    diagnostics += rules.check_plain_values(data, merged, secrets)
    diagnostics += rules.check_profile(data, merged, providers.plugins)
    diagnostics += rules.check_api_keys(data, merged, now)
    diagnostics += rules.check_destinations(data, merged)
    diagnostics += rules.check_replicas(data, merged)

    result = CompileResult(
        fragments=fragments,
        merged=merged,
        diagnostics=sort_diagnostics(_without_follow_ups(diagnostics, fragments)),
        data=data,
        secrets=secrets,
        defaulted=defaulted,
        plugins=providers.plugins,
    )
    if result.ok or not strict_pins:
        result.artifact = build_artifact(result, build or BuildInfo())
    return result


def _without_follow_ups(
    diagnostics: list[Diagnostic], fragments: list[Fragment]
) -> list[Diagnostic]:
    """Drop errors that only repeat an earlier one: a key is not "missing" when a fragment
    that could not be read may hold it, and a value already reported as unreadable (an
    unsupported tag, a non-finite number) is not also "of the wrong type"."""
    unreadable = any(f.failed for f in fragments)
    reported = {format_path(p) for f in fragments for p in f.reported}
    return [
        d
        for d in diagnostics
        if not (unreadable and d.code is Code.MISSING_KEY)
        and not (d.path in reported and d.code.startswith(SCHEMA_PREFIX))
    ]


def _source_leaves(value: Any, path: KeyPath) -> Iterator[KeyPath]:
    """Paths the artifact's `sources` names: scalars, lists of scalars, empty mappings; lists
    of mappings (api_keys) are entered so that each key's fields are blamed."""
    if isinstance(value, dict) and value:
        for key, child in value.items():
            yield from _source_leaves(child, (*path, key))
    elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
        for index, child in enumerate(value):
            yield from _source_leaves(child, (*path, index))
    else:
        yield path


def blame(result: CompileResult, path: KeyPath) -> str:
    mark = result.merged.value_marks.get(path)
    if mark is not None:
        return result.merged.source_of(mark)
    for end in range(len(path), 0, -1):
        origin = result.defaulted.get(path[:end])
        if origin is not None:
            return origin
    return DEFAULT_SOURCE


def active_capabilities(result: CompileResult) -> dict[str, list[str]]:
    """Slot -> capabilities the enabled plugin offers in that slot."""
    catalog = load_catalog()
    providers = result.data.get("providers") or {}
    active: dict[str, list[str]] = {}
    for slot, plugin in sorted(result.plugins.items()):
        entry = providers.get(slot) or {}
        if entry.get("enabled", True) is not True:
            continue
        allowed = catalog.slot_capabilities(slot)
        active[slot] = sorted(c for c in plugin.manifest.capabilities if c in allowed)
    return active


def build_artifact(result: CompileResult, build: BuildInfo) -> dict[str, Any]:
    catalog = load_catalog()
    data = result.data
    plugins: dict[str, Any] = {}
    providers = data.get("providers") or {}
    for slot, plugin in sorted(result.plugins.items()):
        pinned = (providers.get(slot) or {}).get("version", plugin.version)
        entry = plugins.setdefault(
            plugin.id,
            {
                # the pin; equal to the installed version unless compiled leniently (plan base)
                "version": pinned,
                "distribution": plugin.distribution,
                "capabilities": sorted(plugin.manifest.capabilities),
                "categories": sorted(plugin.manifest.categories),
                "manifest_digest": plugin.manifest_digest,
                "secret_settings": sorted(format_path(p) for p in plugin.secrets.patterns),
                "slots": [],
            },
        )
        entry["slots"].append(slot)
    active = active_capabilities(result)
    operations, tools = catalog.surface(c for caps in active.values() for c in caps)
    artifact = {
        "version": ARTIFACT_VERSION,
        "profile": data.get("profile"),
        "appliance": data.get("appliance"),
        "providers": data.get("providers"),
        "api_keys": data.get("api_keys"),
        "plugins": plugins,
        "surface": {
            "capabilities": active,
            "operations": sorted(operations),
            "mcp_tools": sorted(tools),
        },
        "sources": {format_path(p): blame(result, p) for p in _source_leaves(data, ())},
        "build": {"compiled_at": build.compiled_at, "source_revision": build.source_revision},
    }
    return seal(artifact)
