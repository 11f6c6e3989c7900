from __future__ import annotations

from importlib import metadata

import pytest
from faxbot.plugins.discovery import GROUP, PluginLoadError, PluginSource

from tests.fake_plugins import fake_source


def test_installed_first_party_plugins_are_found_with_their_versions() -> None:
    source = PluginSource()
    assert {"test", "local"} <= set(source.ids())
    test = source.load("test")
    assert (test.version, test.distribution) == ("0.4.0", "faxbot_plugin_test")
    assert test.manifest_digest.startswith("sha256:")
    assert test.secrets.patterns == frozenset(
        {("api_token",), ("webhook_secret",), ("webhook_previous_secret",)}
    )


def test_only_the_named_plugin_is_imported() -> None:
    loaded: list[str] = []

    class Recording(metadata.EntryPoint):
        def load(self):  # type: ignore[no-untyped-def]
            loaded.append(self.name)
            return super().load()

    eps = [
        Recording("fake", "tests.fake_plugins:FakeOutbound", GROUP),
        Recording("greedy", "tests.fake_plugins:ClaimsTooMuch", GROUP),
    ]
    source = PluginSource(lambda: eps)
    source.load("fake")
    source.load("fake")
    assert loaded == ["fake"]


@pytest.mark.parametrize(
    ("plugin_id", "message"),
    [
        ("nope", "plugin 'nope' is not installed"),
        (
            "brokenimport",
            "failed to import: ModuleNotFoundError: No module named 'tests.no_such_module'",
        ),
        ("notaplugin", "is not a faxbot Plugin subclass"),
        ("greedy", "claims capability 'get_status' but ClaimsTooMuch does not implement it"),
        ("confused", "claims capability 'put', which none of its categories (outbound) offers"),
        ("badmanifest", "manifest platform: 'cobol' is not one of ['python', 'node']"),
    ],
)
def test_broken_plugins_are_refused_with_the_reason(plugin_id: str, message: str) -> None:
    with pytest.raises(PluginLoadError) as caught:
        fake_source().load(plugin_id)
    assert message in str(caught.value)
    assert caught.value.missing is (plugin_id == "nope")


def test_a_plugin_installed_twice_is_refused() -> None:
    eps = [metadata.EntryPoint("fake", "tests.fake_plugins:FakeOutbound", GROUP)] * 2
    with pytest.raises(PluginLoadError, match="installed twice"):
        PluginSource(lambda: eps).load("fake")


def test_entry_point_name_must_equal_manifest_id() -> None:
    eps = [metadata.EntryPoint("other", "tests.fake_plugins:FakeOutbound", GROUP)]
    with pytest.raises(
        PluginLoadError, match="manifest id 'fake' differs from entry point 'other'"
    ):
        PluginSource(lambda: eps).load("other")
