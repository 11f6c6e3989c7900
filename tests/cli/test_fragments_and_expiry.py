"""`--fragment` (a fragment from outside --dir, as scripts/run adds its key) and the
`api-key-expired` warning on the real clock, through the console script."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from faxbot.keys import new_key

from tests.cli.test_commands import faxbot

WriteConfig = Callable[..., Path]


def key_yaml(key_id: str, expires: str | None = None) -> str:
    entry = new_key(key_id, ["fax:send"]).entry
    text = f"api_keys:\n  - id: {key_id}\n    sha256: {entry['sha256']}\n    scopes: [fax:send]\n"
    return text + (f"    expires: {expires}\n" if expires else "")


def test_a_fragment_from_outside_config_d_is_merged_and_named(
    write_config: WriteConfig, tmp_path: Path
) -> None:
    folder = write_config({"00.yaml": "version: 1\n", "50-key-ci.yaml": key_yaml("ci")})
    extra = tmp_path / "extra" / "dev-key.yaml"
    extra.parent.mkdir()
    extra.write_text(key_yaml("dev"))
    out = tmp_path / "out.json"
    compiled = faxbot(
        "config",
        "compile",
        "--dir",
        str(folder),
        "--fragment",
        str(extra),
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert compiled.returncode == 0, compiled.stderr
    artifact = json.loads(out.read_text())
    assert [k["id"] for k in artifact["api_keys"]] == ["ci", "dev"]
    # the same id in config.d and in the extra fragment: an error naming both files
    extra.write_text(key_yaml("ci"))
    checked = faxbot(
        "config", "check", "--dir", "config.d", "--fragment", "extra/dev-key.yaml", cwd=tmp_path
    )
    assert checked.returncode == 1
    assert checked.stdout.splitlines()[0] == (
        "extra/dev-key.yaml:2:9: api_keys[0].id: API key id 'ci' is already defined at "
        "config.d/50-key-ci.yaml:2:9; an id may be defined once across config.d"
    )


def test_a_fragment_must_exist_and_be_yaml(write_config: WriteConfig, tmp_path: Path) -> None:
    folder = write_config({"00.yaml": "version: 1\n"})
    missing = faxbot(
        "config", "check", "--dir", str(folder), "--fragment", "nope.yaml", cwd=tmp_path
    )
    assert missing.returncode == 2 and "nope.yaml" in missing.stderr
    (tmp_path / "key.yml").write_text(key_yaml("ci"))
    yml = faxbot("config", "check", "--dir", str(folder), "--fragment", "key.yml", cwd=tmp_path)
    assert yml.returncode == 2 and "fragments end in .yaml" in yml.stderr


def test_an_expired_key_is_a_warning_and_strict_fails_on_it(write_config: WriteConfig) -> None:
    """The commands judge expiry by the clock: 2000-01-01 is past on any day this runs."""
    folder = write_config({"00.yaml": "version: 1\n", "50.yaml": key_yaml("old", "2000-01-01")})
    checked = faxbot("config", "check", "--dir", str(folder))
    assert checked.returncode == 0, checked.stdout
    assert "api_keys[0].expires: warning: API key 'old' expired at 2000-01-01T00:00:00Z" in (
        checked.stdout
    )
    assert faxbot("config", "check", "--strict", "--dir", str(folder)).returncode == 1
    data = json.loads(faxbot("config", "check", "--dir", str(folder), "--format", "json").stdout)
    assert [w["code"] for w in data["warnings"]] == ["api-key-expired"]
