"""The cost of rate limits shared by replicas on PostgreSQL (faxbot/store/ratelimits.py): one
`faxbot serve` on a throwaway PostgreSQL cluster (initdb on loopback, as the tests make it),
GET /fax/{id} from concurrent clients with a key that has a rate limit (high enough never to
refuse: one INSERT ... ON CONFLICT DO UPDATE per request, without fsync)
against a key without one (no statement), on the same appliance, taking turns for `--rounds`.
Prints requests/s and p99 of each and the ratio limited / unlimited (the median of the rounds').
Then the statement alone, in process: SharedKeyBuckets.take on one key, one at a time and 64 at
once, against the in-memory Buckets.take that SQLite keeps.
Run: .venv/bin/python bench/shared_ratelimit_bench.py [--seconds 5] [--rounds 3] [--clients 16]

Target: none (a figure: what a shared limit costs a request, to weigh against N x the limit).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pwd
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from appliance_bench import FAXBOT, REPO, free_port, one_page_pdf, start

POSTGRES_ROOT = Path("/usr/lib/postgresql")


@contextmanager
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on loopback (trust auth); its database URL."""
    initdb = sorted(POSTGRES_ROOT.glob("*/bin/initdb"))
    if not initdb:
        raise SystemExit("PostgreSQL is not installed: run scripts/setup --tests")
    bin_dir = initdb[-1].parent
    root = Path(tempfile.mkdtemp(prefix="faxbot-bench-pg-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        account = pwd.getpwnam("postgres")
        os.chown(root, account.pw_uid, account.pw_gid)
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", free_port()
    subprocess.run(
        [*as_postgres, str(bin_dir / "initdb"), "-D", str(data), "-U", "faxbot", "-A", "trust",
         "--no-sync"],
        check=True, capture_output=True,
    )  # fmt: skip
    server = subprocess.Popen(
        [*as_postgres, str(bin_dir / "postgres"), "-D", str(data), "-p", str(port),
         "-k", str(root), "-c", "listen_addresses=127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(300):
            ready = subprocess.run(
                [str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                capture_output=True,
                check=False,
            )
            if ready.returncode == 0:
                break
            time.sleep(0.1)
        yield f"postgresql://faxbot@127.0.0.1:{port}/postgres"
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(root, ignore_errors=True)


def prepare(root: Path) -> dict[str, str]:
    """config.d with two keys: `limited` (a limit it never reaches) and `unlimited`."""
    from faxbot.keys import new_key

    config = root / "config.d"
    shutil.copytree(REPO / "config.d", config)
    keys = {name: new_key(name, ["fax:send", "fax:read"]) for name in ("limited", "unlimited")}
    limit = "    rate_limit: {requests_per_minute: 1000000, burst: 100000}\n"
    entries = "".join(
        f"  - id: {name}\n    sha256: {key.entry['sha256']}\n    scopes: [fax:send, fax:read]\n"
        + (limit if name == "limited" else "")
        for name, key in keys.items()
    )
    (config / "90-bench.yaml").write_text(
        f"api_keys:\n{entries}"
        "appliance:\n  database_url: ${env:FAXBOT_DATABASE_URL}\n"
        "  limits:\n    key_rate_limit: null\n"
    )
    subprocess.run([FAXBOT, "config", "compile"], cwd=root, check=True, capture_output=True)
    return {name: key.token for name, key in keys.items()}


async def load(url: str, token: str, seconds: float, clients: int) -> tuple[float, float]:
    """Requests/s and p99 (ms) of `clients` concurrent clients for `seconds`."""
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(headers={"X-API-Key": token}, limits=limits) as client:
        deadline = time.perf_counter() + seconds

        async def one() -> None:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                answer = await client.get(url)
                latencies.append(time.perf_counter() - began)
                if answer.status_code != 200:
                    raise SystemExit(f"GET answered {answer.status_code}: {answer.text}")

        began = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return len(latencies) / elapsed, latencies[int(len(latencies) * 0.99)] * 1000


def takes(database_url: str, count: int = 2000) -> None:
    """The shared take alone: per take one at a time, and per take with 64 at once."""
    from faxbot.artifact import RateLimit
    from faxbot.server.ratelimit import Buckets
    from faxbot.store.database import Database, migrate
    from faxbot.store.ratelimits import SharedKeyBuckets

    limit = RateLimit(requests_per_minute=1_000_000, burst=100_000)
    database = Database(database_url.rsplit("/", 1)[0] + "/takes")
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("CREATE DATABASE takes")
    migrate(database)

    async def measure() -> tuple[float, float]:
        buckets = SharedKeyBuckets(database)
        began = time.perf_counter()
        for _ in range(count):
            await buckets.take("bench", limit)
        one = (time.perf_counter() - began) / count
        began = time.perf_counter()
        for _ in range(count // 64):
            await asyncio.gather(*(buckets.take("bench", limit) for _ in range(64)))
        many = (time.perf_counter() - began) / (count // 64 * 64)
        return one, many

    one, many = asyncio.run(measure())
    database.close()
    memory = Buckets()
    began = time.perf_counter()
    for _ in range(count * 10):
        memory.take("bench", limit)
    local = (time.perf_counter() - began) / (count * 10)
    print(f"shared take, one at a time: {one * 1e6:8.0f} us per take")
    print(f"shared take, 64 at once:    {many * 1e6:8.0f} us per take (one key: its row lock)")
    print(f"in-memory take (SQLite):    {local * 1e6:8.2f} us per take")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5, help="seconds of load per side")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    with postgres() as database_url, tempfile.TemporaryDirectory(prefix="faxbot-rl-") as tmp:
        root = Path(tmp)
        tokens = prepare(root)
        os.environ["FAXBOT_DATABASE_URL"] = database_url
        port = free_port()
        process, _ = start(
            [FAXBOT, "serve", "--port", str(port), "--log-level", "warning"], root, port
        )
        try:
            base = f"http://127.0.0.1:{port}"
            urls = {}
            for name, token in tokens.items():  # each key reads its own job
                sent = httpx.post(
                    f"{base}/fax",
                    headers={"X-API-Key": token},
                    data={"to": "+12025550143"},
                    files={"file": ("a.pdf", one_page_pdf(), "application/pdf")},
                )
                urls[name] = f"{base}/fax/{sent.json()['id']}"
            for name in ("limited", "unlimited"):  # warm up both paths
                asyncio.run(load(urls[name], tokens[name], 1, args.clients))
            figures: dict[str, list[tuple[float, float]]] = {"limited": [], "unlimited": []}
            for _ in range(args.rounds):
                for name in ("unlimited", "limited"):
                    figures[name].append(
                        asyncio.run(load(urls[name], tokens[name], args.seconds, args.clients))
                    )
        finally:
            process.terminate()
            process.wait(30)
        takes(database_url)
    for name, rounds in figures.items():
        rps = statistics.median(r for r, _ in rounds)
        p99 = statistics.median(p for _, p in rounds)
        print(f"GET /fax/{{id}} on PostgreSQL, key {name:9}: {rps:8.0f} req/s, p99 {p99:6.1f} ms")
    ratio = statistics.median(
        lim[0] / free[0] for lim, free in zip(figures["limited"], figures["unlimited"], strict=True)
    )
    print(f"ratio limited / unlimited (median of {args.rounds} rounds): {ratio:.2f}x")


if __name__ == "__main__":
    main()
