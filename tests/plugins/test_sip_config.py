"""The sip plugin's settings as the compiler checks them: the hipaa profile refuses it (AMI is
plain TCP), a channel template without {to} is refused with its location, and a plugin
instance that neither sends nor receives is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

from faxbot.config.compiler import compile_config
from faxbot.plugins.discovery import PluginSource

from tests.conftest import REPO

EXAMPLE = REPO / "docs" / "examples" / "sip" / "config.d"


def example_with(tmp_path: Path, extra: str) -> list[str]:
    config = tmp_path / "config.d"
    shutil.copytree(EXAMPLE, config)
    (config / "90-test.yaml").write_text(extra)
    result = compile_config(config, PluginSource())
    return [d.render() for d in result.diagnostics]


def test_the_hipaa_profile_refuses_the_plaintext_sip_plugin(tmp_path: Path) -> None:
    rendered = example_with(tmp_path, "profile: hipaa\n")
    assert any("plaintext" in line and "providers.outbound" in line for line in rendered), rendered


def test_a_channel_template_without_the_number_is_refused(tmp_path: Path) -> None:
    extra = "providers:\n  outbound:\n    settings:\n      channel_template: PJSIP/trunk\n"
    rendered = example_with(tmp_path, extra)
    assert any("channel_template" in line and "{to}" in line for line in rendered), rendered


def test_the_example_as_it_is_compiles(tmp_path: Path) -> None:
    assert example_with(tmp_path, "") == []
