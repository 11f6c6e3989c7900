"""The Node SDK installs as a user installs it (issue 10, defect 6): from the folder of a
fresh checkout, from the tarball `npm pack` makes, and from a git URL, each into a scratch
project of its own, which then imports `@faxbot/sdk` and sends a fax through a real appliance.

Real npm against the npm registry (the only network these tests use: the package's
`prepare` script installs TypeScript from it when it is not in npm's cache); the checkout
and the git repository are copies in a temporary folder, so nothing here touches
sdks/node itself."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.server.conftest import Appliance, build

pytestmark = pytest.mark.slow

PACKAGE = REPO / "sdks" / "node"
# What a fresh checkout of sdks/node lacks: sdks/node/.gitignore's build outputs.
NOT_IN_A_CHECKOUT = ("node_modules", "dist", "*.tgz")

# A user's first program: the client from FAXBOT_URL and FAXBOT_API_KEY, a fax, its end.
PROGRAM = """
import { Faxbot, RETRY_POLICY } from "@faxbot/sdk";

const faxbot = new Faxbot();
const job = await faxbot.sendFax("+12025550143", Buffer.from("Installed and sending.\\n"));
const done = await faxbot.wait(job.id, { timeoutMs: 60000 });
console.log(JSON.stringify({ id: done.id, status: done.status, retries: RETRY_POLICY.maxRetries }));
"""

# A TypeScript user's code, type-checked against the installed package's declarations: a
# status the SDK does not know yet compares with a job's status without a type error.
TYPESCRIPT = """
import { Faxbot, WaitTimeoutError, type FaxJob, type JobStatus } from "@faxbot/sdk";

export const statuses: JobStatus[] = ["queued", "a_status_from_a_newer_appliance"];

export async function settled(faxbot: Faxbot, id: string): Promise<boolean> {
  try {
    const job: FaxJob = await faxbot.wait(id, { timeoutMs: 1000 });
    return job.status === "SUCCESS" || job.status === "a_status_from_a_newer_appliance";
  } catch (error) {
    if (error instanceof WaitTimeoutError) {
      return error.job.status === "FAILED";
    }
    throw error;
  }
}
"""


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"`{name}` is not on PATH: the Node SDK needs Node 20 and npm (scripts/setup)")
    return found


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    result = subprocess.run(
        args, check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    output = f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    assert result.returncode == 0, f"{' '.join(args)} exited {result.returncode}:\n{output}"
    return result.stdout


@pytest.fixture(scope="module")
def appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    with build(tmp_path_factory.mktemp("appliance")).running() as running:
        yield running


@pytest.fixture(scope="module")
def env(appliance: Appliance) -> dict[str, str]:
    """npm quiet and from its cache where it can; the program's appliance."""
    return {
        **os.environ,
        "npm_config_prefer_offline": "true",
        "npm_config_audit": "false",
        "npm_config_fund": "false",
        "npm_config_update_notifier": "false",
        "FAXBOT_URL": appliance.url,
        "FAXBOT_API_KEY": appliance.tokens["admin"],
    }


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sdks/node as a fresh checkout has it (no node_modules, no dist), inside a git
    repository of its own with one commit."""
    root = tmp_path_factory.mktemp("faxbot")
    shutil.copytree(
        PACKAGE, root / "sdks" / "node", ignore=shutil.ignore_patterns(*NOT_IN_A_CHECKOUT)
    )
    git = [_tool("git"), "-c", "user.name=Faxbot tests", "-c", "user.email=tests@faxbot.invalid"]
    for args in (["init", "--quiet"], ["add", "--all"], ["commit", "--quiet", "-m", "sdks"]):
        _run([*git, *args], root, dict(os.environ))
    return root


def _scratch(tmp_path: Path) -> Path:
    project = tmp_path / "my-project"
    project.mkdir()
    manifest = {"name": "my-project", "version": "1.0.0", "private": True, "type": "module"}
    (project / "package.json").write_text(json.dumps(manifest))
    return project


def _installed_and_sending(project: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run PROGRAM in the project; what it printed."""
    stdout = _run([_tool("node"), "--input-type=module", "-e", PROGRAM], project, env, 120)
    printed: dict[str, Any] = json.loads(stdout)
    assert printed["status"] == "SUCCESS", printed
    assert printed["retries"] == 3
    return printed


def test_install_from_the_folder_of_a_fresh_checkout(
    checkout: Path, env: dict[str, str], tmp_path: Path
) -> None:
    package = checkout / "sdks" / "node"
    assert not (package / "dist").exists()
    project = _scratch(tmp_path)
    _run([_tool("npm"), "install", str(package)], project, env)

    # npm links the folder and runs its prepare script there, which installed TypeScript as
    # the lockfile pins it and compiled dist/.
    assert (package / "dist" / "index.js").is_file()
    assert (package / "dist" / "index.d.ts").is_file()
    dependency = json.loads((project / "package.json").read_text())["dependencies"]
    assert dependency == {"@faxbot/sdk": "file:" + os.path.relpath(package, project)}
    _installed_and_sending(project, env)


def test_install_from_a_tarball(checkout: Path, env: dict[str, str], tmp_path: Path) -> None:
    package = checkout / "sdks" / "node"
    packed = _run(
        [_tool("npm"), "pack", "--json", "--pack-destination", str(tmp_path)], package, env
    )
    tarball = tmp_path / json.loads(packed)[0]["filename"]
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
    assert {"package/dist/index.js", "package/dist/index.d.ts", "package/package.json"} <= names
    assert "package/src/generated/retryPolicy.ts" in names  # the sources the source maps name
    assert not any(name.startswith(("package/test/", "package/node_modules/")) for name in names)

    project = _scratch(tmp_path)
    _run([_tool("npm"), "install", str(tarball)], project, env)
    installed = project / "node_modules" / "@faxbot" / "sdk"
    assert not installed.is_symlink()
    assert not (installed / "node_modules").exists(), "no runtime dependencies"
    _installed_and_sending(project, env)

    # Its declarations type-check a TypeScript user's code (with the TypeScript and Node
    # types the checkout's prepare installed; the scratch project has none of its own).
    (project / "check.ts").write_text(TYPESCRIPT)
    tools = package / "node_modules"
    tsc = [_tool("node"), str(tools / "typescript" / "bin" / "tsc")]
    options = ["--noEmit", "--strict", "--target", "es2022", "--module", "nodenext"]
    types = ["--typeRoots", str(tools / "@types"), "--types", "node"]
    _run([*tsc, *options, *types, "check.ts"], project, env)


def _npm_major(env: dict[str, str]) -> int:
    return int(_run([_tool("npm"), "--version"], Path.cwd(), env).split(".")[0])


def test_install_from_a_git_url(checkout: Path, env: dict[str, str], tmp_path: Path) -> None:
    if _npm_major(env) < 11:
        pytest.skip("npm 10 cannot install a package from a folder of a git repository")
    commit = _run([_tool("git"), "rev-parse", "HEAD"], checkout, env).strip()
    # `::path:` names the folder; it works after a full commit id (npm 11 loses the path when
    # it resolves a branch or tag name: see docs/decisions.md).
    url = f"git+{checkout.as_uri()}#{commit}::path:sdks/node"
    project = _scratch(tmp_path)
    _run([_tool("npm"), "install", url], project, env)

    installed = project / "node_modules" / "@faxbot" / "sdk"
    assert (installed / "dist" / "index.js").is_file()
    assert json.loads((project / "package.json").read_text())["dependencies"] == {
        "@faxbot/sdk": url
    }
    _installed_and_sending(project, env)
