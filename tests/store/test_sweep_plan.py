"""The dispatcher's sweep (and the start's count of unfinished jobs) reads the
(phase, next_action_at) index on SQLite and PostgreSQL, not the whole jobs table: most rows
of a long-running appliance are finished jobs the sweep must never touch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faxbot.store.database import Database, migrate
from faxbot.store.jobs import UNFINISHED_PARAMS, _Statements

INDEX = "ix_jobs_phase_next"


def _sweeps(paramstyle: str) -> dict[str, tuple[str, dict[str, Any]]]:
    sql = _Statements(paramstyle)
    due = {**UNFINISHED_PARAMS, "now": 1e12, "limit": 10_000}
    return {
        "due_ids": (sql.due_ids, due),
        "due": (sql.due, due),
        "count_unfinished": (sql.count_unfinished, dict(UNFINISHED_PARAMS)),
    }


def test_the_sweep_searches_the_index_on_sqlite(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    migrate(database)
    try:
        for name, (statement, params) in _sweeps(database.paramstyle).items():
            with database.reading() as cursor:
                cursor.execute(f"EXPLAIN QUERY PLAN {statement}", params)
                plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
            assert f"SEARCH jobs USING COVERING INDEX {INDEX}" in plan or (
                f"SEARCH jobs USING INDEX {INDEX}" in plan
            ), (name, plan)
            assert "SCAN jobs" not in plan, (name, plan)
    finally:
        database.close()


def test_the_sweep_searches_the_index_on_postgres(postgres_database: Database) -> None:
    migrate(postgres_database)
    # A table like a long-running appliance's, where the planner prefers an index only
    # when it pays: 50,000 finished jobs and a few unfinished ones.
    with postgres_database.reading() as cursor:
        cursor.execute(
            "INSERT INTO jobs SELECT md5(n::text), '+12025550143', "
            "'SUCCESS', CASE WHEN n % 10000 = 0 THEN 'queued' ELSE 'done' END, 1, NULL, "
            "'test', NULL, md5(n::text) || '.pdf', 'k1', NULL, 'h', 1, 0, n, n, n, n "
            "FROM generate_series(1, 50000) AS n"
        )
        cursor.execute("ANALYZE jobs")
    for name, (statement, params) in _sweeps(postgres_database.paramstyle).items():
        with postgres_database.reading() as cursor:
            cursor.execute(f"EXPLAIN {statement}", params)
            plan = " | ".join(str(row[0]) for row in cursor.fetchall())
        assert INDEX in plan, (name, plan)
        assert "Seq Scan" not in plan, (name, plan)
