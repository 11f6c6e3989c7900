"""No secret value reaches any output of any command, in any format, nor the artifact.

Two kinds of secret are planted: a literal in a secret setting (an invalid config the tools
must report without quoting it), and the value behind a valid ${env:...} reference (which only
the appliance resolves, at start)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

FAXBOT = str(Path(sys.executable).with_name("faxbot"))
LITERAL = "lit3ral-s3cret-Zq9"
ENV_VALUE = "env-s3cret-Xw7"
DB_PASSWORD = "db-passw0rd-Yk2"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FAXBOT_TEST_TOKEN": ENV_VALUE, "FAXBOT_DATABASE_URL": ENV_VALUE}
    return subprocess.run(
        [FAXBOT, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def make_configs(root: Path) -> tuple[Path, Path]:
    good = root / "good"
    bad = root / "bad"
    for folder in (good, bad):
        folder.mkdir(parents=True)
        for fragment in (REPO / "config.d").glob("*.yaml"):
            (folder / fragment.name).write_text(fragment.read_text())
    (good / "60-secret.yaml").write_text(
        "providers:\n  outbound:\n    settings:\n      api_token: ${env:FAXBOT_TEST_TOKEN}\n"
        "appliance:\n  database_url: ${env:FAXBOT_DATABASE_URL}\n"
    )
    (bad / "60-secret.yaml").write_text(
        f"providers:\n  outbound:\n    settings:\n      api_token: {LITERAL}\n"
        f"      api_token: {LITERAL}-again\n"
        f"appliance:\n  database_url: postgresql://fax:{DB_PASSWORD}@db/fax\n"
        f"  storage_encryption_key: {LITERAL}\n"
    )
    (bad / "70-types.yaml").write_text(
        "providers:\n  outbound:\n    settings:\n      api_token: 12345678\n"
    )
    return good, bad


@pytest.mark.slow
def test_no_secret_in_any_output(tmp_path: Path) -> None:
    good, bad = make_configs(tmp_path)
    outputs: list[str] = []
    formats = {
        ("config", "check"): ("text", "json", "github"),
        ("config", "compile"): ("text", "json", "github"),
        ("config", "plan"): ("text", "markdown", "json"),
        ("config", "explain"): ("text", "json"),
    }
    artifacts = []
    for folder in (good, bad):
        for command, fmts in formats.items():
            for fmt in fmts:
                args = [*command, "--dir", str(folder), "--format", fmt]
                if command[1] == "compile":
                    out = tmp_path / f"{folder.name}-{fmt}.json"
                    args += ["--out", str(out)]
                    artifacts.append(out)
                if command[1] == "plan":
                    args += ["--base", str(bad if folder == good else good)]
                if command[1] == "explain":
                    for key in (
                        "providers.outbound.settings.api_token",
                        "providers",
                        "appliance.database_url",
                        "appliance",
                    ):
                        result = run(*args, key, cwd=tmp_path)
                        outputs += [result.stdout, result.stderr]
                    continue
                result = run(*args, cwd=tmp_path)
                outputs += [result.stdout, result.stderr]
    compiled = run("config", "compile", "--dir", str(good), "--out", "-", cwd=tmp_path)
    assert compiled.returncode == 0, compiled.stderr
    outputs.append(compiled.stdout)
    written = [p.read_text() for p in artifacts if p.exists()]
    assert written, "the valid config should have compiled"
    everything = "\n".join(outputs + written)
    for secret in (LITERAL, ENV_VALUE, DB_PASSWORD, "12345678"):
        assert secret not in everything
    # the reports did happen: the literal secrets were found and located
    assert "secret setting holds a literal value" in everything
    assert "60-secret.yaml:4:18" in everything
    assert "${env:FAXBOT_TEST_TOKEN}" in everything  # references are fine to show


def test_unparseable_line_with_a_secret_is_not_quoted(write_config) -> None:
    from faxbot.config.compiler import compile_config
    from faxbot.plugins.discovery import PluginSource

    folder = write_config({"00.yaml": f"version: 1\nsecret: [{LITERAL}\n"})
    result = compile_config(folder, PluginSource())
    rendered = "\n".join(d.render() for d in result.diagnostics)
    assert "YAML syntax" in rendered
    assert LITERAL not in rendered
