"""A provider naming a plugin the registry announces but nobody has released is told so
("not released yet", with the registry's docs link) rather than "not installed". No shipped
entry is planned today (s3 was the last, released with issue 16), so the registry here is
the shipped one plus one planned entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faxbot.catalog
import pytest
from faxbot.config.compiler import compile_config
from faxbot.plugins.discovery import PluginSource

PLANNED = {
    "id": "blobstore",
    "name": "Blob storage",
    "description": "An announced storage plugin.",
    "distribution": "faxbot_plugin_blobstore",
    "versions": [],
    "categories": ["storage"],
    "capabilities": ["put", "get", "delete"],
    "first_party": True,
    "status": "planned",
    "license": "MIT",
    "docs": "docs/storage.md",
}


def test_a_planned_plugin_is_not_released_yet(
    write_config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = faxbot.catalog.load_registry()
    registry = {**shipped, "plugins": [*shipped["plugins"], PLANNED]}
    monkeypatch.setattr(faxbot.catalog, "load_registry", lambda: registry)
    config: Path = write_config(
        {
            "00-a.yaml": "version: 1\nproviders:\n  storage:\n"
            "    plugin: blobstore\n    version: 1.0.0\n"
        }
    )
    result = compile_config(config, PluginSource())
    rendered = [d.render() for d in result.diagnostics]
    assert any(
        line.endswith(
            "providers.storage.plugin: plugin 'blobstore' is not released yet: the plugin "
            "registry lists it as planned (see docs/storage.md); nothing to install today"
        )
        for line in rendered
    ), rendered
