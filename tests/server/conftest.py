"""A real appliance: `faxbot serve` in its own process on a loopback port, on a config
compiled for the test, with API keys whose tokens the tests hold."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from faxbot.keys import new_key

from tests.conftest import REPO

FAXBOT = str(Path(sys.executable).with_name("faxbot"))
ALL_SCOPES = ["fax:send", "fax:read", "plugins:read", "admin:read", "inbound:list", "inbound:read"]
FAIL_NUMBER = "+12025550199"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Appliance:
    root: Path
    port: int
    tokens: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.root / "serve.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def client(self, key: str = "admin") -> httpx.Client:
        headers = {"X-API-Key": self.tokens[key]} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def start(
        self,
        timeout: float = 20,
        env: dict[str, str] | None = None,
        registry: Path | None = REPO / "registry" / "plugin-registry.json",
        args: tuple[str, ...] = (),
    ) -> None:
        options = ["--registry", str(registry)] if registry is not None else []
        options += args
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [FAXBOT, "serve", "--port", str(self.port), *options],
                cwd=self.root,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"faxbot serve exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"not ready in {timeout} s: {self.log.read_text()[-3000:]}")

    @contextmanager
    def running(self) -> Iterator[Appliance]:
        """Started (with `start`'s defaults) for the block, stopped after it."""
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def wait_for(
        self, job_id: str, statuses: tuple[str, ...] = ("SUCCESS", "FAILED"), timeout: float = 30
    ) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        with self.client() as client:
            while time.monotonic() < deadline:
                job: dict[str, object] = client.get(f"/fax/{job_id}").json()
                if job["status"] in statuses:
                    return job
                time.sleep(0.1)
        raise AssertionError(f"job {job_id} not in {statuses} after {timeout} s: {job}")


def build(
    root: Path,
    *,
    delay: float = 0.2,
    extra: str = "",
    port: int | None = None,
    fragments: dict[str, str] | None = None,
) -> Appliance:
    """Compile the example config.d plus test keys and settings (and `fragments`: file name
    -> YAML) into root/build/."""
    config = root / "config.d"
    config.mkdir(parents=True)
    for name, text in (fragments or {}).items():
        (config / name).write_text(text)
    for fragment in (REPO / "config.d").glob("*.yaml"):
        (config / fragment.name).write_text(fragment.read_text())
    keys = {"admin": new_key("admin", ALL_SCOPES), "reader": new_key("reader", ["fax:read"])}
    entries = "\n".join(
        f"  - id: {k.entry['id']}\n    sha256: {k.entry['sha256']}\n"
        f"    scopes: [{', '.join(k.entry['scopes'])}]"
        for k in keys.values()
    )
    (config / "90-test.yaml").write_text(
        f"api_keys:\n{entries}\n"
        f"providers:\n  outbound:\n    settings:\n      delay_seconds: {delay}\n"
        f"      fail_numbers: ['{FAIL_NUMBER}']\n{extra}"
    )
    subprocess.run([FAXBOT, "config", "compile"], cwd=root, check=True, capture_output=True)
    return Appliance(root, port or free_port(), {name: k.token for name, k in keys.items()})


def serve_that_fails(
    appliance: Appliance, env: dict[str, str] | None = None, port: int | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `faxbot serve` on a build whose start is expected to fail; its exit and output."""
    return subprocess.run(
        [FAXBOT, "serve", "--port", str(port or appliance.port)],
        cwd=appliance.root,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=env,
    )


@pytest.fixture
def appliance(tmp_path: Path) -> Iterator[Appliance]:
    running = build(tmp_path)
    with running.running():
        yield running


def ledger(data_dir: Path) -> list[dict[str, object]]:
    path = data_dir / "test-transport-ledger.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def one_page_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Faxbot test page")
    return bytes(pdf.output())


__all__ = ["Appliance", "build", "free_port", "ledger", "one_page_pdf", "serve_that_fails"]
