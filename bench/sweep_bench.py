"""Cost of the dispatcher's sweep (`JobStore.due_ids`, every 5 s) at 1,000,000 jobs on SQLite,
of which 10 are unfinished: the statement the store runs (`phase IN (<unfinished phases>)`,
a few ranges of the (phase, next_action_at) index) against the baseline it replaced
(`phase <> 'done'`, which read every row), both on the same database in the same run. Also
the start's count of unfinished jobs, which had the same condition.

Prints figures; asserts nothing. Run: .venv/bin/python bench/sweep_bench.py [--jobs N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from faxbot.store.database import Database, migrate
from faxbot.store.jobs import COLUMNS, UNFINISHED_PARAMS, JobStore, Phase
from faxbot.store.writer import Writer

UNFINISHED_JOBS = 10
TARGET_MS = 5.0
BASELINE_DUE_IDS = (
    "SELECT id FROM jobs WHERE phase <> :done AND next_action_at <= :now "
    "ORDER BY next_action_at LIMIT :limit"
)
BASELINE_COUNT = "SELECT count(*) FROM jobs WHERE phase <> :done"


def rows(count: int, now: float) -> Iterator[tuple[Any, ...]]:
    """`count` jobs as the appliance writes them, all but UNFINISHED_JOBS of them done."""
    for n in range(count):
        unfinished = n % (count // UNFINISHED_JOBS) == 0
        values = {
            "id": f"{n:032x}",
            "to_number": "+12025550143",
            "status": "queued" if unfinished else "SUCCESS",
            "phase": Phase.QUEUED.value if unfinished else Phase.DONE.value,
            "pages": 1,
            "error": None,
            "backend": "test",
            "provider_sid": None,
            "document_key": f"{n:032x}.pdf",
            "api_key_id": "bench",
            "idempotency_key": None,
            "request_hash": "h",
            "attempts": 1,
            "polls": 1,
            "next_action_at": now - count + n,
            "sent_at": now - count + n,
            "created_at": now - count + n,
            "updated_at": now - count + n,
        }
        yield tuple(values[c.name] for c in COLUMNS)


def fill(path: Path, count: int) -> Database:
    database = Database(f"sqlite:///{path}")
    migrate(database)
    connection = database.connect(autocommit=True)
    names = ", ".join(c.name for c in COLUMNS)
    marks = ", ".join("?" for _ in COLUMNS)
    connection.execute("BEGIN")
    connection.executemany(
        f"INSERT INTO jobs ({names}) VALUES ({marks})",  # noqa: S608
        rows(count, time.time()),
    )
    connection.execute("COMMIT")
    connection.execute("ANALYZE")
    connection.close()
    return database


def median_ms(database: Database, sql: str, params: dict[str, Any], repeat: int) -> float:
    samples = []
    with database.reading() as cursor:
        for _ in range(repeat):
            start = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        database = fill(Path(folder) / "jobs.sqlite3", options.jobs)
        print(f"{options.jobs:,} jobs ({UNFINISHED_JOBS} unfinished) written in "
              f"{time.perf_counter() - began:.1f} s")  # fmt: skip
        writer = Writer(database)
        store = JobStore(database, writer)
        now = time.time() + 5
        assert len(store.due_ids(now, 10_000)) == UNFINISHED_JOBS
        due: dict[str, Any] = {**UNFINISHED_PARAMS, "now": now, "limit": 10_000}
        sql = store._sql  # the statements the store runs, timed bare
        pairs: list[tuple[str, str, str, dict[str, Any]]] = [
            ("sweep (due_ids)", BASELINE_DUE_IDS, sql.due_ids, due),
            ("count_unfinished", BASELINE_COUNT, sql.count_unfinished, dict(UNFINISHED_PARAMS)),
        ]
        for name, baseline_sql, current_sql, params in pairs:
            baseline = median_ms(
                database, baseline_sql, {"done": "done", "now": now, "limit": 10_000},
                options.repeat,
            )  # fmt: skip
            current = median_ms(database, current_sql, params, options.repeat)
            verdict = "meets" if current < TARGET_MS else "MISSES"
            print(
                f"{name}: {current:.3f} ms (baseline phase <> 'done': {baseline:.1f} ms; "
                f"{baseline / current:,.0f}x faster); target < {TARGET_MS} ms: {verdict}"
            )
        database.close()


if __name__ == "__main__":
    main()
