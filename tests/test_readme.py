"""The README's walk-through (Quick start, Config in 2 minutes) is run as written, so that it
cannot drift from what the commands do.

Every ```console block of those sections is run, unless an HTML comment just above it says
`<!-- walkthrough: not run ... -->` and why. A line `$ COMMAND` is run with bash in a working
folder holding a copy of config.d and README.md (a git repository on branch `main`, for
`config plan`), its stdout and stderr together; the lines up to the next `$` are its expected
output. An expected line matches an actual one exactly, except that `...` (with any word
characters just before it, as in `4f1c...` or `fbk_...`) stands for any text, and that a new
token and its SHA-256 differ on every run. `export NAME=VALUE` lines are not run: they are
checked against the appliance this test starts on a free loopback port (as scripts/run does:
config.d plus a development key's fragment from outside it), whose FAXBOT_URL and
FAXBOT_API_KEY the commands then use.

Two steps the README only describes are done here: `broken/config.d` is
tests/readme/broken/config.d, and "after editing" before `config plan --base main` is the edit
`EDIT` below makes. The `4f1c...` of a command is the id of the job the walk-through sent."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from faxbot.keys import new_key

from tests.conftest import REPO
from tests.server.conftest import FAXBOT, Appliance, free_port

pytestmark = pytest.mark.slow

SECTIONS = ("## Quick start", "## Config in 2 minutes")
NOT_RUN = "<!-- walkthrough: not run"
JOB_ID_EXAMPLE = "4f1c..."
FIXTURES = Path(__file__).resolve().parent / "readme"
TOKEN = re.compile(r"fbk_[A-Za-z0-9_-]{43}")
KEY_HASH = re.compile(r"sha256: [0-9a-f]{64}")
WILDCARD = re.compile(r"\w*\\\.\\\.\\\.")  # `...` as re.escape writes it, with its word


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)


def walkthrough_blocks(readme: str) -> list[list[Step]]:
    """The console blocks of SECTIONS that are meant to run, each as its steps."""
    lines = readme.splitlines()
    blocks: list[list[Step]] = []
    section = ""
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("## "):
            section = line
        if line == "```console" and section in SECTIONS:
            above = next((ln for ln in reversed(lines[:index]) if ln.strip()), "")
            end = lines.index("```", index + 1)
            if not above.startswith(NOT_RUN):
                blocks.append(parse_block(lines[index + 1 : end]))
            index = end
        index += 1
    return blocks


def parse_block(lines: list[str]) -> list[Step]:
    steps: list[Step] = []
    for line in lines:
        if line.startswith("$ "):
            command = re.sub(r"\s{2,}#.*$", "", line[2:])  # a comment for the reader
            steps.append(Step(command))
        else:
            assert steps, f"output before any command: {line!r}"
            steps[-1].expected.append(line)
    for step in steps:
        while step.expected and not step.expected[-1]:
            step.expected.pop()
    return steps


def normalized(text: str) -> str:
    return KEY_HASH.sub("sha256: <sha256>", TOKEN.sub("fbk_<token>", text))


def matches(expected: str, actual: str) -> bool:
    pattern = WILDCARD.sub(".*", re.escape(normalized(expected)))
    return re.fullmatch(pattern, normalized(actual)) is not None


def edit_as_the_readme_says(work: Path) -> None:
    """ "after editing: slower transport, a secret, a lower limit, a key"."""
    outbound = work / "config.d" / "10-outbound.yaml"
    text = outbound.read_text()
    assert "      delay_seconds: 1\n" in text
    outbound.write_text(
        text.replace(
            "      delay_seconds: 1\n",
            "      delay_seconds: 5\n      api_token: ${env:FAXBOT_TEST_API_TOKEN}\n",
        )
    )
    appliance = work / "config.d" / "00-appliance.yaml"
    text = appliance.read_text()
    assert "    max_pages: 100\n" in text
    appliance.write_text(text.replace("    max_pages: 100\n", "    max_pages: 50\n"))
    made = subprocess.run(
        [FAXBOT, "keys", "new", "--id", "billing-app", "--scopes", "fax:send,fax:read"],
        capture_output=True,
        text=True,
        check=True,
    )
    yaml = made.stdout.split("\n", 1)[1].strip()  # the YAML after the token line
    (work / "config.d" / "50-api-key-billing-app.yaml").write_text(yaml + "\n")


BEFORE: dict[str, Callable[[Path], None]] = {
    "faxbot config plan --base main": edit_as_the_readme_says,
}


def git(work: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=README", "-c", "user.email=readme@example.org", *args],
        cwd=work,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def work(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    shutil.copytree(REPO / "config.d", work / "config.d")
    shutil.copy(REPO / "README.md", work / "README.md")
    git(work, "init", "--quiet", "--initial-branch=main")
    git(work, "add", "config.d", "README.md")
    git(work, "commit", "--quiet", "-m", "the embedded default")
    shutil.copytree(FIXTURES / "broken", work / "broken")
    return work


@pytest.fixture
def served(work: Path) -> Iterator[tuple[Appliance, str]]:
    """The appliance as scripts/run serves it, from outside the walk-through's folder."""
    root = work.parent / "served"
    shutil.copytree(REPO / "config.d", root / "config.d")
    key = new_key("dev", ["fax:send", "fax:read"])
    dev = root / ".dev" / "dev-key.yaml"
    dev.parent.mkdir()
    dev.write_text(
        f"api_keys:\n  - id: dev\n    sha256: {key.entry['sha256']}\n"
        "    scopes: [fax:send, fax:read]\n"
    )
    subprocess.run(
        [
            FAXBOT,
            "config",
            "compile",
            "--fragment",
            str(dev),
            "--out",
            "build/faxbot.resolved.json",
        ],
        cwd=root,
        check=True,
        capture_output=True,
    )
    appliance = Appliance(root, free_port(), {"dev": key.token})
    appliance.start()
    try:
        yield appliance, key.token
    finally:
        appliance.stop()


