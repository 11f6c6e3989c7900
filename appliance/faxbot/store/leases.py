"""Job leases on PostgreSQL, when several replicas share the database (docs/decisions.md,
"Replicas: our dispatcher with leases").

A replica claims the due jobs no live replica holds (never leased, released, or whose lease ran
out) with `FOR UPDATE SKIP LOCKED`, so two replicas claiming at once take different jobs and
neither waits; the claim sets owner and expiry in the same statement. A heartbeat extends all
the replica's leases in one statement and skips the rows another transaction has locked (a
job being changed right now: the next beat extends it), so it never waits either, and takes
no part in a deadlock. Release hands jobs back (at stop, or a job the dispatcher let go of).

These run on the readers' autocommit connections, each statement its own transaction, apart
from the writer's batches: a claim or a beat is never held up by, or holds up, a batch of
requests. A job a replica created is leased to it by the INSERT (jobs.py); every change it
then makes is conditional on still holding the lease (jobs.py, `_transition`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from faxbot.store.database import Database, parameter_marker
from faxbot.store.jobs import COLUMNS, UNFINISHED, UNFINISHED_PARAMS, Job, Lease, job_of_row


class _Statements:
    def __init__(self, paramstyle: str) -> None:
        bind = parameter_marker(paramstyle)
        names = ", ".join(c.name for c in COLUMNS)
        unfinished = f"phase IN ({', '.join(bind(p.name.lower()) for p in UNFINISHED)})"
        handing_over = bind("handing_over")
        # A hand-over found without a live owner was cut short: it is looked up (find_sent)
        # now, not when its hand-over lease would have run out.
        self.claim = (
            f"UPDATE jobs SET lease_owner = {bind('owner')}, lease_expires_at = {bind('until')}, "  # noqa: S608
            f"next_action_at = CASE WHEN phase = {handing_over} "
            f"THEN LEAST(next_action_at, {bind('now')}) ELSE next_action_at END "
            f"WHERE id IN (SELECT id FROM jobs WHERE {unfinished} "
            f"AND (next_action_at <= {bind('horizon')} OR phase = {handing_over}) "
            f"AND (lease_owner IS NULL OR lease_expires_at < {bind('now')}) "
            f"ORDER BY next_action_at LIMIT {bind('limit')} FOR UPDATE SKIP LOCKED) "
            f"RETURNING {names}"
        )
        self.extend = (
            f"UPDATE jobs SET lease_expires_at = {bind('until')} WHERE id IN "  # noqa: S608
            f"(SELECT id FROM jobs WHERE lease_owner = {bind('owner')} FOR UPDATE SKIP LOCKED)"
        )
        self.release_all = (
            "UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL "  # noqa: S608
            f"WHERE lease_owner = {bind('owner')}"
        )
        self.release_one = f"{self.release_all} AND id = {bind('id')}"
        self.held = f"SELECT count(*) FROM jobs WHERE lease_owner = {bind('owner')}"  # noqa: S608


class Leases:
    """This replica's leases: claim, extend (the heartbeat), release. Blocking: call them from
    worker threads."""

    def __init__(
        self, database: Database, lease: Lease, clock: Callable[[], float] = time.time
    ) -> None:
        if database.dialect != "postgresql":
            raise ValueError("job leases need PostgreSQL (SKIP LOCKED); SQLite has one appliance")
        self._database = database
        self.lease = lease
        self._clock = clock
        self._sql = _Statements(database.paramstyle)

    def _run(self, sql: str, params: dict[str, Any]) -> int:
        with self._database.reading() as cursor:
            cursor.execute(sql, params)
            return int(cursor.rowcount)

    def claim(self, horizon: float, limit: int) -> list[Job]:
        """Lease to this replica up to `limit` unfinished jobs that no live replica holds and
        are due by `horizon` (and every hand-over among them, due or not); the jobs as claimed."""
        now = self._clock()
        params = {
            **UNFINISHED_PARAMS,
            "owner": self.lease.owner,
            "until": now + self.lease.seconds,
            "now": now,
            "horizon": horizon,
            "limit": limit,
        }
        with self._database.reading() as cursor:
            cursor.execute(self._sql.claim, params)
            return [job_of_row(row) for row in cursor.fetchall()]

    def extend(self) -> int:
        """The heartbeat: every lease this replica holds now runs `seconds` from now; how many
        were extended."""
        until = self._clock() + self.lease.seconds
        return self._run(self._sql.extend, {"owner": self.lease.owner, "until": until})

    def release(self, job_ids: list[str] | None = None) -> int:
        """Give back the leases on `job_ids` (None: all this replica holds), if still held;
        how many were."""
        if job_ids is None:
            return self._run(self._sql.release_all, {"owner": self.lease.owner})
        return sum(
            self._run(self._sql.release_one, {"owner": self.lease.owner, "id": job_id})
            for job_id in job_ids
        )

    def held(self) -> int:
        """How many jobs this replica holds a lease on."""
        with self._database.reading() as cursor:
            cursor.execute(self._sql.held, {"owner": self.lease.owner})
            return int(cursor.fetchone()[0])
