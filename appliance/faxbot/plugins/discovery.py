"""Find installed plugins through entry points in group `faxbot.plugins`, loading only the
ones asked for by name. Built-in plugins take the same path as third-party ones."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources
from typing import TYPE_CHECKING, Any

from faxbot.canonical import sha256_hex
from faxbot.catalog import load_catalog
from faxbot.kernel.secrets import SecretModel, schema_secrets
from faxbot.plugins.conformance import contract_problems
from faxbot.plugins.contract import SLOTS, Manifest, Plugin

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

GROUP = "faxbot.plugins"


@dataclass(frozen=True)
class InstalledPlugin:
    id: str
    distribution: str | None
    version: str  # the installed distribution's version, which pins are compared with
    plugin_cls: type[Plugin]
    manifest: Manifest
    manifest_digest: str

    @property
    def secrets(self) -> SecretModel:
        """Which of its settings are secret, from its config_schema's markers."""
        return SecretModel(schema_secrets(self.manifest.config_schema))


class PluginLoadError(Exception):
    """A named plugin is missing, cannot be imported, or has an invalid manifest."""

    def __init__(self, plugin_id: str, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.plugin_id = plugin_id
        self.missing = missing


@cache
def manifest_validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    text = resources.files(__package__).joinpath("manifest.schema.json").read_text("utf-8")
    return Draft202012Validator(
        json.loads(text), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def manifest_problems(
    plugin_cls: type[Plugin], manifest: Manifest, *, schemas: bool = True
) -> list[str]:
    """Everything wrong with a plugin's manifest and class, as sentences. `schemas=False`
    skips the JSON Schema checks (the appliance, whose artifact pins the manifest digest the
    compiler validated, need not import jsonschema at start)."""
    problems: list[str] = []
    if schemas:
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        problems = [
            f"manifest {'.'.join(map(str, e.absolute_path)) or '(root)'}: {_manifest_message(e)}"
            for e in sorted(manifest_validator().iter_errors(manifest.raw), key=str)
        ]
        if problems:
            return problems
        try:
            Draft202012Validator.check_schema(manifest.config_schema)
        except SchemaError as exc:
            problems.append(f"config_schema is not a valid JSON Schema: {exc.message}")
    catalog = load_catalog()
    offered = set().union(*(catalog.slot_capabilities(s) for s in manifest.categories))
    for capability in manifest.capabilities:
        if capability not in offered:
            problems.append(
                f"claims capability {capability!r}, which none of its categories "
                f"({', '.join(manifest.categories)}) offers"
            )
    settings = manifest.config_schema.get("properties", {})
    problems += [
        f"hipaa_requires names {name!r}, which is not a setting in its config_schema"
        for name in manifest.hipaa_requires
        if name not in settings
    ]
    return problems + contract_problems(plugin_cls, manifest)


def _manifest_message(error: Any) -> str:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    custom = schema.get("x-error")
    if isinstance(custom, str):
        return f"{error.instance!r} {custom}"
    return str(error.message)


EntryPoints = Callable[[], Iterable[metadata.EntryPoint]]


def _installed_entry_points() -> Iterable[metadata.EntryPoint]:
    return metadata.entry_points(group=GROUP)


class PluginSource:
    """Installed plugins, loaded lazily by id and remembered. Tests pass their own
    `entry_points` to discover plugins without installing them."""

    def __init__(
        self, entry_points: EntryPoints = _installed_entry_points, *, check_schemas: bool = True
    ) -> None:
        self._entry_points = entry_points
        self._check_schemas = check_schemas
        self._loaded: dict[str, InstalledPlugin | PluginLoadError] = {}

    def without_schema_checks(self) -> PluginSource:
        """The same plugins, loaded without the manifest's JSON Schema checks: for `serve`,
        whose artifact pins the manifest digest the compiler checked (jsonschema's import
        alone is ~50 ms of every start)."""
        return PluginSource(self._entry_points, check_schemas=False)

    def ids(self) -> list[str]:
        return sorted({ep.name for ep in self._entry_points()})

    def load(self, plugin_id: str) -> InstalledPlugin:
        """The plugin named `plugin_id`; raises PluginLoadError naming what is wrong."""
        if plugin_id not in self._loaded:
            try:
                self._loaded[plugin_id] = self._load(plugin_id)
            except PluginLoadError as exc:
                self._loaded[plugin_id] = exc
        found = self._loaded[plugin_id]
        if isinstance(found, PluginLoadError):
            raise found
        return found

    def _load(self, plugin_id: str) -> InstalledPlugin:
        matches = [ep for ep in self._entry_points() if ep.name == plugin_id]
        if not matches:
            raise PluginLoadError(plugin_id, f"plugin {plugin_id!r} is not installed", missing=True)
        if len(matches) > 1:
            dists = ", ".join(sorted(_dist_name(ep) or "?" for ep in matches))
            raise PluginLoadError(plugin_id, f"plugin {plugin_id!r} is installed twice ({dists})")
        ep = matches[0]
        try:
            obj = ep.load()
        except Exception as exc:  # a plugin's ImportError must be shown, never hidden
            raise PluginLoadError(
                plugin_id, f"plugin {plugin_id!r} failed to import: {type(exc).__name__}: {exc}"
            ) from exc
        if not (isinstance(obj, type) and issubclass(obj, Plugin)):
            raise PluginLoadError(
                plugin_id,
                f"plugin {plugin_id!r} is broken: its entry point {ep.value!r} is not a "
                "faxbot Plugin subclass",
            )
        manifest = getattr(obj, "manifest", None)
        if not isinstance(manifest, Manifest):
            raise PluginLoadError(plugin_id, f"plugin {plugin_id!r} is broken: no manifest")
        problems = manifest_problems(obj, manifest, schemas=self._check_schemas)
        dist_version = ep.dist.version if ep.dist is not None else manifest.version
        if manifest.id != plugin_id:
            problems.append(f"manifest id {manifest.id!r} differs from entry point {plugin_id!r}")
        if manifest.version != dist_version:
            problems.append(
                f"manifest version {manifest.version} differs from the installed "
                f"distribution's {dist_version}"
            )
        if problems:
            raise PluginLoadError(
                plugin_id, f"plugin {plugin_id!r} is broken: " + "; ".join(problems)
            )
        return InstalledPlugin(
            id=plugin_id,
            distribution=_dist_name(ep),
            version=dist_version,
            plugin_cls=obj,
            manifest=manifest,
            manifest_digest="sha256:" + sha256_hex(manifest.raw),
        )


def _dist_name(ep: metadata.EntryPoint) -> str | None:
    return ep.dist.name if ep.dist is not None else None


__all__ = ["GROUP", "SLOTS", "InstalledPlugin", "PluginLoadError", "PluginSource"]
