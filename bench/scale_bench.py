"""GET /fax/{id} and GET /fax latency with 1,000,000 jobs in the database, as a ratio to the
same requests with 1,000 jobs, on SQLite and on PostgreSQL.

For each database two appliances (`faxbot serve`, one config) run at once: one on a database
of 1,000 jobs, one on a database of 1,000,000, both filled in bulk through the store's own
schema (migrated by the store; rows in the store's COLUMNS). The rows are the office the
appliance serves: 20 API keys own the jobs (the bench's key 1 in 20), created over 90 days in
time order, to 1,000 recipients, 92% SUCCESS and 8% FAILED (a few pages, provider ids, sent
and updated times after the creation). One client per key and server, each on one keep-alive
connection, times each request; the two servers take turns request by request (this
machine's speed drifts within seconds when other work runs), in rounds after a warm-up round.
Figures are the median and p95 of all requests; a ratio is large / small of the medians, and
the spread is the rounds' own ratios.

Measures, as the bench's key (fax:read: its own jobs) unless said:
- GET /fax/{id} by a fax:read_all key: another job each request, drawn from the whole table
  (the appliance keeps finished jobs it has read in memory: a job read twice would measure
  that cache; so the requests per round times rounds + 1 should stay under 1,000);
- GET /fax: the first page (50);
- GET /fax?status=FAILED and GET /fax?to=+12025550143: the first page of a filtered list;
- GET /fax by the fax:read_all key: the first page of every key's jobs, and of those to
  +12025550143.
Target: every ratio within 1.5x. Prints figures; asserts nothing.

`--index SQL` (repeatable) creates an index on both databases before the servers start: to
measure what an index not in the migrations would buy (this bench adds none to the product).
`--explain` prints each list's query plan on the large database.

Run: .venv/bin/python bench/scale_bench.py [--databases sqlite postgresql] [--rounds 5]
     [--requests 150] [--jobs 1000000] [--explain] [--index SQL] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from appliance_bench import FAXBOT, REPO, free_port
from faxbot.keys import new_key
from faxbot.plugins.contract import FaxStatus
from faxbot.store.database import Database, migrate
from faxbot.store.jobs import COLUMNS, JobFilter, JobStore
from faxbot.store.writer import Writer

SMALL = 1_000
KEYS = 20  # owners; the bench's key owns every KEYS-th job
BENCH_KEY = "bench"
AUDITOR_KEY = "auditor"  # fax:read_all
RECIPIENTS = 1_000
FILTER_TO = "+12025550143"
FAILED_SHARE = 0.08
SPAN_SECONDS = 90 * 86400
PAGE = 50
TARGET = 1.5


def owner_of(n: int) -> str:
    return BENCH_KEY if n % KEYS == 0 else f"office-{n % KEYS}"


def job_rows(count: int, seed: int = 16) -> Iterator[tuple[Any, ...]]:
    """`count` finished jobs in COLUMNS' order, oldest first (as the appliance appends them)."""
    rng = random.Random(seed)
    start = time.time() - SPAN_SECONDS
    step = SPAN_SECONDS / count
    for n in range(count):
        job_id = f"{rng.getrandbits(128):032x}"
        created = start + n * step + rng.random() * step
        failed = rng.random() < FAILED_SHARE
        sent = created + rng.uniform(0.5, 5)
        updated = sent + rng.uniform(30, 300)
        values = {
            "id": job_id,
            "to_number": f"+1202555{rng.randrange(RECIPIENTS):04d}",
            "status": "FAILED" if failed else "SUCCESS",
            "phase": "done",
            "pages": rng.randint(1, 5),
            "error": "the line was busy" if failed else None,
            "backend": "test",
            "provider_sid": f"test-{job_id}",
            "document_key": f"{job_id}.pdf",
            "api_key_id": owner_of(n),
            "idempotency_key": f"order-{n}" if n % 3 == 0 else None,
            "request_hash": f"{rng.getrandbits(256):064x}",
            "attempts": 1,
            "polls": rng.randint(1, 3),
            "next_action_at": updated,
            "sent_at": sent,
            "created_at": created,
            "updated_at": updated,
            "document_deleted_at": None,
            "lease_owner": None,  # a finished job holds no lease
            "lease_expires_at": None,
        }
        yield tuple(values[c.name] for c in COLUMNS)


