"""The appliance's memory under a long mixed load: RSS after `--minutes` (10) of load as a ratio
to its idle RSS after a warm-up, on SQLite (the default).

`faxbot serve` (the embedded config.d with the test transport in both slots, a webhook secret,
one key) runs alone; this process generates the load, paced at `--rate` requests/s from
`--clients` concurrent clients (httpx, async), each request drawn at random from the mix:
POST /fax with a one-page PDF (25%) and with UTF-8 text (15%), GET /fax/{id} of a recent job
(35%), GET /fax (15%), a received fax by the test transport's signed webhook (5%), GET
/inbound (5%). The warm-up sends every kind of request (the first fax loads PDFium,
phonenumbers, the text renderer), then waits until the appliance is idle: that RSS is the
baseline. RSS (the process and its children, from /proc; and the appliance's own process
alone, without the render worker) is sampled every 10 s during the load and read again once
the appliance is idle after it. A request the pace asks for while every client is busy is
counted and dropped, not queued (a backlog would grow without end on a slow machine).
Target: RSS after the load < 1.3x the idle RSS after warm-up. Prints figures; asserts nothing.

Run: .venv/bin/python bench/soak_bench.py [--minutes 10] [--rate 100] [--clients 16] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import json
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
from appliance_bench import FAXBOT, REPO, free_port, one_page_pdf, rss_mb, settle, start
from faxbot.keys import new_key
from faxbot_plugin_test.webhook import sign

TARGET = 1.3
SECRET = "soak-bench-webhook-secret-0123456789"  # noqa: S105 (the bench's own)
NUMBER = "+12025550143"  # the number the faxes go to and the received ones arrive at
SENDER = "+14155550123"
MIX = {
    "POST /fax (PDF)": 25,
    "POST /fax (text)": 15,
    "GET /fax/{id}": 35,
    "GET /fax": 15,
    "POST /webhooks/test (received fax)": 5,
    "GET /inbound": 5,
}
TEXT = ("Faxbot soak bench: a page of plain text, rendered by the appliance.\n" * 40).encode()


def prepare(root: Path) -> str:
    """config.d (the embedded default, a bench key, the webhook secret) compiled in root."""
    config = root / "config.d"
    shutil.copytree(REPO / "config.d", config)
    (root / "secret").write_text(SECRET)
    scopes = ["fax:send", "fax:read", "inbound:list", "inbound:read"]
    key = new_key("soak", scopes)
    settings = f"    settings:\n      webhook_secret: ${{file:{root / 'secret'}}}\n"
    (config / "90-bench.yaml").write_text(
        f"api_keys:\n  - id: soak\n    sha256: {key.entry['sha256']}\n"
        f"    scopes: [{', '.join(scopes)}]\n    inbound_numbers: ['{NUMBER}']\n"
        # Loopback load: the webhook's sender has no key, and would meet the limit of
        # unauthenticated requests per address (60 a minute) at once.
        "appliance:\n  limits:\n    unauthenticated_rate_limit: null\n"
        f"providers:\n  outbound:\n{settings}      delay_seconds: 0.2\n  inbound:\n{settings}"
    )
    subprocess.run([FAXBOT, "config", "compile"], cwd=root, check=True, capture_output=True)
    return key.token


def own_rss_mb(pid: int) -> float:
    """Resident memory of the process alone, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Load:
    """The mixed requests, with what they need: recent job ids, the documents, counters."""

    def __init__(self, client: httpx.AsyncClient, seed: int = 16) -> None:
        self.client = client
        self.rng = random.Random(seed)
        self.pdf = one_page_pdf()
        self.recent: collections.deque[str] = collections.deque(maxlen=500)
        self.received = 0
        self.skipped = 0  # requests the pace asked for while every client was busy
        self.own: list[float] = []
        self.own_idle = 0.0
        self.counts: collections.Counter[str] = collections.Counter()

    async def one(self, kind: str) -> None:
        if kind == "POST /fax (PDF)":
            response = await self._send(("p.pdf", self.pdf, "application/pdf"))
        elif kind == "POST /fax (text)":
            response = await self._send(("t.txt", TEXT, "text/plain"))
        elif kind == "GET /fax/{id}" and self.recent:
            response = await self.client.get(f"/fax/{self.rng.choice(self.recent)}")
        elif kind == "POST /webhooks/test (received fax)":
            self.received += 1
            body = json.dumps({"events": [{
                "type": "received", "provider_sid": f"rx-{self.received}-{time.time()}",
                "from": SENDER, "to": NUMBER, "pages": 1, "received_at": time.time(),
                "document": base64.b64encode(self.pdf).decode(),
            }]}).encode()  # fmt: skip
            signed = {"X-Test-Signature": sign(body, SECRET), "Content-Type": "application/json"}
            response = await self.client.post("/webhooks/test", content=body, headers=signed)
        elif kind == "GET /inbound":
            response = await self.client.get("/inbound")
        else:
            response = await self.client.get("/fax")
        outcome = str(response.status_code) if response.status_code >= 300 else "ok"
        self.counts[f"{kind} {outcome}"] += 1
        if response.status_code >= 300 and self.counts[f"{kind} {outcome}"] == 1:
            print(f"  first {kind} answering {response.status_code}: {response.text[:300]}")

    async def _send(self, file: tuple[str, bytes, str]) -> httpx.Response:
        response = await self.client.post("/fax", data={"to": NUMBER}, files={"file": file})
        if response.status_code == 202:
            self.recent.append(response.json()["id"])
        return response

    async def run(self, seconds: float, rate: float, clients: int, pid: int) -> list[float]:
        """Paced load for `seconds`; the RSS samples (MB), one every 10 s; the appliance's own
        process's (without its children: the text render worker) in `self.own`."""
        kinds, weights = list(MIX), list(MIX.values())
        queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=clients * 4)
        samples: list[float] = []

        async def client() -> None:
            while (kind := await queue.get()) is not None:
                try:
                    await self.one(kind)
                except httpx.HTTPError as exc:
                    self.counts[f"{kind} {type(exc).__name__}"] += 1

        async def sampler() -> None:
            while True:
                samples.append(rss_mb(pid))
                self.own.append(own_rss_mb(pid))
                await asyncio.sleep(10)

        workers = [asyncio.create_task(client()) for _ in range(clients)]
        sampling = asyncio.create_task(sampler())
        began = time.monotonic()
        sent = 0
        while (now := time.monotonic()) - began < seconds:
            due = int((now - began) * rate)
            for _ in range(due - sent):
                try:
                    queue.put_nowait(self.rng.choices(kinds, weights)[0])
                except asyncio.QueueFull:  # the appliance is slower than the rate: not queued
                    self.skipped += 1
            sent = due
            await asyncio.sleep(0.01)
        sampling.cancel()
        for _ in workers:
            await queue.put(None)
        await asyncio.gather(*workers)
        return samples


