"""The console script as users run it: exit codes and output of each command."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

FAXBOT = str(Path(sys.executable).with_name("faxbot"))


def faxbot(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FAXBOT, *args], cwd=cwd, capture_output=True, text=True, check=False)


def test_check_the_example_config() -> None:
    result = faxbot("config", "check")
    assert result.returncode == 0, result.stdout
    assert "config.d: valid (5 fragments)" in result.stdout
    assert "profile dev: relaxed rules" in result.stdout


def test_usage_errors_exit_2() -> None:
    assert faxbot("config", "check", "--format", "yaml").returncode == 2
    assert faxbot("config", "explain", "not..a path").returncode == 2
    assert faxbot("config", "frobnicate").returncode == 2


def test_missing_config_dir_is_invalid_not_a_crash(tmp_path: Path) -> None:
    result = faxbot("config", "check", "--dir", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert "nope: does not exist" in result.stdout


def test_compile_to_stdout_and_explain(tmp_path: Path) -> None:
    compiled = faxbot("config", "compile", "--out", "-")
    assert compiled.returncode == 0
    assert json.loads(compiled.stdout)["fingerprint"].startswith("sha256:")
    explained = faxbot("config", "explain", "providers.outbound.settings.delay_seconds")
    assert explained.returncode == 0
    assert explained.stdout.splitlines()[0] == "providers.outbound.settings.delay_seconds = 1"
    assert "config.d/10-outbound.yaml:10:22  1  (wins)" in explained.stdout
    unknown = faxbot("config", "explain", "appliance.nope")
    assert unknown.returncode == 1
    assert "no key appliance.nope" in unknown.stderr


def test_compile_refuses_a_bad_source_date_epoch(tmp_path: Path) -> None:
    result = subprocess.run(
        [FAXBOT, "config", "compile", "--out", str(tmp_path / "a.json")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        env={"SOURCE_DATE_EPOCH": "yesterday", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert "SOURCE_DATE_EPOCH must be whole seconds" in result.stderr
    assert not (tmp_path / "a.json").exists()


def test_keys_new_prints_a_token_once_and_its_hash_entry(write_config) -> None:
    result = faxbot(
        "keys", "new", "--id", "billing-app", "--scopes", "fax:send,fax:read", "--format", "json"
    )
    assert result.returncode == 0
    payload = json.loads(result.stdout)
    token = payload["token"]
    assert token.startswith("fbk_") and len(token) >= 40
    assert payload["entry"]["sha256"] == hashlib.sha256(token.encode()).hexdigest()
    text = faxbot("keys", "new", "--id", "ci", "--scopes", "fax:send", "--expires", "2027-01-31")
    token_line, *yaml_lines = [line for line in text.stdout.splitlines() if line]
    folder = write_config({"00.yaml": "version: 1\n", "50.yaml": "\n".join(yaml_lines) + "\n"})
    checked = faxbot("config", "check", "--dir", str(folder))
    assert checked.returncode == 0, checked.stdout
    assert token_line not in (folder / "50.yaml").read_text()


def test_keys_new_rejects_unknown_scopes_and_bad_ids() -> None:
    bad_scope = faxbot("keys", "new", "--id", "ci", "--scopes", "fax:sned")
    assert bad_scope.returncode == 2
    assert "unknown scope(s) fax:sned" in bad_scope.stderr
    assert faxbot("keys", "new", "--id", "Bad Id", "--scopes", "fax:send").returncode == 2


def test_plugins_list() -> None:
    listed = faxbot("plugins", "list", "--format", "json")
    assert listed.returncode == 0
    rows = {row["id"]: row for row in json.loads(listed.stdout)["plugins"]}
    assert rows["test"]["version"] == "0.4.0"
    assert rows["test"]["slots"] == ["outbound", "inbound"]
    assert rows["local"]["capabilities"] == ["put", "get", "delete", "health_check"]
    text = faxbot("plugins", "list")
    assert "test       0.4.0      slots=outbound,inbound" in text.stdout


def test_a_yml_fragment_fails_and_strict_makes_warnings_fail(tmp_path: Path) -> None:
    config = tmp_path / "config.d"
    config.mkdir()
    for fragment in (REPO / "config.d").glob("*.yaml"):
        (config / fragment.name).write_text(fragment.read_text())
    (config / "README.txt").write_text("what these fragments are for\n")
    relaxed = faxbot("config", "check", "--dir", str(config))
    assert relaxed.returncode == 0, relaxed.stdout
    assert "README.txt: warning: ignored" in relaxed.stdout
    strict = faxbot("config", "check", "--strict", "--dir", str(config))
    assert strict.returncode == 1, strict.stdout
    out = tmp_path / "a.json"
    assert (
        faxbot("config", "compile", "--strict", "--dir", str(config), "--out", str(out)).returncode
        == 1
    )
    assert not out.exists()

    (config / "README.txt").unlink()
    (config / "60-more.yml").write_text("providers:\n  outbound:\n    enabled: false\n")
    renamed = faxbot("config", "check", "--dir", str(config))
    assert renamed.returncode == 1
    assert "60-more.yml: fragments end in .yaml: rename it to 60-more.yaml" in renamed.stdout