def wait_until_finished(url: str, token: str, job_id: str) -> None:
    """The README shows the job after its second on the test transport: let it pass."""
    deadline = time.monotonic() + 30
    with httpx.Client(base_url=url, headers={"X-API-Key": token}) as client:
        while time.monotonic() < deadline:
            if client.get(f"/fax/{job_id}").json()["status"] in ("SUCCESS", "FAILED"):
                return
            time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def test_the_walkthrough_is_marked_and_parsed() -> None:
    blocks = walkthrough_blocks((REPO / "README.md").read_text())
    commands = [step.command for block in blocks for step in block]
    assert "faxbot config check" in commands
    assert any(c.startswith("curl ") and c.endswith("$FAXBOT_URL/fax") for c in commands)
    assert all(not c.startswith("bash scripts/") for c in commands)  # the one block not run
    assert matches('{"id":"4f1c...","pages":5,...}', '{"id":"0a9e-77","pages":5,"x":1}')
    assert not matches('{"pages":5,...}', '{"pages":6,"x":1}')


def test_the_readme_walkthrough_runs_as_written(work: Path, served: tuple[Appliance, str]) -> None:
    appliance, token = served
    curl_home = work.parent / "curl"  # as in a terminal: no progress meter in the output
    curl_home.mkdir()
    (curl_home / ".curlrc").write_text("--silent\n--show-error\n")
    env = {
        **os.environ,
        "CURL_HOME": str(curl_home),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "FAXBOT_URL": appliance.url,
        "FAXBOT_API_KEY": token,
    }
    job_id: str | None = None
    ran: list[str] = []
    for step in (
        step for block in walkthrough_blocks((REPO / "README.md").read_text()) for step in block
    ):
        command = step.command
        exported = re.fullmatch(r"export (\w+)=(\S+)", command)
        if exported:
            name, shown = exported.groups()
            shown = re.sub(r"//127\.0\.0\.1:8080$", f"//127.0.0.1:{appliance.port}", shown)
            assert matches(shown, env[name]), (name, shown)
            continue
        if JOB_ID_EXAMPLE in command:
            assert job_id is not None, f"{command}: no job sent before it"
            command = command.replace(JOB_ID_EXAMPLE, job_id)
        if command in BEFORE:
            BEFORE[command](work)
        done = subprocess.run(
            ["bash", "-c", f"{command} 2>&1"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=False,  # `config check` of the broken folder exits 1, as it should
        )
        actual = done.stdout.rstrip("\n").split("\n") if done.stdout.strip() else []
        assert len(actual) == len(step.expected) and all(
            matches(want, got) for want, got in zip(step.expected, actual, strict=True)
        ), (
            f"$ {step.command}\nexpected:\n"
            + "\n".join(step.expected)
            + "\nactual:\n"
            + (done.stdout)
        )
        ran.append(step.command)
        sent = re.match(r'\{"id":"([^"]+)".*"status":"queued"', done.stdout)
        if command.startswith("curl ") and sent:
            job_id = sent.group(1)
            wait_until_finished(appliance.url, token, job_id)
    assert len(ran) >= 10, ran
