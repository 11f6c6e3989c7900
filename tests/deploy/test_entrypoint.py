"""deploy/entrypoint.sh as the image runs it: as the image's non-root user, with the install
directory root-owned and read-only to it and only the data dir its own. It starts, serves a fax
to SUCCESS, answers the HEALTHCHECK, writes nothing outside the data dir and prints no secret;
with a data dir it may not write it refuses to start and says what to mount."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from faxbot.keys import new_key

from tests.conftest import REPO
from tests.deploy.conftest import APPLIANCE_UID, DEPLOY, Install
from tests.server.conftest import free_port

pytestmark = pytest.mark.slow

SETPRIV = shutil.which("setpriv")
AS_APPLIANCE = [
    str(SETPRIV),
    f"--reuid={APPLIANCE_UID}",
    f"--regid={APPLIANCE_UID}",
    "--clear-groups",
]


def snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every path under root with its mode, size and mtime: any write shows."""
    found = {}
    for path in [root, *root.rglob("*")]:
        info = path.lstat()
        found[str(path.relative_to(root))] = (info.st_mode, info.st_size, info.st_mtime_ns)
    return found


def entrypoint(
    install: Install, cwd: Path, *args: str, env: dict[str, str] | None = None
) -> list[str]:
    return [
        *AS_APPLIANCE,
        "env",
        "-i",
        "PATH=/usr/bin:/bin",
        f"FAXBOT_PREFIX={install.prefix}",
        *(f"{k}={v}" for k, v in (env or {}).items()),
        "bash",
        str(DEPLOY / "entrypoint.sh"),
        *args,
    ]


@pytest.fixture
def root_owned() -> Iterator[Path]:
    """A folder the appliance's user can enter but not write (tmp_path's parents are 0700)."""
    top = Path(tempfile.mkdtemp(prefix="faxbot-run-"))
    top.chmod(0o755)
    try:
        yield top
    finally:
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture
def can_run_as_appliance(install: Install) -> None:
    if SETPRIV is None or os.geteuid() != 0:
        pytest.skip("needs root and setpriv to run the entrypoint as the image's user")
    probe = subprocess.run(
        [*AS_APPLIANCE, str(install.prefix / "bin" / "python"), "-c", "pass"],
        capture_output=True,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr


def compile_with_key(install: Install, root_owned: Path, secret_file: Path) -> str:
    """config.d plus an API key and a secret reference, compiled by build.sh; the token."""
    config = shutil.copytree(REPO / "config.d", root_owned / "config.d")
    key = new_key("deploy", ["fax:send", "fax:read"])
    (config / "90-deploy-test.yaml").write_text(
        f"api_keys:\n  - id: deploy\n    sha256: {key.entry['sha256']}\n"
        "    scopes: [fax:send, fax:read]\n"
        "providers:\n  outbound:\n    settings:\n      delay_seconds: 0.2\n"
        f"  inbound:\n    settings:\n      webhook_secret: ${{file:{secret_file}}}\n"
    )
    done = install.build("compile", str(install.prefix), str(config))
    assert done.returncode == 0, done.stderr
    return key.token


@pytest.mark.usefixtures("can_run_as_appliance")
def test_serves_as_non_root_writing_only_its_data_dir(install: Install, root_owned: Path) -> None:
    secret = secrets.token_urlsafe(24)
    secret_file = root_owned / "run-secrets" / "webhook"
    secret_file.parent.mkdir(mode=0o755)
    secret_file.write_text(secret)
    os.chown(secret_file, 0, APPLIANCE_UID)
    secret_file.chmod(0o440)  # as Kubernetes mounts it: defaultMode 0440, fsGroup
    token = compile_with_key(install, root_owned, secret_file)
    work = root_owned / "var"  # the image's WORKDIR: root-owned, the data dir in it the user's
    work.mkdir(mode=0o755)
    data = work / "data"
    data.mkdir(mode=0o700)
    os.chown(data, APPLIANCE_UID, APPLIANCE_UID)
    before = snapshot(install.prefix)
    port = free_port()
    log = root_owned / "entrypoint.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            entrypoint(install, work, env={"FAXBOT_PORT": str(port)}),
            cwd=work,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        with httpx.Client(base_url=url, headers={"X-API-Key": token}, timeout=10) as client:
            sent = client.post(
                "/fax", data={"to": "+12025550143"}, files={"file": ("a.txt", b"Hello")}
            )
            assert sent.status_code == 202, sent.text
            job_id = sent.json()["id"]
            deadline = time.monotonic() + 30
            while (status := client.get(f"/fax/{job_id}").json()["status"]) != "SUCCESS":
                assert status in ("queued", "in_progress"), status
                assert time.monotonic() < deadline
                time.sleep(0.1)
        alive = subprocess.run(
            entrypoint(install, work, "health", env={"FAXBOT_PORT": str(port)}),
            cwd=work,
            capture_output=True,
            check=False,
        )
        assert alive.returncode == 0, alive.stderr
    finally:
        process.terminate()
        process.wait(30)
    # exec'd, so SIGTERM reached the appliance itself: it drained and exited 0, without a
    # traceback (a shell left in between would have died of the signal instead).
    assert process.returncode == 0, log.read_text()
    assert "Traceback" not in log.read_text()

    assert snapshot(install.prefix) == before  # not a byte, not a __pycache__ written
    assert sorted(path.name for path in work.iterdir()) == ["data"]
    owners = {path.lstat().st_uid for path in data.rglob("*")}
    assert owners == {APPLIANCE_UID}
    assert (data / "faxbot.sqlite3").is_file()
    assert secret not in log.read_text()
    # Stopped: the HEALTHCHECK now fails.
    health = subprocess.run(
        entrypoint(install, work, "health", env={"FAXBOT_PORT": str(port)}),
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    assert health.returncode == 1
    assert "faxbot-entrypoint health:" in health.stderr


@pytest.mark.usefixtures("can_run_as_appliance")
def test_refuses_a_data_dir_it_cannot_write(install: Install, root_owned: Path) -> None:
    done = install.build("compile", str(install.prefix), "config.d")
    assert done.returncode == 0, done.stderr
    refused = subprocess.run(
        entrypoint(install, root_owned),
        cwd=root_owned,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert refused.returncode == 2
    assert refused.stderr == (
        f"faxbot-entrypoint: the data directory {root_owned}/data (appliance.data_dir) is not "
        f"writable by uid {APPLIANCE_UID} gid {APPLIANCE_UID}: {root_owned} is not a folder "
        "this user may write; mount a volume there that it owns (compose: a named volume; "
        "Kubernetes: securityContext.fsGroup with an emptyDir or a PVC)\n"
    )
    assert not (root_owned / "data").exists()


def test_refuses_a_missing_artifact(install: Install, tmp_path: Path) -> None:
    missing = tmp_path / "none.json"
    refused = subprocess.run(
        ["bash", str(DEPLOY / "entrypoint.sh")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "FAXBOT_PREFIX": str(install.prefix), "FAXBOT_ARTIFACT": str(missing)},
    )
    assert refused.returncode == 2
    assert f"cannot read the artifact {missing} (FAXBOT_ARTIFACT)" in refused.stderr
