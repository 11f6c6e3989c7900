"""What the API shows of the plugins: the artifact's pins and providers with the installed
manifests, settings masked through the artifact's secret model (a secret setting's reference,
`${env:NAME}` or `${file:/path}`, is listed beside them: a reference is not a secret). Read-only,
like the config."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from faxbot import catalog
from faxbot.artifact import Artifact, Provider
from faxbot.kernel.keypath import format_path
from faxbot.plugins.discovery import InstalledPlugin
from faxbot.server.models import PluginConfig, PluginDetail, PluginSummary


class UnknownPlugin(LookupError):
    def __init__(self, plugin_id: str, known: list[str]) -> None:
        super().__init__(f"no plugin {plugin_id[:64]!r} in this appliance's configuration")
        self.details = {"known": known}


class PluginViews:
    def __init__(
        self,
        artifact: Artifact,
        installed: Mapping[str, InstalledPlugin],
        registry: dict[str, Any],
    ) -> None:
        self._artifact = artifact
        self._installed = installed
        self._registry = registry
        self._secrets = artifact.secrets()

    def ids(self) -> list[str]:
        return sorted(self._artifact.plugins)

    def _slots(self, plugin_id: str) -> dict[str, Provider]:
        if plugin_id not in self._artifact.plugins:
            raise UnknownPlugin(plugin_id, self.ids())
        return {s: p for s, p in self._artifact.providers.items() if p.plugin == plugin_id}

    def summary(self, plugin_id: str) -> PluginSummary:
        slots = self._slots(plugin_id)
        manifest = self._installed[plugin_id].manifest
        return PluginSummary(
            id=plugin_id,
            name=manifest.name,
            version=self._artifact.plugins[plugin_id].version,
            description=manifest.description,
            categories=list(manifest.categories),
            capabilities=list(manifest.capabilities),
            slots=sorted(slots),
            enabled=any(p.enabled for p in slots.values()),
        )

    def detail(self, plugin_id: str) -> PluginDetail:
        summary = self.summary(plugin_id)
        return PluginDetail(
            **{f: getattr(summary, f) for f in summary.__struct_fields__},
            manifest=dict(self._installed[plugin_id].manifest.raw),
        )

    def config(self, plugin_id: str) -> PluginConfig:
        slots: dict[str, dict[str, Any]] = {}
        sources: dict[str, str] = {}
        references: dict[str, str] = {}
        for slot, provider in sorted(self._slots(plugin_id).items()):
            prefix = ("providers", slot, "settings")
            slots[slot] = {
                "enabled": provider.enabled,
                "version": provider.version,
                "settings": self._secrets.mask(provider.settings, prefix),
            }
            found = self._secrets.references(provider.settings, prefix)
            references.update({format_path(path): str(ref) for path, ref in found.items()})
            where = f"providers.{slot}.settings"
            sources.update({k: v for k, v in self._artifact.sources.items() if k.startswith(where)})
        return PluginConfig(
            id=plugin_id, slots=slots, sources=sources, secret_references=references
        )

    def registry(self) -> dict[str, Any]:
        return self._registry


def load_registry(path: Path | None) -> dict[str, Any]:
    """The registry at `path`, or the curated one shipped in the package."""
    if path is None:
        return catalog.load_registry()
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded
