"""deploy/compose.yaml as Compose itself reads it (`docker-compose config`, Debian's Compose,
which validates against the Compose schema it ships: offline), then what matters in it: the
profiles and their services, the appliances locked down, secrets as files."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.conftest import REPO
from tests.deploy.conftest import APPLIANCE_UID, DEPLOY

COMPOSE = shutil.which("docker-compose")
SHUTDOWN_GRACE_SECONDS = 20  # the appliance's default shutdown_grace_seconds
APPLIANCES = {"single": ["faxbot"], "replicas": ["faxbot-a", "faxbot-b"]}
SECRET_REFERENCE = re.compile(r"\$\{file:/run/secrets/([^}]+)\}")

needs_compose = pytest.mark.skipif(
    COMPOSE is None, reason="docker-compose (Debian package, scripts/setup --tests) not installed"
)


def compose_config(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMPOSE), "--file", str(path), "--project-name", "faxbot", "config"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.fixture(scope="module")
def resolved() -> dict[str, Any]:
    """The file with anchors, merges and relative paths resolved, as Compose runs it."""
    done = compose_config(DEPLOY / "compose.yaml")
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = YAML(typ="safe", pure=True).load(done.stdout)
    return data


@needs_compose
def test_compose_rejects_what_its_schema_does_not_know(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    text = (DEPLOY / "compose.yaml").read_text()
    broken.write_text(text.replace("read_only: true", "read_only: true\n  readonly: true", 1))
    done = compose_config(broken)
    assert done.returncode != 0
    assert "readonly" in done.stderr


@needs_compose
def test_profiles_hold_their_services(resolved: dict[str, Any]) -> None:
    by_profile: dict[str, set[str]] = {}
    for name, service in resolved["services"].items():
        (profile,) = service["profiles"]  # nothing starts without a profile
        by_profile.setdefault(profile, set()).add(name)
    assert by_profile == {
        "single": {"faxbot"},
        "replicas": {"faxbot-a", "faxbot-b", "postgres", "minio", "minio-bucket"},
    }


@needs_compose
@pytest.mark.parametrize("name", [name for names in APPLIANCES.values() for name in names])
def test_each_appliance_runs_locked_down(resolved: dict[str, Any], name: str) -> None:
    service = resolved["services"][name]
    assert service["read_only"] is True
    assert service["user"] == f"{APPLIANCE_UID}:{APPLIANCE_UID}"
    assert service["tmpfs"] == ["/tmp"]
    assert service["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in service["security_opt"]
    grace = re.fullmatch(r"(\d+)s", service["stop_grace_period"])
    assert grace and int(grace.group(1)) > SHUTDOWN_GRACE_SECONDS
    (volume,) = service["volumes"]  # a named volume on the image's data dir
    source, target, *_ = volume.split(":")
    assert source in resolved["volumes"] and target == "/var/lib/faxbot"
    assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert Path(service["build"]["context"]) == REPO
    assert (REPO / service["build"]["args"]["CONFIG_DIR"]).is_dir()
    # Secrets are files, never environment values.
    assert not any(
        word in variable
        for variable in service.get("environment", {})
        for word in ("SECRET", "PASSWORD", "KEY", "DATABASE_URL")
    )


@needs_compose
def test_replicas_get_every_secret_their_config_d_references(resolved: dict[str, Any]) -> None:
    text = "".join(path.read_text() for path in (DEPLOY / "config.d.replicas").glob("*.yaml"))
    referenced = set(SECRET_REFERENCE.findall(text))
    assert referenced
    for name in APPLIANCES["replicas"]:
        service = resolved["services"][name]
        assert {secret["source"] for secret in service["secrets"]} == referenced
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["environment"]["FAXBOT_REPLICA_ID"] == name
    for secret in resolved["secrets"].values():  # kept out of git by deploy/.gitignore
        assert Path(secret["file"]).parent == DEPLOY / "secrets"
    assert "secrets/" in (DEPLOY / ".gitignore").read_text().splitlines()
