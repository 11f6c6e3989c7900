"""`faxbot config plan`: what a PR changes in the resolved config."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from faxbot.config.compiler import compile_config
from faxbot.config.plan import diff_artifacts, render_markdown, render_text
from faxbot.plugins.discovery import PluginSource

from tests.conftest import REPO

FAXBOT = str(Path(sys.executable).with_name("faxbot"))
BASE = {
    "00.yaml": "version: 1\n",
    "10.yaml": (
        "providers:\n"
        "  outbound:\n    plugin: test\n    version: 0.4.0\n"
        "    settings: {delay_seconds: 1, api_token: '${env:OLD_TOKEN}'}\n"
        "  storage: {plugin: local, version: 0.2.0}\n"
    ),
    "50.yaml": (
        "api_keys:\n"
        f"  - {{id: ci, sha256: {'a' * 64}, scopes: [fax:send]}}\n"
        f"  - {{id: old, sha256: {'b' * 64}, scopes: [fax:read]}}\n"
    ),
}


def artifact(write_config, fragments: dict[str, str], name: str) -> dict[str, object]:
    result = compile_config(write_config(fragments, name), PluginSource())
    assert result.ok, result.diagnostics
    assert result.artifact is not None
    return result.artifact


def test_no_changes(write_config) -> None:
    base = artifact(write_config, BASE, "a")
    assert diff_artifacts(base, artifact(write_config, BASE, "b")) == []


def test_every_kind_of_change_is_reported(write_config) -> None:
    head_fragments = dict(BASE)
    head_fragments["10.yaml"] = (
        "providers:\n"
        "  outbound:\n    plugin: test\n    version: 0.4.0\n    enabled: false\n"
        "    settings: {delay_seconds: 5, api_token: '${env:NEW_TOKEN}'}\n"
    )
    head_fragments["50.yaml"] = (
        "api_keys:\n"
        f"  - {{id: ci, sha256: {'c' * 64}, scopes: [fax:send, fax:read]}}\n"
        f"  - {{id: new, sha256: {'d' * 64}, scopes: [admin:read]}}\n"
    )
    head_fragments["00.yaml"] = "version: 1\nappliance: {listen: {port: 9090}}\n"
    changes = diff_artifacts(
        artifact(write_config, BASE, "a"), artifact(write_config, head_fragments, "b")
    )
    seen = {(c.section, c.action, c.subject, c.detail) for c in changes}
    assert ("plugins", "removed", "local", "local 0.2.0") in seen
    assert ("providers", "removed", "providers.storage", "local 0.2.0") in seen
    assert ("providers", "changed", "providers.outbound.enabled", "disabled") in seen
    assert ("settings", "changed", "providers.outbound.settings.delay_seconds", "1 -> 5") in seen
    assert (
        "settings",
        "changed",
        "providers.outbound.settings.api_token",
        "changed (secret; value not shown)",
    ) in seen
    assert ("appliance", "changed", "appliance.listen.port", "8080 -> 9090") in seen
    assert ("api_keys", "changed", "ci", "scopes +fax:read") in seen
    assert ("api_keys", "changed", "ci", "token rotated") in seen
    assert ("api_keys", "added", "new", "scopes admin:read") in seen
    assert ("api_keys", "removed", "old", "scopes fax:read") in seen
    assert ("operations", "removed", "send_fax", "disappears") in seen
    assert ("mcp_tools", "removed", "get_fax_status", "disappears") in seen
    text = render_text(changes, "plan")
    markdown = render_markdown(changes, "plan")
    for rendered in (text, markdown):
        assert "OLD_TOKEN" not in rendered and "NEW_TOKEN" not in rendered
        assert "c" * 64 not in rendered
    assert "| - | `send_fax` | disappears |" in markdown


def test_repinning_is_reported() -> None:
    base = {"plugins": {"test": {"version": "0.1.0", "manifest_digest": "x"}}}
    head = {"plugins": {"test": {"version": "0.2.0", "manifest_digest": "y"}}}
    [change] = diff_artifacts(base, head)
    assert (change.section, change.subject, change.detail) == (
        "plugins",
        "test",
        "re-pinned 0.1.0 -> 0.2.0",
    )


def _plan(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FAXBOT, "config", "plan", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


@pytest.mark.slow
def test_plan_against_a_git_ref_and_exit_codes(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "config.d").mkdir(parents=True)
    for fragment in (REPO / "config.d").glob("*.yaml"):
        (repo / "config.d" / fragment.name).write_text(fragment.read_text())
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=repo, check=True)

    same = _plan("--base", "HEAD", "--exit-code", cwd=repo)
    assert same.returncode == 0, same.stderr
    assert "no changes" in same.stdout

    (repo / "config.d" / "10-outbound.yaml").write_text(
        (REPO / "config.d" / "10-outbound.yaml")
        .read_text()
        .replace("enabled: true", "enabled: false")
    )
    changed = _plan("--base", "HEAD", "--exit-code", "--format", "json", cwd=repo)
    assert changed.returncode == 1, changed.stderr
    payload = json.loads(changed.stdout)
    assert payload["changed"] is True
    assert {
        "section": "providers",
        "action": "changed",
        "subject": "providers.outbound.enabled",
        "detail": "disabled",
        "before": True,
        "after": False,
    } in payload["changes"]
    assert payload["base_fingerprint"] != payload["head_fingerprint"]

    without_flag = _plan("--base", "HEAD", cwd=repo)
    assert without_flag.returncode == 0

    first_commit = _plan("--base", "HEAD", "--dir", "config.d", cwd=repo)
    assert first_commit.returncode == 0

    bogus = _plan("--base", "no-such-ref", cwd=repo)
    assert bogus.returncode == 2
    assert "not a directory, an artifact file or a git ref" in bogus.stderr


@pytest.mark.slow
def test_plan_against_an_artifact_and_a_folder_missing_at_the_ref(tmp_path: Path) -> None:
    out = tmp_path / "base.json"
    subprocess.run(
        [FAXBOT, "config", "compile", "--dir", str(REPO / "config.d"), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    against_artifact = _plan("--dir", str(REPO / "config.d"), "--base", str(out), cwd=tmp_path)
    assert against_artifact.returncode == 0
    assert "no changes" in against_artifact.stdout

    damaged = tmp_path / "damaged.json"
    damaged.write_text(out.read_text().replace('"data_dir": "data"', '"data_dir": "elsewhere"'))
    refused = _plan("--dir", str(REPO / "config.d"), "--base", str(damaged), cwd=tmp_path)
    assert refused.returncode == 2
    assert "does not match its fingerprint" in refused.stderr


@pytest.mark.slow
def test_switching_the_outbound_plugin_from_test_to_phaxio_reads_as_a_switch(
    tmp_path: Path,
) -> None:
    base, head = tmp_path / "base", tmp_path / "config.d"
    for folder in (base, head):
        folder.mkdir()
        for fragment in (REPO / "config.d").glob("*.yaml"):
            (folder / fragment.name).write_text(fragment.read_text())
    (head / "10-outbound.yaml").write_text(
        "providers:\n  outbound:\n    plugin: phaxio\n    version: 1.0.0\n    settings:\n"
        "      api_key: ${env:PHAXIO_API_KEY}\n      api_secret: ${env:PHAXIO_API_SECRET}\n"
        "      callback_token: ${file:/run/secrets/phaxio_callback_token}\n"
        "      header_text: Example Clinic\n"
    )
    planned = _plan("--dir", str(head), "--base", str(base), cwd=tmp_path)
    assert planned.returncode == 0, planned.stderr
    lines = planned.stdout.splitlines()
    prefix = "    ~ providers.outbound"
    test_version = PluginSource().load("test").version
    assert [line for line in lines if line.startswith(prefix)] == [
        f"{prefix}: switched test {test_version} -> phaxio 1.0.0"  # one line: plugin and version
    ]
    settings = "providers.outbound.settings"
    [dropped] = [line for line in lines if line.startswith(f"    - {settings}:")]
    assert dropped.startswith(f"    - {settings}: test's settings no longer apply: ")
    assert "delay_seconds, fail_numbers" in dropped
    assert f"    + {settings}.api_secret: set (secret; value not shown)" in lines
    assert f'    + {settings}.header_text: set to "Example Clinic"' in lines
    assert f"    + {settings}.timeout_seconds: set to 60 (phaxio's default)" in lines
    assert not [line for line in lines if "unset (was" in line]  # test's settings, one by one
    for hidden in ("PHAXIO_API_SECRET", "PHAXIO_API_KEY", "phaxio_callback_token"):
        assert hidden not in planned.stdout
