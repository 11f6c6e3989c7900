from __future__ import annotations

import json
from pathlib import Path

import pytest
from faxbot.artifact import ArtifactError, fingerprint, load_artifact, seal, write_atomic
from faxbot.config.compiler import compile_config
from faxbot.plugins.discovery import PluginSource

from tests.conftest import REPO


@pytest.fixture
def artifact() -> dict[str, object]:
    result = compile_config(REPO / "config.d", PluginSource())
    assert result.artifact is not None
    return result.artifact


def test_artifact_has_the_contract_fields(artifact: dict[str, object]) -> None:
    for key in (
        "version",
        "fingerprint",
        "profile",
        "appliance",
        "providers",
        "plugins",
        "api_keys",
        "sources",
        "surface",
        "build",
    ):
        assert key in artifact
    plugins = artifact["plugins"]
    assert isinstance(plugins, dict)
    assert plugins["test"]["version"] == "0.4.0"
    assert plugins["test"]["capabilities"] == [
        "get_inbound_pdf",
        "get_status",
        "health_check",
        "ingest_webhook",
        "list_inbound",
        "send",
    ]
    sources = artifact["sources"]
    assert isinstance(sources, dict)
    assert sources["providers.outbound.plugin"] == "config.d/10-outbound.yaml:6"
    assert sources["appliance.limits.max_attempts"] == "default"
    assert sources["providers.storage.settings.fsync"] == "plugin local defaults"


def test_write_is_atomic_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "build" / "faxbot.resolved.json"
    write_atomic(target, b"one")
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["faxbot.resolved.json"]
    assert target.stat().st_mode & 0o777 == 0o644


def test_failed_write_keeps_the_old_artifact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "faxbot.resolved.json"
    write_atomic(target, b"old")

    def broken_replace(self: Path, other: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["faxbot.resolved.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no artifact at"),
        (b"{not json", "is not valid JSON"),
        (b"[]", "is not a JSON object"),
        (b'{"version": 99}', "has version 99, this faxbot reads version 1"),
        (b'{"version": 1}', "lacks fingerprint"),
        (b'{"version": 1, "a": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", "nested deeper"),
        (b'{"version": 1, "a": ' + b"[" * 200_000, "nested deeper than 100 levels"),
        (b'{"version": 1, "a": "' + b"[{" * 500 + b'\\"]", "b": 1}', "lacks fingerprint"),
    ],
)
def test_untrustworthy_artifacts_are_refused_with_what_to_run(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "a.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ArtifactError) as caught:
        load_artifact(path)
    assert message in str(caught.value)
    assert "faxbot config compile --out" in str(caught.value)


def test_edited_artifact_fails_its_fingerprint(tmp_path: Path, artifact: dict[str, object]) -> None:
    path = tmp_path / "a.json"
    edited = dict(artifact)
    edited["profile"] = "hipaa"
    path.write_text(json.dumps(edited))
    with pytest.raises(ArtifactError, match="does not match its fingerprint"):
        load_artifact(path)
    path.write_text(json.dumps(seal(edited)))
    assert load_artifact(path).profile == "hipaa"


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        (("appliance", "limits", "max_pages"), "many", "Expected `int`, got `str`"),
        (("providers", "outbound", "enabled"), "yes", "Expected `bool`, got `str`"),
        (("plugins", "test", "extra"), 1, "unknown field `extra`"),
        (("profile",), "prod", "Invalid enum value 'prod'"),
    ],
)
def test_a_sealed_artifact_of_the_wrong_shape_is_refused_naming_the_field(
    tmp_path: Path,
    artifact: dict[str, object],
    where: tuple[str, ...],
    value: object,
    message: str,
) -> None:
    """Every field is checked on load, not only the top-level keys: the fingerprint alone
    cannot tell a hand-made artifact of the wrong shape."""
    edited = json.loads(json.dumps(artifact))
    parent = edited
    for key in where[:-1]:
        parent = parent[key]
    parent[where[-1]] = value
    edited["fingerprint"] = fingerprint(edited)
    path = tmp_path / "a.json"
    path.write_text(json.dumps(edited))
    with pytest.raises(ArtifactError) as caught:
        load_artifact(path)
    assert message in str(caught.value)
    assert "is malformed" in str(caught.value)
