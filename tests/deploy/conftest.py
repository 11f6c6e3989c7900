"""What tests/deploy share: the image's environment, made here by deploy/build.sh exactly as
deploy/Dockerfile's build stage makes it (no container: base images cannot be pulled on this
machine), once per test run."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

DEPLOY = REPO / "deploy"
APPLIANCE_UID = 10001  # the image's user (deploy/Dockerfile), who owns only the data dir
# An interpreter the appliance's user may run: the test's own may live under /root (0700).
INTERPRETERS = ("/usr/bin/python3.11", "/usr/local/bin/python3.11")


# The build's inputs are what each test passes, not what the shell running pytest exported.
BUILD_ENVIRONMENT = {
    name: value
    for name, value in os.environ.items()
    if name not in ("SOURCE_DATE_EPOCH", "FAXBOT_SOURCE_REVISION")
}


@dataclass(frozen=True)
class Install:
    """deploy/build.sh's `install` step, done: its build context and its environment."""

    context: Path
    prefix: Path

    @property
    def artifact(self) -> Path:
        return self.prefix / "share" / "faxbot" / "faxbot.resolved.json"

    def build(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run deploy/build.sh from the build context, as the Dockerfile's RUN does."""
        return subprocess.run(
            ["bash", "deploy/build.sh", *args],
            cwd=self.context,
            capture_output=True,
            text=True,
            check=False,
            env={**BUILD_ENVIRONMENT, **(env or {})},
            timeout=900,
        )


def copy_build_context(into: Path) -> Path:
    """The files `docker build .` would send: this checkout's files that git does not ignore
    (tracked, or new and not ignored), uncommitted edits included."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if not source.is_file():  # deleted in the working tree, or a submodule
            continue
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return into


def interpreter() -> str:
    for candidate in INTERPRETERS:
        if Path(candidate).is_file():
            return candidate
    pytest.skip(f"no Python 3.11 outside /root for the image's user ({', '.join(INTERPRETERS)})")


@pytest.fixture(scope="session")
def install() -> Iterator[Install]:
    """The environment at a prefix every user may read (the image's /opt/faxbot), root-owned.
    Slow (a real pip install, a minute or more on a busy machine): made once per run."""
    top = Path(tempfile.mkdtemp(prefix="faxbot-deploy-"))
    try:
        top.chmod(0o755)  # the appliance's user must reach the prefix, as in the image
        context = copy_build_context(top / "src")
        made = Install(context, top / "opt" / "faxbot")
        done = made.build("install", str(made.prefix), "config.d", env={"PYTHON": interpreter()})
        assert done.returncode == 0, done.stdout + done.stderr
        yield made
    finally:
        shutil.rmtree(top, ignore_errors=True)
