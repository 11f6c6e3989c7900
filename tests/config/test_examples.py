"""The example config.d folders in docs/examples: everything in them is checked today and
passes, except the transport plugins that are announced but not released yet; an example
whose plugins are all released compiles without a diagnostic."""

from __future__ import annotations

import pytest
from faxbot.config.compiler import compile_config
from faxbot.plugins.discovery import PluginSource

from tests.conftest import REPO

EXAMPLES = sorted(p.parent.name for p in (REPO / "docs" / "examples").glob("*/config.d"))


def test_there_are_examples() -> None:
    assert {"phaxio", "sinch", "sip", "hipaa"} <= set(EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES)
def test_an_example_fails_only_on_its_unreleased_plugins(example: str) -> None:
    result = compile_config(REPO / "docs" / "examples" / example / "config.d", PluginSource())
    codes = {d.code for d in result.diagnostics}
    assert codes <= {"plugin-not-released"}, [d.render() for d in result.diagnostics]
    assert all("is not released yet" in d.message for d in result.diagnostics)


def test_the_sinch_example_compiles_now_that_sinch_is_released() -> None:
    result = compile_config(REPO / "docs" / "examples" / "sinch" / "config.d", PluginSource())
    assert [d.render() for d in result.diagnostics] == []
