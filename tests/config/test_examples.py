"""The example config.d folders in docs/examples: everything in them is checked and passes;
an example fails only on transport plugins the registry announces but has not released."""

from __future__ import annotations

import json

import pytest
from faxbot.config.compiler import compile_config
from faxbot.plugins.discovery import PluginSource

from tests.conftest import REPO

EXAMPLES = sorted(p.parent.name for p in (REPO / "docs" / "examples").glob("*/config.d"))
PLANNED = sorted(
    entry["id"]
    for entry in json.loads((REPO / "registry" / "plugin-registry.json").read_text())["plugins"]
    if entry["status"] == "planned"
)


def test_there_are_examples() -> None:
    assert {"phaxio", "sinch", "sip", "hipaa"} <= set(EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES)
def test_an_example_fails_only_on_its_unreleased_plugins(example: str) -> None:
    result = compile_config(REPO / "docs" / "examples" / example / "config.d", PluginSource())
    codes = {d.code for d in result.diagnostics}
    assert codes <= {"plugin-not-released"}, [d.render() for d in result.diagnostics]
    for diagnostic in result.diagnostics:
        assert any(f"plugin {p!r} is not released yet" in diagnostic.message for p in PLANNED)


@pytest.mark.parametrize("example", ["phaxio", "hipaa"])
def test_the_phaxio_examples_compile_with_their_settings_checked(example: str) -> None:
    result = compile_config(REPO / "docs" / "examples" / example / "config.d", PluginSource())
    assert [d.render() for d in result.diagnostics] == []
    assert result.artifact is not None
    outbound = result.artifact["providers"]["outbound"]
    assert (outbound["plugin"], result.artifact["plugins"]["phaxio"]["version"]) == (
        "phaxio",
        "1.0.0",
    )
    # secrets stay references in the artifact
    assert outbound["settings"]["api_secret"].startswith("${")
