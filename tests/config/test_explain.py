from __future__ import annotations

import pytest
from faxbot.config.compiler import compile_config
from faxbot.config.explain import UnknownKey, explain
from faxbot.plugins.discovery import PluginSource

FRAGMENTS = {
    "00-base.yaml": (
        "version: 1\n"
        "providers:\n"
        "  outbound:\n"
        "    plugin: test\n"
        "    version: 0.4.0\n"
        "    settings:\n"
        "      delay_seconds: 1\n"
    ),
    "50-override.yaml": (
        "providers:\n"
        "  outbound:\n"
        "    settings:\n"
        "      delay_seconds: 7\n"
        "      api_token: ${env:TOKEN}\n"
    ),
}


@pytest.fixture
def result(write_config):  # type: ignore[no-untyped-def]
    compiled = compile_config(write_config(FRAGMENTS), PluginSource())
    assert compiled.ok, compiled.diagnostics
    return compiled


def test_every_setter_in_merge_order_and_the_winner(result) -> None:  # type: ignore[no-untyped-def]
    found = explain(result, ("providers", "outbound", "settings", "delay_seconds"))
    assert found.value == 7
    places = [(o.place.split("/")[-1], o.value, o.wins) for o in found.origins]
    assert places == [("00-base.yaml:7:22", 1, False), ("50-override.yaml:4:22", 7, True)]


def test_secret_is_masked_and_its_reference_named(result) -> None:  # type: ignore[no-untyped-def]
    found = explain(result, ("providers", "outbound", "settings", "api_token"))
    assert found.secret is True
    assert found.value == "******** (from ${env:TOKEN})"


def test_defaults_are_explained(result) -> None:  # type: ignore[no-untyped-def]
    fail_numbers = explain(result, ("providers", "outbound", "settings", "fail_numbers"))
    assert [(o.place, o.value) for o in fail_numbers.origins] == [("plugin test defaults", [])]
    port = explain(result, ("appliance", "listen", "port"))
    assert port.value == 8080
    assert [o.place for o in port.origins] == ["default"]


def test_mapping_lists_what_set_anything_inside(result) -> None:  # type: ignore[no-untyped-def]
    found = explain(result, ("providers", "outbound", "settings"))
    assert found.value["api_token"] == "******** (from ${env:TOKEN})"
    assert any(o.path.endswith("delay_seconds") and o.wins for o in found.origins)


def test_unknown_key_suggests(result) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownKey) as caught:
        explain(result, ("providers", "outbound", "settings", "delay_secs"))
    assert "did you mean 'providers.outbound.settings.delay_seconds'?" in str(caught.value)
