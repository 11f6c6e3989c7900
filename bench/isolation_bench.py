"""A key's first page of GET /fax among many keys' jobs, against the unfiltered page a
fax:read_all key reads (the baseline, measured in the same run on the same database).

SQLite, 200,000 jobs of 100 busy keys, plus 50 old jobs of one rare key (the worst case: its
newest jobs lie below every busy key's). Prints medians in ms and ratios to the baseline, and
both pages without the owner index (migration 0002) to show what the index buys.
Asserts nothing (target: a key's page within 1.5x of the baseline).
Run: .venv/bin/python bench/isolation_bench.py [--jobs N]
"""

from __future__ import annotations

import argparse
import functools
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from faxbot.store.database import Database, migrate
from faxbot.store.jobs import COLUMNS, JobStore
from faxbot.store.writer import Writer

KEYS = 100
RARE_JOBS = 50
PAGE = 50


def fill(path: Path, jobs: int) -> None:
    names = ", ".join(c.name for c in COLUMNS)
    marks = ", ".join("?" for _ in COLUMNS)

    def row(n: int, key: str, at: float) -> tuple[object, ...]:
        values: dict[str, object] = {
            "id": f"{n:032x}", "to_number": "+12025550143", "status": "SUCCESS",
            "phase": "done", "pages": 1, "error": None, "backend": "test",
            "provider_sid": f"sid{n}", "document_key": f"{n:032x}.pdf", "api_key_id": key,
            "idempotency_key": None, "request_hash": "h", "attempts": 1, "polls": 1,
            "next_action_at": at, "sent_at": at, "created_at": at, "updated_at": at,
        }  # fmt: skip
        return tuple(values[c.name] for c in COLUMNS)

    rows = [row(n, "rare", 1000.0 + n) for n in range(RARE_JOBS)]
    rows += [row(RARE_JOBS + n, f"busy-{n % KEYS}", 2000.0 + n) for n in range(jobs)]
    with sqlite3.connect(path) as connection:
        connection.executemany(f"INSERT INTO jobs ({names}) VALUES ({marks})", rows)  # noqa: S608


def median_ms(call: Callable[[], object], rounds: int = 30) -> float:
    call()  # warm the cache and the statement
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "jobs.sqlite3"
        database = Database(f"sqlite:///{path}")
        migrate(database)
        fill(path, args.jobs)
        store = JobStore(database, Writer(database))
        baseline = median_ms(lambda: store.page(PAGE))
        figures = [
            ("every key's jobs (fax:read_all): baseline", baseline),
            ("a busy key's own jobs", median_ms(lambda: store.page(PAGE, owner="busy-7"))),
            ("the rare key's own jobs", median_ms(lambda: store.page(PAGE, owner="rare"))),
        ]
        with sqlite3.connect(path) as connection:
            connection.execute("DROP INDEX ix_jobs_owner_created")
        database.close()
        database = Database(f"sqlite:///{path}")
        store = JobStore(database, Writer(database))
        for label, owner in (("a busy key's", "busy-7"), ("the rare key's", "rare")):
            ms = median_ms(functools.partial(store.page, PAGE, owner=owner), rounds=5)
            figures.append((f"{label}, without the owner index", ms))
        database.close()
    print(f"first page of {PAGE}, {args.jobs:,} jobs of {KEYS} keys + {RARE_JOBS} of a rare key")
    for label, ms in figures:
        print(f"  {label:<45} {ms:8.3f} ms  {ms / baseline:6.2f}x")


if __name__ == "__main__":
    main()
