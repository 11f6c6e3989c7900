"""deploy/build.sh, the image's build steps, run here into a temporary prefix: the artifact it
compiles is the one `faxbot config compile` gives, an invalid config.d stops it with every
error named, SOURCE_DATE_EPOCH makes it reproducible, and only the pinned plugins go in."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.deploy.conftest import DEPLOY, Install

TEST_PLUGIN = metadata.version("faxbot_plugin_test")  # the pin config.d holds

pytestmark = pytest.mark.slow

EPOCH = "1700000000"  # 2023-11-14T22:13:20Z


def installed_plugins(install: Install) -> list[str]:
    listed = subprocess.run(
        [str(install.prefix / "bin" / "faxbot"), "plugins", "list"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted(line.split()[0] for line in listed.splitlines() if line.strip())


def test_pinned_plugins_are_read_from_config_d() -> None:
    listed = subprocess.run(
        [sys.executable, str(DEPLOY / "pinned_plugins.py"), str(REPO / "config.d")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert listed.splitlines() == ["local 0.2.0", f"test {TEST_PLUGIN}"]


def test_pinned_plugins_skip_what_cannot_be_read(tmp_path: Path) -> None:
    """The compile step after it reports a broken fragment; listing must not stop first."""
    config = shutil.copytree(REPO / "config.d", tmp_path / "config.d")
    (config / "30-broken.yaml").write_text("providers: [unclosed\n")
    (config / "40-sip.yaml").write_text(
        "providers:\n  outbound:\n    plugin: sip\n    version: 1.0.0\n"
    )
    listed = subprocess.run(
        [sys.executable, str(DEPLOY / "pinned_plugins.py"), str(config)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert listed.splitlines() == ["local 0.2.0", "sip 1.0.0", f"test {TEST_PLUGIN}"]


def test_install_holds_the_appliance_and_only_the_pinned_plugins(install: Install) -> None:
    assert installed_plugins(install) == ["local", "test"]  # not phaxio, sinch, sip
    # Installed, not linked to a source tree: the image carries no checkout.
    site = next((install.prefix / "lib").glob("python3*/site-packages"))
    assert (site / "faxbot" / "server" / "app.py").is_file()
    assert not list(site.glob("__editable__*"))
    # Compiled to bytecode at build time: nothing is written beside the code at run time.
    assert list((site / "faxbot" / "server" / "__pycache__").glob("app.*.pyc"))


def test_compile_writes_the_artifact_config_d_describes(install: Install, tmp_path: Path) -> None:
    done = install.build("compile", str(install.prefix), "config.d")
    assert done.returncode == 0, done.stderr
    expected = tmp_path / "expected.json"
    subprocess.run(
        [
            str(Path(sys.executable).with_name("faxbot")),
            "config",
            "compile",
            "--dir",
            str(REPO / "config.d"),
            "--out",
            str(expected),
        ],
        capture_output=True,
        check=True,
        env={k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"},
    )
    built = json.loads(install.artifact.read_bytes())
    assert built["fingerprint"] == json.loads(expected.read_bytes())["fingerprint"]
    assert built["build"]["compiled_at"] is None  # no SOURCE_DATE_EPOCH: no clock in it


def test_an_invalid_config_d_stops_the_build_naming_every_error(
    install: Install, tmp_path: Path
) -> None:
    broken = shutil.copytree(REPO / "config.d", tmp_path / "config.d")
    appliance = broken / "00-appliance.yaml"
    appliance.write_text(appliance.read_text().replace("port: 8080", "prot: 8080"))
    outbound = broken / "10-outbound.yaml"
    outbound.write_text(outbound.read_text().replace(f"version: {TEST_PLUGIN}", "version: 9.9.9"))
    before = install.artifact.read_bytes() if install.artifact.exists() else None

    done = install.build("compile", str(install.prefix), str(broken))

    assert done.returncode == 1
    assert "00-appliance.yaml:22:5: appliance.listen.prot: unknown key 'prot'" in done.stderr
    assert "10-outbound.yaml" in done.stderr and "9.9.9" in done.stderr
    assert f"{broken} is not a valid config.d" in done.stderr
    # The artifact of an earlier good compile is not replaced by a half-written one.
    assert (install.artifact.read_bytes() if install.artifact.exists() else None) == before


def test_source_date_epoch_makes_the_artifact_reproducible(install: Install) -> None:
    env = {"SOURCE_DATE_EPOCH": EPOCH, "FAXBOT_SOURCE_REVISION": "0123abc"}
    first = install.build("compile", str(install.prefix), "config.d", env=env)
    assert first.returncode == 0, first.stderr
    first_bytes = install.artifact.read_bytes()
    install.artifact.unlink()
    second = install.build("compile", str(install.prefix), "config.d", env=env)
    assert second.returncode == 0, second.stderr

    assert install.artifact.read_bytes() == first_bytes
    build = json.loads(first_bytes)["build"]
    assert build == {"compiled_at": "2023-11-14T22:13:20Z", "source_revision": "0123abc"}
    # Every file of the image's environment is dated no later than the commit.
    newest = max(path.lstat().st_mtime for path in install.prefix.rglob("*"))
    assert newest <= int(EPOCH)
    assert install.artifact.stat().st_mtime == int(EPOCH)


def test_usage_errors_name_the_usage(install: Install) -> None:
    done = install.build("compile", str(install.prefix))
    assert done.returncode == 2
    assert "usage: deploy/build.sh compile PREFIX CONFIG_DIR" in done.stderr
    done = install.build("install", str(install.prefix.parent / "other"), "no-such.d")
    assert done.returncode == 2
    assert "config dir no-such.d does not exist" in done.stderr
    done = install.build(
        "compile", str(install.prefix), "config.d", env={"SOURCE_DATE_EPOCH": "yesterday"}
    )
    assert done.returncode == 2
    assert "SOURCE_DATE_EPOCH must be whole seconds since 1970, not 'yesterday'" in done.stderr


def test_the_console_step_without_the_console_sources_names_what_is_missing(tmp_path: Path) -> None:
    """The step itself (npm ci, vite build) is what `scripts/setup` runs on every machine; here
    only its refusal to build an image without the console's sources (npm would reach the
    registry, which tests never do)."""
    (tmp_path / "deploy").mkdir()
    shutil.copy(REPO / "deploy" / "build.sh", tmp_path / "deploy" / "build.sh")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "appliance" / "faxbot").mkdir(parents=True)
    done = subprocess.run(
        ["bash", "deploy/build.sh", "console"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode != 0
    assert "console/package.json is missing" in done.stderr
    assert list((tmp_path / "appliance" / "faxbot").iterdir()) == []
