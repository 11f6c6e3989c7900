"""The example config.d folders in docs/examples: each compiles without a diagnostic against
the plugins installed here (every transport in the registry is released), secrets kept as
references."""

from __future__ import annotations

import pytest
from faxbot.config.compiler import compile_config
from faxbot.plugins.discovery import PluginSource

from tests.conftest import REPO

EXAMPLES = sorted(p.parent.name for p in (REPO / "docs" / "examples").glob("*/config.d"))


def test_there_are_examples() -> None:
    assert {"phaxio", "sinch", "sip", "hipaa"} <= set(EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES)
def test_an_example_compiles_without_a_diagnostic(example: str) -> None:
    result = compile_config(REPO / "docs" / "examples" / example / "config.d", PluginSource())
    assert [d.render() for d in result.diagnostics] == []
    assert result.artifact is not None


def test_the_sip_example_compiles_with_its_settings_checked() -> None:
    result = compile_config(REPO / "docs" / "examples" / "sip" / "config.d", PluginSource())
    assert [d.render() for d in result.diagnostics] == []
    assert result.artifact is not None
    providers = result.artifact["providers"]
    assert (providers["outbound"]["plugin"], providers["inbound"]["plugin"]) == ("sip", "sip")
    assert result.artifact["plugins"]["sip"]["version"] == "1.0.0"
    # secrets stay references in the artifact
    assert providers["outbound"]["settings"]["ami"]["secret"] == "${env:ASTERISK_AMI_SECRET}"
    assert providers["inbound"]["settings"]["inbound_token"].startswith("${env:")