def fill(url: str, count: int, indexes: list[str], wanted: int) -> list[str]:
    """Migrate the database (the store's schema) and add `count` jobs in one bulk load; up to
    `wanted` job ids drawn at random from the whole table (a reservoir sample)."""
    database = Database(url)
    migrate(database)
    names = ", ".join(c.name for c in COLUMNS)
    sample: list[str] = []
    rng = random.Random(7)

    def rows() -> Iterator[tuple[Any, ...]]:
        for n, row in enumerate(job_rows(count)):
            if n < wanted:
                sample.append(row[0])
            elif (slot := rng.randrange(n + 1)) < wanted:
                sample[slot] = row[0]
            yield row

    if database.dialect == "sqlite":
        connection = sqlite3.connect(str(database.path), isolation_level=None)
        connection.execute("BEGIN")
        marks = ", ".join("?" for _ in COLUMNS)
        connection.executemany(f"INSERT INTO jobs ({names}) VALUES ({marks})", rows())  # noqa: S608
        connection.execute("COMMIT")
        for sql in indexes:
            connection.execute(sql)
        connection.execute("ANALYZE")
        connection.close()
    else:
        import psycopg

        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as pg:
            with (
                pg.cursor() as cursor,
                cursor.copy(f"COPY jobs ({names}) FROM STDIN") as copy,
            ):
                for row in rows():
                    copy.write_row(row)
            for sql in indexes:
                pg.execute(sql)
            pg.execute("VACUUM ANALYZE jobs")
    database.close()
    rng.shuffle(sample)
    return sample


def explain(url: str) -> list[str]:
    """The query plans of the lists this bench times, as the store runs them."""
    database = Database(url)
    store = JobStore(database, Writer(database))
    sql = store._sql  # the statements the store runs
    lines = []
    cases: list[tuple[str, str | None, JobFilter]] = [
        ("own first page", BENCH_KEY, JobFilter()),
        ("own, status=FAILED", BENCH_KEY, JobFilter(status=FaxStatus.FAILED)),
        (f"own, to={FILTER_TO}", BENCH_KEY, JobFilter(to=FILTER_TO)),
        ("every key's first page", None, JobFilter()),
        (f"every key's, to={FILTER_TO}", None, JobFilter(to=FILTER_TO)),
    ]
    for label, owner, filters in cases:
        params: dict[str, Any] = {} if owner is None else {"owner": owner}
        params.update(filters.conditions())
        statement = sql.page(tuple(params))
        params["limit"] = PAGE + 1
        prefix = "EXPLAIN QUERY PLAN " if database.dialect == "sqlite" else "EXPLAIN ANALYZE "
        with database.reading() as cursor:
            cursor.execute(prefix + statement, params)
            plan = [" ".join(str(v) for v in row[-1:]) for row in cursor.fetchall()]
        lines.append(f"  {label}:")
        lines += [f"    {step}" for step in plan]
    database.close()
    return lines


SIDES = ("small", "large")  # the server on 1,000 jobs, the one on --jobs


@dataclass
class Measure:
    """One request kind: the key, each server's path per request, and each server's samples
    (seconds, a list per round)."""

    label: str
    key: str
    paths: dict[str, list[str]]
    samples: dict[str, list[list[float]]] = field(
        default_factory=lambda: {side: [] for side in SIDES}
    )

    def figures(self, side: str) -> tuple[float, float]:
        """Median and p95 of every request to `side`, ms."""
        samples = sorted(s for run in self.samples[side] for s in run)
        p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
        return statistics.median(samples) * 1000, p95 * 1000

    def rounds(self) -> list[float]:
        """Each round's ratio of the medians, large / small."""
        return [
            statistics.median(large) / statistics.median(small)
            for large, small in zip(self.samples["large"], self.samples["small"], strict=True)
        ]


