"""Behaviours found missing in review, each pinned by a test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from faxbot.config.compiler import compile_config
from faxbot.config.explain import explain
from faxbot.config.plan import diff_artifacts
from faxbot.kernel.secrets import schema_secrets
from faxbot.plugins.discovery import PluginSource

from tests.conftest import REPO
from tests.fake_plugins import fake_source

FAXBOT = str(Path(sys.executable).with_name("faxbot"))


def rendered(folder: Path) -> list[str]:
    """Diagnostics as a user in the folder's parent would see them."""
    import os

    here = Path.cwd()
    os.chdir(folder.parent)
    try:
        return [d.render() for d in compile_config(Path(folder.name), fake_source()).diagnostics]
    finally:
        os.chdir(here)


def test_plan_reports_a_moved_pin_against_a_lenient_base(write_config) -> None:
    head = "version: 1\nproviders:\n  outbound: {plugin: test, version: 0.4.0}\n"
    base = head.replace("0.4.0", "0.0.9")
    source = PluginSource()
    base_result = compile_config(write_config({"00.yaml": base}, "base"), source, strict_pins=False)
    head_result = compile_config(write_config({"00.yaml": head}, "head"), source)
    assert base_result.artifact and head_result.artifact
    details = {
        (c.subject, c.detail) for c in diff_artifacts(base_result.artifact, head_result.artifact)
    }
    assert ("providers.outbound.version", "pinned 0.0.9 -> 0.4.0") in details
    assert ("test", "re-pinned 0.0.9 -> 0.4.0") in details


def test_plan_reports_a_changed_key_description(write_config) -> None:
    key = f"api_keys:\n  - {{id: ci, sha256: {'a' * 64}, scopes: [fax:send], description: %s}}\n"
    source = PluginSource()
    old = compile_config(write_config({"00.yaml": "version: 1\n" + key % "old"}, "a"), source)
    new = compile_config(write_config({"00.yaml": "version: 1\n" + key % "new"}, "b"), source)
    assert old.artifact and new.artifact
    [change] = diff_artifacts(old.artifact, new.artifact)
    assert (change.subject, change.detail) == ("ci", "description changed")


def test_keys_new_refuses_an_expiry_that_check_would_refuse() -> None:
    result = subprocess.run(
        [
            FAXBOT,
            "keys",
            "new",
            "--id",
            "ci",
            "--scopes",
            "fax:send",
            "--expires",
            "2027-01-31T12:00:00",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "a date-time needs a time zone" in result.stderr


def test_explain_shows_an_unset_secret_as_null() -> None:
    result = compile_config(REPO / "config.d", PluginSource())
    assert explain(result, ("appliance", "storage_encryption_key")).value is None


def test_references_are_refused_in_any_plain_value(write_config) -> None:
    folder = write_config(
        {
            "00.yaml": (
                "version: 1\napi_keys:\n"
                f"  - {{id: ci, sha256: {'a' * 64}, scopes: [fax:send], "
                "description: '${env:X}'}\n"
            )
        }
    )
    assert rendered(folder) == [
        "config.d/00.yaml:3:121: api_keys[0].description: references are only for secrets; "
        "write this value in config.d"
    ]


def test_secret_markers_behind_refs_and_in_list_items_are_found() -> None:
    schema = {
        "type": "object",
        "properties": {
            "b": {"$ref": "#/$defs/s"},
            "many": {"type": "array", "items": {"type": "string", "writeOnly": True}},
        },
        "$defs": {"s": {"type": "string", "format": "password"}},
    }
    assert schema_secrets(schema) == {("b",), ("many", "*")}


def test_formats_are_checked() -> None:
    from faxbot.config.structure import validator

    errors = list(validator({"type": "string", "format": "uri"}).iter_errors("not a uri"))
    assert [e.validator for e in errors] == ["format"]


def test_dev_profile_is_said_in_every_format() -> None:
    for fmt, expected in (
        ("json", '"notices": [\n    "profile dev: relaxed rules'),
        ("github", "::notice title=faxbot profile::profile dev: relaxed"),
        ("text", "note: profile dev: relaxed rules"),
    ):
        result = subprocess.run(
            [FAXBOT, "config", "check", "--format", fmt],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0
        assert expected in result.stdout, (fmt, result.stdout)
    payload = json.loads(
        subprocess.run(
            [FAXBOT, "config", "check", "--format", "json"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    )
    assert payload["valid"] is True


def test_hipaa_refuses_a_plaintext_plugin(write_config, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests import fake_plugins

    plaintext = fake_plugins.manifest(plaintext=True)
    monkeypatch.setattr(
        fake_plugins.FakeOutbound,
        "manifest",
        type(plaintext)(**{**plaintext.__dict__, "plaintext": True}),
    )
    folder = write_config(
        {
            "00.yaml": (
                "version: 1\nprofile: hipaa\nappliance:\n  audit_log: true\n"
                "  storage_encryption_key: ${env:KEY}\n  retention: {}\n"
                "providers:\n  outbound: {plugin: fake, version: 1.0.0, settings: {account: abc}}\n"
            )
        }
    )
    assert rendered(folder) == [
        "config.d/00.yaml:8:22: providers.outbound.plugin: plugin 'fake' talks to its backend "
        "without encryption; the hipaa profile forbids plaintext transports"
    ]


def test_a_hash_yaml_reads_as_a_number_says_to_quote_it(write_config) -> None:
    folder = write_config(
        {
            "00.yaml": (
                f"version: 1\napi_keys:\n  - {{id: ci, sha256: {'1' * 64}, scopes: [fax:send]}}\n"
            )
        }
    )
    [line] = rendered(folder)
    assert line.endswith(
        f"expected a string, got an integer {'1' * 64}; YAML read it as a number: put it in quotes"
    )


def test_plan_base_ref_outside_git_says_why(tmp_path: Path) -> None:
    result = subprocess.run(
        [FAXBOT, "config", "plan", "--dir", str(REPO / "config.d"), "--base", "HEAD"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0  # REPO is a git checkout: HEAD is a commit there
    outside = tmp_path / "config.d"
    outside.mkdir()
    (outside / "00.yaml").write_text("version: 1\n")
    refused = subprocess.run(
        [FAXBOT, "config", "plan", "--dir", str(outside), "--base", "HEAD"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 2
    assert "is not inside a git repository" in refused.stderr
