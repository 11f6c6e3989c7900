"""Faxes end to end through the Phaxio plugin and its loopback fake, against baselines measured
in the same run.

Sends: `--faxes` (500) POST /fax to a `faxbot serve` whose outbound plugin is `phaxio`,
pointed at the Phaxio fake (tests/fakes/phaxio.py) with `--latency` (50 ms) added to every API
call; the figure is jobs/s from the first POST to the last job's SUCCESS (its `updated_at`),
with the status coming by signed callback. The baseline is the same faxes through the test
transport (no provider, status by polling) on an appliance built the same way.

Inbound: `--inbound` (200) received-fax callbacks (a one-page PDF each, signed) posted by the
fake, 8 at a time, to POST /webhooks/phaxio; the figure is callbacks ingested per second
(verified, stored, listed by GET /inbound). The baseline is the same callbacks posted to the
bare Litestar app's multipart POST (bench/bare_app.py: parse the form, drop it).

The sides take turns in `--rounds` (3) rounds, and a ratio is the median of the rounds' ratios,
as in appliance_bench.py: this machine's speed drifts within a minute.
Run: .venv/bin/python bench/transports_bench.py [--faxes 500] [--latency 0.05] [--inbound 200]
[--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the fake lives in tests/

from tests.fakes.phaxio import PhaxioFake  # noqa: E402

FAXBOT = str(Path(sys.executable).with_name("faxbot"))
CONCURRENCY = 32  # clients posting faxes at once
CALLBACK_SENDERS = 8  # the fake's callback threads


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def one_page_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Faxbot benchmark page")
    return bytes(pdf.output())


def prepare(root: Path, extra: str, without_test_plugin: bool = False) -> str:
    """A compiled config.d under root: the repository's (without the fragments that name the
    test plugin, if asked), a bench key, and `extra`; returns the key's token."""
    from faxbot.keys import new_key

    shutil.copytree(REPO / "config.d", root / "config.d")
    for fragment in (root / "config.d").glob("*.yaml"):
        if without_test_plugin and "plugin: test" in fragment.read_text():
            fragment.unlink()
    scopes = ["fax:send", "fax:read", "inbound:list", "inbound:read", "inbound:read_all"]
    key = new_key("bench", scopes)
    (root / "config.d" / "90-bench.yaml").write_text(
        f"api_keys:\n  - id: bench\n    sha256: {key.entry['sha256']}\n"
        f"    scopes: [{', '.join(scopes)}]\n" + extra
    )
    subprocess.run([FAXBOT, "config", "compile"], cwd=root, check=True, capture_output=True)
    return key.token


def serve(root: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = (root / "serve.log").open("wb")
    process = subprocess.Popen(
        [FAXBOT, "serve", "--port", str(port), "--log-level", "warning"],
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **env},
    )
    wait_ready(port, process, root / "serve.log")
    return process


def wait_ready(port: int, process: subprocess.Popen[bytes], log: Path | None = None) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text()[-2000:] if log else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise SystemExit("server not ready in 60 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def epoch(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


async def send_all(port: int, token: str, count: int) -> float:
    """Jobs/s from the first POST to the last SUCCESS (the final job's updated_at)."""
    pdf = one_page_pdf()
    limit = asyncio.Semaphore(CONCURRENCY)
    headers = {"X-API-Key": token}
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60
    ) as client:

        async def post(index: int) -> str:
            async with limit:
                answer = await client.post(
                    "/fax",
                    data={"to": f"+1202555{index % 10000:04d}"},
                    files={"file": ("p.pdf", pdf, "application/pdf")},
                )
                if answer.status_code != 202:
                    raise SystemExit(f"POST /fax answered {answer.status_code}: {answer.text}")
                job_id: str = answer.json()["id"]
                return job_id

        began = time.time()
        pending = set(await asyncio.gather(*(post(i) for i in range(count))))
        finished_at = 0.0
        while pending:
            await asyncio.sleep(0.25)

            async def look(job_id: str) -> tuple[str, dict[str, object]]:
                async with limit:
                    return job_id, (await client.get(f"/fax/{job_id}")).json()

            for job_id, job in await asyncio.gather(*(look(j) for j in pending)):
                if job["status"] == "FAILED":
                    raise SystemExit(f"job {job_id} FAILED: {job['error']}")
                if job["status"] == "SUCCESS":
                    pending.discard(job_id)
                    finished_at = max(finished_at, epoch(str(job["updated_at"])))
    return count / (finished_at - began)


def deliver_inbound(fake: PhaxioFake, url: str, count: int, pdf: bytes) -> float:
    """Received-fax callbacks per second, CALLBACK_SENDERS posting at once."""

    def one(index: int) -> None:
        fake.deliver_inbound(url, pdf, f"+1415555{index:04d}", "+12025550100")

    began = time.perf_counter()
    with ThreadPoolExecutor(CALLBACK_SENDERS) as pool:
        list(pool.map(one, range(count)))
    return count / (time.perf_counter() - began)


