"""The curated plugin registry in registry/: valid against its schema, one entry per id, and
every available entry saying exactly what the installed plugin's manifest says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from faxbot.catalog import load_catalog
from faxbot.plugins.contract import SLOTS
from faxbot.plugins.discovery import PluginSource, manifest_validator
from jsonschema import Draft202012Validator

from tests.conftest import REPO

REGISTRY = REPO / "registry" / "plugin-registry.json"
SCHEMA = REPO / "registry" / "plugin-registry.schema.json"
PLUGIN_DIRS = sorted(p.parent.name for p in (REPO / "plugins").glob("*/pyproject.toml"))


def load(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def entries(status: str | None = None) -> list[dict[str, Any]]:
    plugins: list[dict[str, Any]] = load(REGISTRY)["plugins"]
    return [p for p in plugins if status is None or p["status"] == status]


def validator() -> Draft202012Validator:
    schema = load(SCHEMA)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def semver_key(version: str) -> tuple[tuple[int, ...], bool, tuple[tuple[int, int | str], ...]]:
    """Sort key by semver precedence: a pre-release sorts before its release."""
    core, _, rest = version.partition("+")[0].partition("-")
    numbers = tuple(int(part) for part in core.split("."))
    pre = tuple((0, int(p)) if p.isdigit() else (1, p) for p in rest.split(".")) if rest else ()
    return numbers, not rest, pre


def test_the_registry_is_valid_against_its_schema() -> None:
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in validator().iter_errors(load(REGISTRY))
    ]
    assert errors == []


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"extra": 1}, "Additional properties"),
        ({"distribution": "faxbot-plugin-test"}, "does not match"),
        ({"versions": ["1.0"]}, "does not match"),
        ({"status": "available", "versions": []}, "should be non-empty"),
        ({"status": "planned", "versions": ["1.0.0"]}, "is expected to be empty"),
        ({"categories": ["fax"]}, "is not one of"),
        ({"docs": "/etc/passwd"}, "does not match"),
        ({"docs": "docs/../../x"}, "does not match"),
    ],
)
def test_the_schema_refuses_a_bad_entry(change: dict[str, Any], complaint: str) -> None:
    entry = {**entries("available")[0], **change}
    messages = [e.message for e in validator().iter_errors({"version": 1, "plugins": [entry]})]
    assert any(complaint in message for message in messages), messages


def test_the_schema_knows_the_same_slots_capabilities_ids_and_versions_as_manifests() -> None:
    plugin = load(SCHEMA)["$defs"]["plugin"]["properties"]
    manifest = manifest_validator().schema["properties"]
    assert tuple(plugin["categories"]["items"]["enum"]) == SLOTS
    assert plugin["categories"]["items"] == manifest["categories"]["items"]
    assert plugin["capabilities"]["items"] == manifest["capabilities"]["items"]
    assert set(plugin["capabilities"]["items"]["enum"]) == set(load_catalog().capabilities)
    assert plugin["id"]["pattern"] == manifest["id"]["pattern"]
    assert plugin["versions"]["items"]["pattern"] == manifest["version"]["pattern"]


def test_ids_are_unique_and_sorted() -> None:
    ids = [entry["id"] for entry in entries()]
    assert len(ids) == len(set(ids)), f"duplicate ids: {sorted(i for i in ids if ids.count(i) > 1)}"
    assert ids == sorted(ids)


@pytest.mark.parametrize("entry", entries(), ids=lambda e: e["id"])
def test_an_entry_hangs_together(entry: dict[str, Any]) -> None:
    assert entry["distribution"] == f"faxbot_plugin_{entry['id']}"
    catalog = load_catalog()
    offered = set().union(*(catalog.slot_capabilities(slot) for slot in entry["categories"]))
    assert set(entry["capabilities"]) <= offered
    versions = [semver_key(v) for v in entry["versions"]]
    assert versions == sorted(versions, reverse=True), "versions must be newest first"
    if "docs" in entry:
        assert (REPO / entry["docs"]).exists(), f"{entry['docs']} does not exist"
    if entry["first_party"] and entry["status"] == "available":
        assert (REPO / "plugins" / entry["id"] / "pyproject.toml").is_file()


@pytest.mark.parametrize("entry", entries("available"), ids=lambda e: e["id"])
def test_an_available_entry_equals_its_installed_manifest(entry: dict[str, Any]) -> None:
    plugin = PluginSource().load(entry["id"])
    manifest = plugin.manifest
    assert entry["versions"][0] == plugin.version == manifest.version
    assert entry["distribution"] == plugin.distribution
    assert entry["name"] == manifest.name
    assert entry["description"] == manifest.description
    assert entry["categories"] == list(manifest.categories)
    assert entry["capabilities"] == list(manifest.capabilities)
    assert entry.get("license") == manifest.license
    assert entry.get("homepage") == manifest.homepage


@pytest.mark.parametrize("folder", PLUGIN_DIRS)
def test_every_first_party_plugin_is_listed_as_available(folder: str) -> None:
    listed = {entry["id"]: entry for entry in entries()}
    assert folder in listed, f"plugins/{folder} is missing from {REGISTRY.name}"
    assert (listed[folder]["status"], listed[folder]["first_party"]) == ("available", True)


def test_the_plugin_folders_are_found() -> None:
    assert PLUGIN_DIRS, "no plugins/*/pyproject.toml: the test above checked nothing"


def test_versions_order_by_semver_precedence() -> None:
    newest_first = ["1.10.0", "1.9.1", "1.9.0", "1.9.0-rc.10", "1.9.0-rc.2", "1.9.0-beta", "0.2.0"]
    shuffled = [newest_first[i] for i in (3, 6, 0, 5, 2, 4, 1)]
    assert sorted(shuffled, key=semver_key, reverse=True) == newest_first