def prepare(root: Path, extra: str) -> dict[str, str]:
    """config.d (the embedded default, the bench's keys, `extra`) compiled in root; tokens."""
    config = root / "config.d"
    shutil.copytree(REPO / "config.d", config)
    keys = {
        BENCH_KEY: new_key(BENCH_KEY, ["fax:send", "fax:read"]),
        AUDITOR_KEY: new_key(AUDITOR_KEY, ["fax:read", "fax:read_all"]),
    }
    entries = "".join(
        f"  - id: {k.entry['id']}\n    sha256: {k.entry['sha256']}\n"
        f"    scopes: [{', '.join(k.entry['scopes'])}]\n"
        for k in keys.values()
    )
    (config / "90-bench.yaml").write_text(f"api_keys:\n{entries}{extra}")
    subprocess.run([FAXBOT, "config", "compile"], cwd=root, check=True, capture_output=True)
    return {name: key.token for name, key in keys.items()}


def serve(root: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = (root / "serve.log").open("wb")
    process = subprocess.Popen(
        [FAXBOT, "serve", "--port", str(port), "--log-level", "warning"],
        cwd=root, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env},
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200:
                return process
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise SystemExit(f"faxbot serve did not start: {(root / 'serve.log').read_text()[-2000:]}")


def get(client: httpx.Client, path: str) -> float:
    """Seconds for one GET, which must answer 200."""
    began = time.perf_counter()
    response = client.get(path)
    took = time.perf_counter() - began
    if response.status_code != 200:
        raise SystemExit(f"GET {path}: {response.status_code} {response.text}")
    return took


def measure(
    args: argparse.Namespace, dialect: str, urls: dict[str, str], workdir: Path
) -> list[str]:
    """Both servers on their databases, the rounds of requests; the report's lines."""
    extra = ""
    if dialect == "postgresql":
        extra = "appliance:\n  database_url: ${env:FAXBOT_BENCH_DATABASE_URL}\n"
    servers: dict[str, tuple[subprocess.Popen[bytes], httpx.Client, httpx.Client]] = {}
    ids: dict[str, list[str]] = {}
    try:
        for size, count in zip(SIDES, (SMALL, args.jobs), strict=True):
            root = workdir / f"{dialect}-{size}"
            root.mkdir()
            tokens = prepare(root, extra)
            (root / "data").mkdir()
            if dialect == "sqlite":
                urls[size] = f"sqlite:///{root / 'data' / 'faxbot.sqlite3'}"
            url = urls[size]
            began = time.perf_counter()
            ids[size] = fill(url, count, args.index, args.requests * (args.rounds + 1))
            print(f"{dialect}: {count:,} jobs loaded in {time.perf_counter() - began:.1f} s",
                  flush=True)  # fmt: skip
            port = free_port()
            env = {"FAXBOT_BENCH_DATABASE_URL": url.replace("+psycopg", "")}
            process = serve(root, port, env)
            base = f"http://127.0.0.1:{port}"
            servers[size] = (
                process,
                httpx.Client(base_url=base, headers={"X-API-Key": tokens[BENCH_KEY]}, timeout=30),
                httpx.Client(base_url=base, headers={"X-API-Key": tokens[AUDITOR_KEY]}, timeout=30),
            )

        def both(path: str) -> dict[str, list[str]]:
            return {side: [path] for side in SIDES}

        to = f"/fax?to=%2B{FILTER_TO[1:]}"
        by_id = {side: [f"/fax/{i}" for i in ids[side]] for side in SIDES}
        measures = [
            Measure("GET /fax/{id} (read_all)", AUDITOR_KEY, by_id),
            Measure("GET /fax (own, first page)", BENCH_KEY, both("/fax")),
            Measure("GET /fax?status=FAILED", BENCH_KEY, both("/fax?status=FAILED")),
            Measure(f"GET /fax?to={FILTER_TO}", BENCH_KEY, both(to)),
            Measure("GET /fax (read_all, first page)", AUDITOR_KEY, both("/fax")),
            Measure("GET /fax?to= (read_all)", AUDITOR_KEY, both(to)),
        ]
        if len(ids["small"]) < args.requests * (args.rounds + 1):
            print("note: fewer jobs than requests by id: ids repeat, and a repeated one is "
                  "answered from the appliance's cache of finished jobs")  # fmt: skip
        clients = {
            side: {BENCH_KEY: bench, AUDITOR_KEY: auditor}
            for side, (_, bench, auditor) in servers.items()
        }
        for turn in range(args.rounds + 1):  # the first round warms caches and statements
            for m in measures:
                samples: dict[str, list[float]] = {side: [] for side in SIDES}
                # Request by request in turn: both servers see the machine as it is then.
                for n in range(args.requests):
                    for side in SIDES:
                        paths = m.paths[side]
                        path = paths[(turn * args.requests + n) % len(paths)]
                        samples[side].append(get(clients[side][m.key], path))
                if turn:
                    for side in SIDES:
                        m.samples[side].append(samples[side])
        plans = explain(urls["large"]) if args.explain else []
    finally:
        for process, client, auditor in servers.values():
            client.close()
            auditor.close()
            process.terminate()
            process.wait(30)
    return report(args, dialect, measures, plans)


def report(
    args: argparse.Namespace, dialect: str, measures: list[Measure], plans: list[str]
) -> list[str]:
    lines = [
        f"{dialect}: {SMALL:,} against {args.jobs:,} jobs; {args.rounds} rounds of "
        f"{args.requests} requests per measure and server",
        f"  {'measure':<36}{'1k median':>10}{'p95':>9}{'large median':>14}{'p95':>9}"
        f"{'ratio':>7}  rounds' ratios  target <= {TARGET}",
    ]
    for m in measures:
        small_median, small_p95 = m.figures("small")
        large_median, large_p95 = m.figures("large")
        ratio = large_median / small_median
        verdict = "meets" if ratio <= TARGET else "MISSES"
        spread = " ".join(f"{r:.2f}" for r in m.rounds())
        lines.append(
            f"  {m.label:<36}{small_median:>8.2f}ms{small_p95:>7.2f}ms{large_median:>12.2f}ms"
            f"{large_p95:>7.2f}ms{ratio:>7.2f}  {spread}  {verdict}"
        )
    if plans:
        lines += [f"  query plans at {args.jobs:,} jobs:", *plans]
    return lines


@contextlib.contextmanager
def postgres_databases() -> Iterator[dict[str, str]]:
    """A throwaway PostgreSQL cluster (the tests' fixture code) with a small and a large
    database; their URLs."""
    sys.path.insert(0, str(REPO))  # tests/ is not installed
    from tests.postgres_server import new_database, running_postgres

    with (
        running_postgres() as server,
        new_database(server) as small,
        new_database(server) as large,
    ):
        yield {"small": small, "large": large}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])  # fmt: skip
    parser.add_argument("--jobs", type=int, default=1_000_000, help="jobs in the large database")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=150, help="per measure, server, round")
    parser.add_argument("--index", action="append", default=[], help="CREATE INDEX ... to add")
    parser.add_argument("--explain", action="store_true", help="print the lists' query plans")
    parser.add_argument("--quick", action="store_true",
                        help="20,000 jobs, 1 round of 20 requests: a smoke run")  # fmt: skip
    args = parser.parse_args()
    if args.quick:
        args.jobs, args.rounds, args.requests = 20_000, 1, 20
    report: list[str] = []
    with tempfile.TemporaryDirectory(prefix="faxbot-scale-bench-") as tmp:
        for dialect in args.databases:
            workdir = Path(tmp)
            if dialect == "sqlite":
                report += measure(args, dialect, {}, workdir)
                continue
            with postgres_databases() as urls:
                report += measure(args, dialect, urls, workdir)
    print("\n".join(report))


if __name__ == "__main__":
    main()
