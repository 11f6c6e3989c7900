"""`scripts/run` as a newcomer runs it: in a fresh clone of the committed HEAD, with a key of
their own added to config.d as `faxbot keys new` and the README say, on a port of their choice.

What this proves: the clone's scripts/run and scripts/setup, its config.d and README work from
a directory that has never had a build/ or .dev/; the banner shows the real address; the
printed FAXBOT_URL and FAXBOT_API_KEY work with the printed curl lines; the user's key works
beside the development key; diagnostics name the user's own files; `faxbot config compile`
with its defaults leaves the served artifact alone. What it does not prove: a fresh pip
install. The clone reuses this test run's environment (FAXBOT_VENV, so the test is offline and
fast), whose editable installs point at this checkout's sources, not the clone's; the install
itself is what scripts/test's own scripts/setup exercises."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from tests.server.conftest import free_port

pytestmark = pytest.mark.slow


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False, env=env)
    assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    head = run(["git", "rev-parse", "HEAD"], REPO).strip()
    where = tmp_path / "faxbot"
    run(["git", "clone", "--quiet", "--no-checkout", str(REPO), str(where)], tmp_path)
    run(["git", "checkout", "--quiet", head], where)
    return where


class Running:
    def __init__(self, clone: Path, port: int) -> None:
        self.clone = clone
        self.port = port
        self.out = clone.parent / "run.out"
        self.err = clone.parent / "run.err"
        env = {**os.environ, "FAXBOT_VENV": sys.prefix}
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen(
                ["bash", "scripts/run", "--port", str(port)],
                cwd=clone,
                stdout=out,
                stderr=err,
                env=env,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"scripts/run exited: {self.output()}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health/ready").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"not ready in {timeout} s: {self.output()}")

    def output(self) -> str:
        return self.out.read_text() + self.err.read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


@pytest.fixture
def scripts_run(clone: Path) -> Iterator[tuple[Running, str]]:
    """The user's own key in config.d (as `faxbot keys new` says), a stray file beside the
    fragments, then scripts/run on a free port."""
    faxbot = str(Path(sys.executable).with_name("faxbot"))
    made = subprocess.run(
        [faxbot, "keys", "new", "--id", "ci", "--scopes", "fax:send,fax:read"],
        cwd=clone,
        capture_output=True,
        text=True,
        check=True,
    )
    token, *yaml = [line for line in made.stdout.splitlines() if line]
    saved_as = re.search(r"e\.g\. (config\.d/\S+\.yaml)", made.stderr)
    assert saved_as, made.stderr
    (clone / saved_as.group(1)).write_text("\n".join(yaml) + "\n")
    (clone / "config.d" / "notes.txt").write_text("not a fragment\n")
    running = Running(clone, free_port())
    try:
        running.wait_ready()
        yield running, token
    finally:
        running.stop()


def shell(command: str, cwd: Path, env: dict[str, str]) -> str:
    return run(["bash", "-c", command], cwd, {**os.environ, **env})


def test_scripts_run_from_a_fresh_clone(scripts_run: tuple[Running, str]) -> None:
    running, user_token = scripts_run
    clone, url = running.clone, f"http://127.0.0.1:{running.port}"
    banner = running.out.read_text()
    assert f"Faxbot is starting on {url} (Ctrl-C stops it)" in banner
    exported = dict(re.findall(r"^  export (FAXBOT_URL|FAXBOT_API_KEY)=(\S+)$", banner, re.M))
    assert exported["FAXBOT_URL"] == url
    assert "8080" not in banner
    curls = dict(re.findall(r"^(Send a fax|Follow it|List jobs):\s+(curl .*)$", banner, re.M))
    assert set(curls) == {"Send a fax", "Follow it", "List jobs"}

    # the printed key and commands, as a user pastes them
    job = json.loads(shell(curls["Send a fax"], clone, exported))
    assert job["status"] == "queued" and job["to"] == "+12025550143"
    followed = json.loads(shell(curls["Follow it"].replace("<id>", job["id"]), clone, exported))
    assert followed["id"] == job["id"]
    listed = json.loads(shell(curls["List jobs"], clone, exported))
    assert job["id"] in [item["id"] for item in listed["items"]]

    # the development key is the operator's: it reads every number's received faxes
    with httpx.Client(base_url=url, headers={"X-API-Key": exported["FAXBOT_API_KEY"]}) as client:
        assert "inbound:read_all" in client.get("/key").json()["scopes"]

    # the key the user added to config.d works too, beside the development key
    with httpx.Client(base_url=url, headers={"X-API-Key": user_token}) as client:
        sent = client.post("/fax", data={"to": "+12025550143"}, files={"file": ("a.txt", b"hi")})
        assert sent.status_code == 202, sent.text
        assert client.get(f"/fax/{sent.json()['id']}").status_code == 200

    # diagnostics name the user's files, never a copy in build/
    errors = running.err.read_text()
    assert "config.d/notes.txt: warning: ignored" in errors
    assert "build/" not in errors

    # `faxbot config compile` with its defaults does not touch what scripts/run serves
    served = clone / ".dev" / "faxbot.resolved.json"
    before = hashlib.sha256(served.read_bytes()).hexdigest(), served.stat().st_mtime_ns
    faxbot = str(Path(sys.executable).with_name("faxbot"))
    run([faxbot, "config", "compile"], clone)
    assert (clone / "build" / "faxbot.resolved.json").is_file()
    assert (hashlib.sha256(served.read_bytes()).hexdigest(), served.stat().st_mtime_ns) == before
    built = json.loads((clone / "build" / "faxbot.resolved.json").read_text())
    assert [key["id"] for key in built["api_keys"]] == ["ci"]  # the dev key lives in .dev/