async def warm_up(load: Load) -> None:
    for _ in range(10):
        for kind in MIX:
            await load.one(kind)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=100, help="requests/s, all kinds")
    parser.add_argument("--clients", type=int, default=16, help="requests in flight at most")
    parser.add_argument("--quick", action="store_true", help="20 s of load: a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.minutes = 1 / 3
    with tempfile.TemporaryDirectory(prefix="faxbot-soak-bench-") as tmp:
        root = Path(tmp)
        token = prepare(root)
        port = free_port()
        process, _ = start(
            [FAXBOT, "serve", "--port", str(port), "--log-level", "warning"], root, port
        )
        try:
            time.sleep(1)
            started_rss = rss_mb(process.pid)

            async def soak() -> tuple[Load, float, list[float], float]:
                async with httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": token}, timeout=60
                ) as client:
                    load = Load(client)
                    await warm_up(load)
                    await asyncio.to_thread(settle, process.pid)
                    idle = rss_mb(process.pid)
                    load.own_idle = own_rss_mb(process.pid)
                    load.counts.clear()
                    began = time.monotonic()
                    samples = await load.run(args.minutes * 60, args.rate, args.clients,
                                             process.pid)  # fmt: skip
                    return load, idle, samples, time.monotonic() - began

            load, idle, samples, seconds = asyncio.run(soak())
            settle(process.pid, limit=120)
            time.sleep(2)
            after = rss_mb(process.pid)
            own_after = own_rss_mb(process.pid)
            jobs = httpx.get(
                f"http://127.0.0.1:{port}/fax?limit=1", headers={"X-API-Key": token}
            ).status_code
        finally:
            process.terminate()
            process.wait(30)
    total = sum(load.counts.values())
    print(f"{args.minutes * 60:.0f} s of mixed load at {args.rate:g} requests/s paced, "
          f"{args.clients} clients: {total:,} requests in {seconds:.0f} s "
          f"({total / seconds:.0f}/s)")  # fmt: skip
    print(f"  not sent, every client busy (the pace was above what the appliance answered): "
          f"{load.skipped:,}")  # fmt: skip
    for name, count in sorted(load.counts.items()):
        print(f"  {name:<48}{count:>8,}")
    print(f"RSS, MB (process and children): started {started_rss:.1f}; "
          f"idle after warm-up {idle:.1f}")  # fmt: skip
    print(f"  during the load, every 10 s: {' '.join(f'{s:.0f}' for s in samples)}")
    print(f"  of it the appliance's own process: {' '.join(f'{s:.0f}' for s in load.own)}")
    print(f"  peak during the load {max(samples):.1f} ({max(samples) / idle:.2f}x idle)")
    print(f"  the appliance's own process: idle after warm-up {load.own_idle:.1f}, after the "
          f"load {own_after:.1f} ({own_after / load.own_idle:.2f}x)")  # fmt: skip
    ratio = after / idle
    verdict = "meets" if ratio < TARGET else "MISSES"
    print(f"  idle after the load {after:.1f}: {ratio:.2f}x idle after warm-up; "
          f"target < {TARGET}: {verdict}  (list answered {jobs})")  # fmt: skip


if __name__ == "__main__":
    main()
