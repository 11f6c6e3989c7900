"""deploy/config.d.replicas, the config.d the compose `replicas` profile builds its image from,
checked by the compiler: in full where the s3 plugin is installed; otherwise everything but its
storage fragment, which names that plugin's settings."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.deploy.conftest import DEPLOY

FAXBOT = str(Path(sys.executable).with_name("faxbot"))


def check(config_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FAXBOT, "config", "check", "--strict", "--dir", str(config_dir)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_replicas_config_d_is_valid(tmp_path: Path) -> None:
    config = shutil.copytree(DEPLOY / "config.d.replicas", tmp_path / "config.d")
    if importlib.util.find_spec("faxbot_plugin_s3") is None:
        # Until plugins/s3 is installed here: local storage in its place, the rest as it is.
        shutil.copy(REPO / "config.d" / "20-storage.yaml", config / "20-storage.yaml")
    done = check(config)
    assert done.returncode == 0, done.stdout + done.stderr


def test_database_and_storage_credentials_are_file_references() -> None:
    text = "".join(path.read_text() for path in sorted((DEPLOY / "config.d.replicas").iterdir()))
    assert "database_url: ${file:/run/secrets/faxbot-database-url}" in text
    assert "secret_access_key: ${file:/run/secrets/s3-secret-access-key}" in text
    assert "${env:" not in text
