"""API keys merge by id across fragments (one fragment per key is the GitOps shape); every
other list is still replaced whole. The error for one id in two fragments is in the corpus
(60-api-key-id-in-two-fragments)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from faxbot.config.compiler import compile_config
from faxbot.config.explain import explain
from faxbot.keys import new_key
from faxbot.plugins.discovery import PluginSource

from tests.conftest import REPO

WriteConfig = Callable[..., Path]


def key_fragment(key_id: str, scopes: str = "fax:send") -> str:
    entry = new_key(key_id, scopes.split(",")).entry
    return f"api_keys:\n  - id: {key_id}\n    sha256: {entry['sha256']}\n    scopes: [{scopes}]\n"


def default_config(write_config: WriteConfig, extra: dict[str, str]) -> Path:
    fragments = {p.name: p.read_text() for p in (REPO / "config.d").glob("*.yaml")}
    return write_config({**fragments, **extra})


def test_one_fragment_per_key_gives_every_key(
    write_config: WriteConfig, plugin_source: PluginSource
) -> None:
    folder = default_config(
        write_config,
        {"60-key-billing.yaml": key_fragment("billing"), "61-key-ci.yaml": key_fragment("ci")},
    )
    result = compile_config(folder, plugin_source)
    assert result.ok and result.diagnostics == [], [d.render() for d in result.diagnostics]
    assert result.artifact is not None
    assert [k["id"] for k in result.artifact["api_keys"]] == ["billing", "ci"]
    sources = result.artifact["sources"]
    assert sources["api_keys[0].sha256"] == "config.d/60-key-billing.yaml:3"
    assert sources["api_keys[1].sha256"] == "config.d/61-key-ci.yaml:3"
    origins = explain(result, ("api_keys", 1)).origins  # its own fragment, nothing else
    assert {o.place.split(":")[0] for o in origins} == {str(folder / "61-key-ci.yaml")}


def test_an_extra_fragment_adds_its_key_to_config_d_s(
    write_config: WriteConfig, plugin_source: PluginSource, tmp_path: Path
) -> None:
    """What scripts/run does: config.d's keys, then its development key from outside."""
    folder = default_config(write_config, {"60-key-billing.yaml": key_fragment("billing")})
    dev = tmp_path / ".dev" / "dev-key.yaml"
    dev.parent.mkdir()
    dev.write_text(key_fragment("dev", "fax:send,fax:read"))
    result = compile_config(folder, plugin_source, extra=[dev])
    assert result.ok, [d.render() for d in result.diagnostics]
    assert result.artifact is not None
    assert [k["id"] for k in result.artifact["api_keys"]] == ["billing", "dev"]
    assert result.artifact["sources"]["api_keys[1].id"] == ".dev/dev-key.yaml:2"


def test_other_lists_are_still_replaced_whole(
    write_config: WriteConfig, plugin_source: PluginSource
) -> None:
    overlay = "providers:\n  outbound:\n    settings:\n      fail_numbers: ['+15550000001']\n"
    folder = default_config(write_config, {"90-overlay.yaml": overlay})
    result = compile_config(folder, plugin_source)
    assert result.data["providers"]["outbound"]["settings"]["fail_numbers"] == ["+15550000001"]
    assert [d.code for d in result.diagnostics] == ["list-replaced"]
