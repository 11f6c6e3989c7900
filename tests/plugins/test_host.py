"""Starting the plugins an artifact names: pins, manifests, secrets, the time budget."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import msgspec
import pytest
from faxbot.artifact import Artifact
from faxbot.config.compiler import compile_config
from faxbot.plugins import host as host_module
from faxbot.plugins.contract import Deps, Manifest
from faxbot.plugins.discovery import GROUP, PluginSource
from faxbot.plugins.host import PluginHost, StartupError, check_pins

from tests.conftest import REPO
from tests.fake_plugins import FakeOutbound, manifest


def artifact() -> dict[str, Any]:
    result = compile_config(REPO / "config.d", PluginSource())
    assert result.artifact is not None
    return result.artifact


def typed(data: dict[str, Any]) -> Artifact:
    return msgspec.convert(data, Artifact)


def test_pins_match_the_installed_plugins() -> None:
    assert set(check_pins(typed(artifact()), PluginSource())) == {"test", "local"}


def test_a_moved_pin_refuses_to_start_and_says_what_to_do() -> None:
    edited = artifact()
    edited["plugins"]["test"]["version"] = "0.0.9"
    with pytest.raises(StartupError) as caught:
        check_pins(typed(edited), PluginSource())
    message = str(caught.value)
    assert "plugin 'test' is pinned to 0.0.9 but faxbot_plugin_test 0.4.0 is installed" in message
    assert "run `faxbot config compile`" in message


def test_a_changed_manifest_refuses_to_start() -> None:
    edited = artifact()
    edited["plugins"]["local"]["manifest_digest"] = "sha256:" + "0" * 64
    with pytest.raises(StartupError, match="manifest differs from the one compiled"):
        check_pins(typed(edited), PluginSource())


def test_only_the_named_plugins_are_imported() -> None:
    loaded: list[str] = []

    class Recording(metadata.EntryPoint):
        def load(self) -> Any:
            loaded.append(self.name)
            return super().load()

    eps = [Recording(ep.name, ep.value, GROUP) for ep in metadata.entry_points(group=GROUP)]
    eps.append(Recording("never", "tests.no_such_module:X", GROUP))
    check_pins(typed(artifact()), PluginSource(lambda: eps))
    assert sorted(loaded) == ["local", "test"]


class SlowPlugin(FakeOutbound):
    manifest: ClassVar[Manifest] = manifest(id="slow")
    stopped = False

    async def start(self, settings: Mapping[str, Any], deps: Deps) -> None:
        await asyncio.sleep(0.3)

    async def stop(self) -> None:
        SlowPlugin.stopped = True


def _host(tmp_path: Path) -> PluginHost:
    entry = metadata.EntryPoint("slow", "tests.plugins.test_host:SlowPlugin", GROUP)
    plugin = PluginSource(lambda: [entry]).load("slow")
    art = artifact()
    art["providers"] = {
        "outbound": {"plugin": "slow", "version": "1.0.0", "enabled": True, "settings": {}}
    }
    art["plugins"] = {"slow": {**art["plugins"]["test"], "secret_settings": []}}
    log = logging.getLogger("test.host")
    return PluginHost(typed(art), {"slow": plugin}, {}, tmp_path, log)


def test_a_slow_start_warns_and_a_too_slow_start_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(host_module, "START_WARN_SECONDS", 0.1)
    host = _host(tmp_path)
    with caplog.at_level(logging.INFO, logger="test.host"):
        asyncio.run(host.start())
    [record] = [r for r in caplog.records if r.msg == "plugin started"]
    assert record.levelno == logging.WARNING
    assert record.__dict__["slow"] is True
    asyncio.run(host.stop())

    monkeypatch.setattr(host_module, "START_FAIL_SECONDS", 0.1)
    SlowPlugin.stopped = False
    with pytest.raises(StartupError, match=r"plugin 'slow' \(outbound\) did not start within"):
        asyncio.run(_host(tmp_path).start())
    assert SlowPlugin.stopped, "a plugin that failed to start is stopped"