def inbound_listed(port: int, token: str) -> int:
    listed, cursor = 0, None
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": token}) as c:
        while True:
            page = c.get(
                "/inbound", params={"limit": 100, **({"cursor": cursor} if cursor else {})}
            )
            body = page.json()
            listed += len(body["items"])
            cursor = body.get("next_cursor")
            if not cursor:
                return listed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--faxes", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per Phaxio call")
    parser.add_argument("--inbound", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="rounds in which the sides alternate")
    args = parser.parse_args()
    pdf = one_page_pdf()
    with (
        tempfile.TemporaryDirectory(prefix="faxbot-transports-bench-") as tmp,
        PhaxioFake(complete_after=0.0) as fake,
    ):
        root = Path(tmp)
        fake.latency = args.latency
        # the baseline: the test transport, status by polling, no provider
        base_port, port, bare_port = free_port(), free_port(), free_port()
        base_token = prepare(
            root / "test",
            "providers:\n  outbound:\n    settings:\n      delay_seconds: 0\n"
            "      fail_numbers: []\n",
        )
        public_url = f"http://127.0.0.1:{port}"
        settings = (
            "        api_key: ${env:PHAXIO_API_KEY}\n"
            "        api_secret: ${env:PHAXIO_API_SECRET}\n"
            "        callback_token: ${env:PHAXIO_CALLBACK_TOKEN}\n"
            f"        api_base_url: {fake.url}\n"
        )
        token = prepare(
            root / "phaxio",
            f"appliance:\n  public_url: {public_url}\n"
            "providers:\n"
            "  outbound:\n    plugin: phaxio\n    version: 1.0.0\n    settings:\n"
            + settings
            + "  inbound:\n    plugin: phaxio\n    version: 1.0.0\n    settings:\n"
            + settings,
            without_test_plugin=True,
        )
        env = {
            "PHAXIO_API_KEY": fake.api_key,
            "PHAXIO_API_SECRET": fake.api_secret,
            "PHAXIO_CALLBACK_TOKEN": fake.callback_token,
        }
        baseline = serve(root / "test", base_port, {})
        appliance = serve(root / "phaxio", port, env)
        bare = subprocess.Popen(
            [sys.executable, str(REPO / "bench" / "bare_app.py"), str(bare_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        webhook = f"{public_url}/webhooks/phaxio"
        sends: list[tuple[float, float]] = []  # (phaxio, test transport) jobs/s
        ingests: list[tuple[float, float]] = []  # (appliance, bare app) callbacks/s
        try:
            wait_ready(bare_port, bare)
            for _ in range(args.rounds):  # the two sides take turns on the same stretch
                test_rate = asyncio.run(send_all(base_port, base_token, args.faxes))
                sends.append((asyncio.run(send_all(port, token, args.faxes)), test_rate))
                ours = deliver_inbound(fake, webhook, args.inbound, pdf)
                fake.deliver_via = {webhook: f"http://127.0.0.1:{bare_port}/fax"}
                ingests.append((ours, deliver_inbound(fake, webhook, args.inbound, pdf)))
                fake.deliver_via = {}  # the next round's status callbacks go to the appliance
            ours_callbacks = [status for url, status in fake.callbacks if url.startswith(webhook)]
            listed = inbound_listed(port, token)
        finally:
            for process in (baseline, appliance, bare):
                stop(process)
        accepted = fake.accepted

    refused = sum(1 for status in ours_callbacks if status != 200)
    print(
        f"{args.rounds} rounds of {args.faxes} faxes ({args.latency * 1000:.0f} ms per Phaxio "
        f"call) and {args.inbound} received-fax callbacks; faxes at the fake: {accepted} of "
        f"{args.rounds * args.faxes}; callbacks the appliance refused: {refused} of "
        f"{len(ours_callbacks)}; received faxes listed: {listed} of {args.rounds * args.inbound}"
    )
    print("figures are medians of the rounds; ratios are medians of the rounds' ratios")
    print(f"{'measure':<48}{'phaxio':>9}{'baseline':>10}{'ratio':>7}  baseline")
    rows = [
        ("faxes, first POST to last SUCCESS, jobs/s", sends, "test transport"),
        ("received-fax callbacks ingested per second", ingests, "bare app POST"),
    ]
    for name, pairs, what in rows:
        ours_median = statistics.median(o for o, _ in pairs)
        theirs_median = statistics.median(t for _, t in pairs)
        ratios = [o / t for o, t in pairs]
        ratio = statistics.median(ratios)
        print(f"{name:<48}{ours_median:>9.1f}{theirs_median:>10.1f}{ratio:>7.2f}  {what}")
        print(f"{'  ratio in each round':<48}{' '.join(f'{r:.2f}' for r in ratios)}")


if __name__ == "__main__":
    main()
