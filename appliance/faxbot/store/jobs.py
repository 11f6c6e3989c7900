"""Fax jobs in the database, in plain SQL on the driver's DB-API (database.py says why). Reads
are synchronous, for worker threads;
writes are awaitables that return once committed, through the one database writer. Every
change of a job's phase is a compare-and-set on the phase it expects, so two dispatchers can
never both hand the same job over; with several replicas on PostgreSQL (a `Lease`), also on
still holding the job's lease, so a replica that lost one (paused past its expiry) cannot
overwrite the progress of the replica that took the job over."""

from __future__ import annotations

import asyncio
import dataclasses
import operator
import time
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

from faxbot.plugins.contract import FaxStatus
from faxbot.store import cursors
from faxbot.store.database import Database, parameter_marker
from faxbot.store.writer import Writer


class Phase(StrEnum):
    """Where the dispatcher is with a job."""

    QUEUED = "queued"  # waiting to be handed to the transport
    HANDING_OVER = "handing_over"  # send() called; crash here is recovered, never resent blindly
    SENT = "sent"  # the provider has it; status is polled until terminal
    DONE = "done"  # SUCCESS or FAILED


# The phases of a job still in the dispatcher's hands, named positively: `phase IN (...)` is a
# few ranges of the (phase, next_action_at) index, where `phase <> 'done'` read every row of
# the table (190 ms at a million jobs, every sweep).
UNFINISHED = tuple(phase for phase in Phase if phase is not Phase.DONE)
UNFINISHED_PARAMS = {phase.name.lower(): phase.value for phase in UNFINISHED}


def column(size: int | None = None, name: str | None = None) -> dict[str, Any]:
    """A Job field's metadata for its column: VARCHAR(size) for a string (TEXT without a
    size), and the column's name where it is not the field's."""
    return {"size": size, "name": name}


@dataclass(frozen=True)
class Job:
    """A fax job: one row of the jobs table. The fields are the table's columns, in its order,
    and only the migrations (each a record of one change) declare them again: tables.py builds
    the table from them (to render schema/<dialect>.sql, and for Alembic), and the store's SQL
    and row mapping follow COLUMNS. A column's type follows its field's: str (or a StrEnum) is
    VARCHAR of the size given, TEXT without one; int is INTEGER; float is FLOAT. NULL is
    allowed where the field may be None. A change here is a schema change: it needs a
    migration and the schema files rendered again (schema_sql.py); tests check both."""

    id: str = field(metadata=column(32))
    to: str = field(metadata=column(16, name="to_number"))  # E.164
    status: FaxStatus = field(metadata=column(16))  # what the API shows (the v2 values)
    phase: Phase = field(metadata=column(16))
    pages: int
    error: str | None
    backend: str = field(metadata=column(40))
    provider_sid: str | None = field(metadata=column(200))
    document_key: str = field(metadata=column(64))
    api_key_id: str = field(metadata=column(64))
    idempotency_key: str | None = field(metadata=column(255))
    request_hash: str = field(metadata=column(64))
    attempts: int
    polls: int
    next_action_at: float  # epoch seconds, as are the other times
    sent_at: float | None
    created_at: float
    updated_at: float
    # When retention deleted the document (appliance.retention.outbound_document_days);
    # None while it is stored. Added by migration 0003.
    document_deleted_at: float | None = None
    # The replica whose dispatcher works the job (faxbot.replica.replica_id()) and until when
    # (epoch seconds), with several replicas on PostgreSQL; None on SQLite, where the one
    # appliance needs no lease, and while no replica holds it. Added by migration 0004.
    lease_owner: str | None = field(default=None, metadata=column(64))
    lease_expires_at: float | None = None

    @property
    def terminal(self) -> bool:
        return self.phase is Phase.DONE


@dataclass(frozen=True)
class JobColumn:
    """A column of the jobs table, from the Job field it holds."""

    name: str
    field: str
    type: type  # the field's type without None: str, int, float or an enum of str
    nullable: bool
    size: int | None


def _columns() -> tuple[JobColumn, ...]:
    """The columns, from Job's fields and their type hints (strings until resolved here, as
    annotations are postponed)."""
    hints = typing.get_type_hints(Job)
    found = []
    for job_field in dataclasses.fields(Job):
        union = typing.get_args(hints[job_field.name]) or (hints[job_field.name],)
        types = [t for t in union if t is not type(None)]
        if len(types) != 1:
            raise TypeError(f"Job.{job_field.name}: a column holds one type or None")
        found.append(
            JobColumn(
                name=job_field.metadata.get("name") or job_field.name,
                field=job_field.name,
                type=types[0],
                nullable=len(types) < len(union),
                size=job_field.metadata.get("size"),
            )
        )
    return tuple(found)


COLUMNS = _columns()  # the jobs table's columns, in Job's order (a row is read in this order)
_COLUMN_OF = {c.field: c.name for c in COLUMNS}
_NAMES = tuple(c.name for c in COLUMNS)
_values = operator.attrgetter(*(c.field for c in COLUMNS))  # a job's values, in that order
# The enum fields, by position: the database holds their values (str).
_ENUMS = tuple((n, c.type) for n, c in enumerate(COLUMNS) if issubclass(c.type, Enum))


def _job(row: tuple[Any, ...]) -> Job:
    """A job from a row of all COLUMNS, in their order."""
    values = list(row)
    for index, enum in _ENUMS:
        values[index] = enum(values[index])
    return Job(*values)


job_of_row = _job  # for the other statements on the jobs table (leases.py)


def _row(job: Job) -> dict[str, Any]:
    """The job's values by column name, as the driver should store them (enums by value)."""
    values = list(_values(job))
    for index, _ in _ENUMS:
        values[index] = values[index].value
    return dict(zip(_NAMES, values, strict=True))


def _db_value(value: Any) -> Any:
    """A value as the driver should store it: enums by their value (psycopg would otherwise
    store an Enum's name)."""
    return value.value if isinstance(value, StrEnum) else value


BY_IDS_CHUNK = 500  # ids per SELECT ... IN (...): well under SQLite's 32,766 parameters


class _Statements:
    """The job statements, as plain SQL in the driver's own parameter style. A transition's
    UPDATE sets only the columns it changes (a statement per set of columns, made once). Only
    our own column names are joined in; every value is a bound parameter; SQLite and
    PostgreSQL both run them."""

    def __init__(self, paramstyle: str) -> None:
        self._bind = parameter_marker(paramstyle)
        names = ", ".join(c.name for c in COLUMNS)
        params = ", ".join(self._bind(c.name) for c in COLUMNS)
        self.insert = f"INSERT INTO jobs ({names}) VALUES ({params}) ON CONFLICT DO NOTHING"  # noqa: S608
        self._updates: dict[tuple[str, ...], str] = {}
        bind = self._bind
        select = f"SELECT {names} FROM jobs"  # noqa: S608
        self.get = f"{select} WHERE id = {bind('id')}"
        self.by_idempotency_key = (
            f"{select} WHERE api_key_id = {bind('api_key_id')} AND idempotency_key = {bind('key')}"
        )
        self._pages: dict[tuple[str, ...], str] = {}
        unfinished = f"phase IN ({', '.join(bind(p.name.lower()) for p in UNFINISHED)})"
        self.due = (
            f"{select} WHERE {unfinished} AND next_action_at <= {bind('now')} "
            f"ORDER BY next_action_at LIMIT {bind('limit')}"
        )
        self.due_ids = (
            f"SELECT id FROM jobs WHERE {unfinished} AND next_action_at <= "  # noqa: S608
            f"{bind('now')} ORDER BY next_action_at LIMIT {bind('limit')}"
        )
        self._select = select
        self.by_backend_id = f"{select} WHERE id = {bind('id')} AND backend = {bind('backend')}"
        self.by_backend_sid = (
            f"{select} WHERE backend = {bind('backend')} AND provider_sid = {bind('sid')}"
        )
        self.seen_event = (
            "INSERT INTO webhook_events (plugin, event_id, received_at) VALUES "  # noqa: S608
            f"({bind('plugin')}, {bind('event_id')}, {bind('now')}) ON CONFLICT DO NOTHING"
        )
        self.documents_due = (
            f"SELECT id, document_key FROM jobs WHERE phase = {bind('done')} "  # noqa: S608
            f"AND updated_at < {bind('before')} AND document_deleted_at IS NULL "
            f"ORDER BY updated_at LIMIT {bind('limit')}"
        )
        self.document_deleted = (
            f"UPDATE jobs SET document_deleted_at = {bind('now')} WHERE id = {bind('id')}"  # noqa: S608
        )
        self.rows_due = (
            f"SELECT id, document_key, document_deleted_at FROM jobs WHERE "  # noqa: S608
            f"phase = {bind('done')} AND updated_at < {bind('before')} "
            f"ORDER BY updated_at LIMIT {bind('limit')}"
        )
        self.delete_row = f"DELETE FROM jobs WHERE id = {bind('id')} AND phase = {bind('done')}"  # noqa: S608
        self.count_unfinished = f"SELECT count(*) FROM jobs WHERE {unfinished}"  # noqa: S608
        # Read from the index on (phase, next_action_at) alone: cheap at a million rows.
        self.count_by_phase = "SELECT phase, count(*) FROM jobs GROUP BY phase"

    def page(self, conditions: tuple[str, ...]) -> str:
        """SELECT a page, newest first, of the jobs meeting `conditions` (names of
        PAGE_CONDITIONS; their parameters are bound by those names, with `limit`)."""
        found = self._pages.get(conditions)
        if found is None:
            bind = self._bind
            where = " AND ".join(PAGE_CONDITIONS[c].format(**_markers(bind)) for c in conditions)
            found = self._pages[conditions] = (
                f"{self._select}{' WHERE ' + where if where else ''} "
                f"ORDER BY created_at DESC, id DESC LIMIT {bind('limit')}"
            )
        return found

    def ids_in(self, count: int) -> str:
        """SELECT the ids, among the parameters id0 .. id<count-1>, that have a job."""
        markers = ", ".join(self._bind(f"id{n}") for n in range(count))
        return f"SELECT id FROM jobs WHERE id IN ({markers})"  # noqa: S608

    def by_ids(self, count: int) -> str:
        """SELECT the jobs whose ids are the parameters id0 .. id<count-1>."""
        markers = ", ".join(self._bind(f"id{n}") for n in range(count))
        return f"{self._select} WHERE id IN ({markers})"

    def update(self, columns: tuple[str, ...], leased: bool = False) -> str:
        """UPDATE `columns` of the job `id` if its phase is still `expected` (and, `leased`,
        if the replica `owner` still holds its lease)."""
        found = self._updates.get((*columns, str(leased)))
        if found is None:
            unknown = set(columns) - {c.name for c in COLUMNS} | ({"id"} & set(columns))
            if unknown:
                raise ValueError(f"cannot update the columns {sorted(unknown)}")
            bind = self._bind
            assignments = ", ".join(f"{c} = {bind(c)}" for c in columns)
            held = f" AND lease_owner = {bind('owner')}" if leased else ""
            found = self._updates[(*columns, str(leased))] = (
                f"UPDATE jobs SET {assignments} WHERE id = {bind('id')} "  # noqa: S608
                f"AND phase = {bind('expected')}{held}"
            )
        return found


class ReportResult(StrEnum):
    """What a provider's status report did to the job it names."""

    APPLIED = "applied"  # the job moved forward (or learnt its provider id)
    UNCHANGED = "unchanged"  # the job was there already, or further
    DUPLICATE = "duplicate"  # this event was applied before: ignored
    UNKNOWN = "unknown"  # no job of this backend has that id or provider id


def forward(
    job: Job, provider_sid: str, status: FaxStatus, error: str | None, pages: int | None
) -> dict[str, Any]:
    """The changes a status report makes to `job`: status moves only forward (queued, in
    progress, then SUCCESS or FAILED, which are final). A report that arrives while the
    hand-over is being committed (the provider was faster than our database) still lands: it
    sets the provider id, and a final status ends the job; the dispatcher's commit of the
    hand-over then finds the job moved on and leaves it."""
    if job.phase is Phase.DONE:
        return {}
    changes: dict[str, Any] = {}
    if job.provider_sid is None:
        changes["provider_sid"] = provider_sid
    if status in (FaxStatus.SUCCESS, FaxStatus.FAILED):
        changes.update(phase=Phase.DONE, status=status, error=error)
        if pages is not None:
            changes["pages"] = pages
    return changes


@dataclass(frozen=True)
class JobFilter:
    """Which jobs a page lists; None is any. Times are epoch seconds: `created_since`
    inclusive, `created_until` exclusive."""

    status: FaxStatus | None = None
    to: str | None = None
    created_since: float | None = None
    created_until: float | None = None

    def digest(self) -> str:
        """What a cursor remembers of the filters it was issued for: a page that continues
        another query would skip or repeat jobs."""
        status = None if self.status is None else self.status.value
        return cursors.filters_digest(status, self.to, self.created_since, self.created_until)

    def conditions(self) -> dict[str, Any]:
        """The PAGE_CONDITIONS this filter needs, with their parameters."""
        found: dict[str, Any] = {}
        if self.status is not None:
            found["status"] = self.status.value
        if self.to is not None:
            found["to"] = self.to
        if self.created_since is not None:
            found["created_since"] = self.created_since
        if self.created_until is not None:
            found["created_until"] = self.created_until
        return found


# A page's WHERE conditions by name; `{name}` is the bound parameter of that name.
PAGE_CONDITIONS = {
    "owner": "api_key_id = {owner}",
    "status": "status = {status}",
    "to": "to_number = {to}",
    "created_since": "created_at >= {created_since}",
    "created_until": "created_at < {created_until}",
    "after": "(created_at < {after_created_at} OR "
    "(created_at = {after_created_at} AND id < {after_id}))",
}
_PARAMETERS = (
    "owner",
    "status",
    "to",
    "created_since",
    "created_until",
    "after_created_at",
    "after_id",
)


def _markers(bind: Callable[[str], str]) -> dict[str, str]:
    return {name: bind(name) for name in _PARAMETERS}


UNFILTERED = JobFilter()


def encode_cursor(job: Job, filters: JobFilter = UNFILTERED) -> str:
    return cursors.encode(job.created_at, job.id, filters.digest())


def decode_cursor(cursor: str, filters: JobFilter = UNFILTERED) -> tuple[float, str]:
    """The created_at and id a cursor continues after; BadCursor when it is not one this API
    returned or was issued for other filters. A cursor of an earlier release (no filters'
    digest) continues an unfiltered list."""
    return cursors.decode(
        cursor,
        filters.digest(),
        "status, to, created_since and created_until",
        digest_if_absent=UNFILTERED.digest(),
    )


@dataclass(frozen=True)
class Lease:
    """The terms on which this replica works jobs when several share the database: a job it
    creates or claims is leased to `owner` for `seconds`, and every change it makes to a job is
    conditional on still holding that lease (store/leases.py claims and extends them)."""

    owner: str
    seconds: float


# What ends a lease: a job that is done is nobody's.
NO_LEASE: dict[str, Any] = {"lease_owner": None, "lease_expires_at": None}


class JobStore:
    def __init__(
        self,
        database: Database,
        writer: Writer,
        clock: Callable[[], float] = time.time,
        lease: Lease | None = None,
    ) -> None:
        self._database = database
        self._writer = writer
        self._clock = clock
        self._sql = _Statements(database.paramstyle)
        self.lease = lease  # None: the only appliance on its database (SQLite)

    def _one(self, sql: str, params: dict[str, Any]) -> Job | None:
        with self._database.reading() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return _job(row) if row else None

    def _many(self, sql: str, params: dict[str, Any]) -> list[Job]:
        with self._database.reading() as cursor:
            cursor.execute(sql, params)
            return [_job(row) for row in cursor.fetchall()]

    async def create(
        self,
        *,
        job_id: str,
        to: str,
        pages: int,
        backend: str,
        document_key: str,
        api_key_id: str,
        idempotency_key: str | None,
        request_hash: str,
    ) -> tuple[Job, bool]:
        """Insert a queued job; durable when this returns. With an idempotency key already used
        by this API key, returns that job and False instead."""
        now = self._clock()
        job = Job(
            id=job_id,
            to=to,
            status=FaxStatus.QUEUED,
            phase=Phase.QUEUED,
            pages=pages,
            error=None,
            backend=backend,
            provider_sid=None,
            document_key=document_key,
            api_key_id=api_key_id,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            attempts=0,
            polls=0,
            next_action_at=now,
            sent_at=None,
            created_at=now,
            updated_at=now,
        )
        if self.lease is not None:  # the replica that took the request works the job
            job = dataclasses.replace(
                job, lease_owner=self.lease.owner, lease_expires_at=now + self.lease.seconds
            )
        values = _row(job)
        insert = self._sql.insert
        inserted = await self._writer.write(
            lambda cursor: cursor.execute(insert, values).rowcount == 1
        )
        if inserted:
            return job, True
        existing = await asyncio.to_thread(self.by_idempotency_key, api_key_id, idempotency_key)
        if existing is None:  # ON CONFLICT only fires for the idempotency key
            raise RuntimeError(f"job {job_id} was neither inserted nor found")
        return existing, False

    def get(self, job_id: str) -> Job | None:
        return self._one(self._sql.get, {"id": job_id})

    def by_idempotency_key(self, api_key_id: str, key: str | None) -> Job | None:
        if key is None:
            return None
        return self._one(self._sql.by_idempotency_key, {"api_key_id": api_key_id, "key": key})

    def page(
        self,
        limit: int,
        cursor: str | None = None,
        filters: JobFilter = UNFILTERED,
        owner: str | None = None,
    ) -> tuple[list[Job], str | None]:
        """The jobs `filters` select, newest first, only those of the API key `owner` unless it
        is None; the cursor continues after the last job of the previous page of the same
        filters (BadCursor for another filter's cursor). The owner is not in the cursor: a key
        always lists with the same owner, and a cursor holds only a place in the order."""
        params: dict[str, Any] = {} if owner is None else {"owner": owner}
        params.update(filters.conditions())
        conditions = tuple(params)
        if cursor:
            params["after_created_at"], params["after_id"] = decode_cursor(cursor, filters)
            conditions += ("after",)
        params["limit"] = limit + 1
        found = self._many(self._sql.page(conditions), params)
        more = len(found) > limit
        found = found[:limit]
        return found, (encode_cursor(found[-1], filters) if more and found else None)

    def due(self, now: float, limit: int) -> list[Job]:
        """Jobs whose next step is due: queued, awaiting recovery, or awaiting a status poll."""
        return self._many(self._sql.due, {**UNFINISHED_PARAMS, "now": now, "limit": limit})

    def due_ids(self, now: float, limit: int) -> list[str]:
        """The ids of the jobs `due` would return: the sweep reads whole rows only for jobs the
        dispatcher does not know yet."""
        with self._database.reading() as cursor:
            cursor.execute(self._sql.due_ids, {**UNFINISHED_PARAMS, "now": now, "limit": limit})
            return [str(row[0]) for row in cursor.fetchall()]

    def get_many(self, ids: list[str]) -> list[Job]:
        """The jobs with these ids (those that exist), read BY_IDS_CHUNK at a time."""
        found: list[Job] = []
        for start in range(0, len(ids), BY_IDS_CHUNK):
            chunk = ids[start : start + BY_IDS_CHUNK]
            params = {f"id{n}": job_id for n, job_id in enumerate(chunk)}
            found += self._many(self._sql.by_ids(len(chunk)), params)
        return found

    def existing(self, ids: list[str]) -> set[str]:
        """Those of `ids` that have a job (read by the primary key, BY_IDS_CHUNK at a time)."""
        found: set[str] = set()
        with self._database.reading() as cursor:
            for start in range(0, len(ids), BY_IDS_CHUNK):
                chunk = ids[start : start + BY_IDS_CHUNK]
                cursor.execute(
                    self._sql.ids_in(len(chunk)), {f"id{n}": i for n, i in enumerate(chunk)}
                )
                found.update(str(row[0]) for row in cursor.fetchall())
        return found

    def count_unfinished(self) -> int:
        with self._database.reading() as cursor:
            cursor.execute(self._sql.count_unfinished, UNFINISHED_PARAMS)
            return int(cursor.fetchone()[0])

    def count_by_phase(self) -> dict[str, int]:
        """How many jobs are in each phase (the metrics' jobs gauge)."""
        with self._database.reading() as cursor:
            cursor.execute(self._sql.count_by_phase)
            return {str(phase): int(n) for phase, n in cursor.fetchall()}

    async def _transition(self, job: Job, expected: Phase, **changes: Any) -> Job | None:
        """Apply `changes` (Job fields) if the job is still in phase `expected`; the job as it
        now is, or None when another dispatcher moved it first."""
        changes["updated_at"] = self._clock()
        lease = self.lease
        if lease is not None and changes.get("phase") is Phase.DONE:
            changes.update(NO_LEASE)
        params = {_COLUMN_OF.get(f, f): _db_value(v) for f, v in changes.items()}
        sql = self._sql.update(tuple(params), leased=lease is not None)
        params["id"], params["expected"] = job.id, expected.value
        if lease is not None:
            params["owner"] = lease.owner

        def run(cursor: Any) -> bool:
            return bool(cursor.execute(sql, params).rowcount == 1)

        if not await self._writer.write(run):
            return None
        return dataclasses.replace(job, **changes)

    async def apply_report(
        self,
        *,
        backend: str,
        event_id: str,
        provider_sid: str,
        status: FaxStatus,
        job_id: str | None = None,
        error: str | None = None,
        pages: int | None = None,
    ) -> tuple[ReportResult, Job | None]:
        """Apply a provider's status report of a job of `backend`, found by `job_id` when the
        provider echoed it, else by `provider_sid`, once per `event_id` (remembered in the same
        transaction, so a report is applied exactly once)."""
        now = self._clock()
        sql = self._sql
        leased = self.lease is not None

        def run(cursor: Any) -> tuple[ReportResult, Job | None]:
            event = {"plugin": backend, "event_id": event_id, "now": now}
            if cursor.execute(sql.seen_event, event).rowcount != 1:
                return ReportResult.DUPLICATE, None
            row = None
            if job_id is not None:
                cursor.execute(sql.by_backend_id, {"id": job_id, "backend": backend})
                row = cursor.fetchone()
            if row is None:
                cursor.execute(sql.by_backend_sid, {"backend": backend, "sid": provider_sid})
                row = cursor.fetchone()
            if row is None:
                return ReportResult.UNKNOWN, None
            job = _job(row)
            changes = forward(job, provider_sid, status, error, pages)
            if not changes:
                return ReportResult.UNCHANGED, job
            changes["updated_at"] = now
            if leased and changes.get("phase") is Phase.DONE:
                changes.update(NO_LEASE)  # whichever replica holds it: the provider said so
            params = {_COLUMN_OF.get(f, f): _db_value(v) for f, v in changes.items()}
            update = sql.update(tuple(params))
            params["id"], params["expected"] = job.id, job.phase.value
            if cursor.execute(update, params).rowcount != 1:
                return ReportResult.UNCHANGED, job
            return ReportResult.APPLIED, dataclasses.replace(job, **changes)

        return await self._writer.write(run)

    def documents_due(self, before: float, limit: int) -> list[tuple[str, str]]:
        """(job id, document key) of finished jobs last changed before `before` whose document
        is still stored, oldest first."""
        with self._database.reading() as cursor:
            cursor.execute(
                self._sql.documents_due,
                {"done": Phase.DONE.value, "before": before, "limit": limit},
            )
            return [(str(r[0]), str(r[1])) for r in cursor.fetchall()]

    async def document_deleted(self, job_ids: list[str]) -> None:
        """Note that retention deleted these jobs' documents."""
        now = self._clock()
        sql = self._sql.document_deleted

        def run(cursor: Any) -> None:
            for job_id in job_ids:
                cursor.execute(sql, {"now": now, "id": job_id})

        await self._writer.write(run)

    def rows_due(self, before: float, limit: int) -> list[tuple[str, str, float | None]]:
        """(id, document key, document_deleted_at) of finished jobs last changed before
        `before`, oldest first."""
        with self._database.reading() as cursor:
            cursor.execute(
                self._sql.rows_due, {"done": Phase.DONE.value, "before": before, "limit": limit}
            )
            return [(str(r[0]), str(r[1]), r[2]) for r in cursor.fetchall()]

    async def delete_rows(self, job_ids: list[str]) -> None:
        """Delete these finished jobs' rows (retention)."""
        sql = self._sql.delete_row

        def run(cursor: Any) -> None:
            for job_id in job_ids:
                cursor.execute(sql, {"id": job_id, "done": Phase.DONE.value})

        await self._writer.write(run)

    async def start_hand_over(self, job: Job, lease_until: float) -> Job | None:
        """queued -> handing_over, counting the attempt. None if someone else took it."""
        return await self._transition(
            job,
            Phase.QUEUED,
            phase=Phase.HANDING_OVER,
            status=FaxStatus.IN_PROGRESS,
            attempts=job.attempts + 1,
            next_action_at=lease_until,
        )

    async def handed_over(self, job: Job, provider_sid: str, next_poll_at: float) -> Job | None:
        now = self._clock()
        return await self._transition(
            job,
            Phase.HANDING_OVER,
            phase=Phase.SENT,
            provider_sid=provider_sid,
            status=FaxStatus.IN_PROGRESS,
            sent_at=now,
            next_action_at=next_poll_at,
            error=None,
        )

    async def requeue(self, job: Job, expected: Phase, at: float, error: str) -> Job | None:
        """Back to queued (a hand-over that surely did not happen), to be tried again at `at`."""
        return await self._transition(
            job,
            expected,
            phase=Phase.QUEUED,
            status=FaxStatus.QUEUED,
            next_action_at=at,
            error=error,
        )

    async def postpone(self, job: Job, expected: Phase, at: float) -> Job | None:
        return await self._transition(job, expected, next_action_at=at)

    async def poll_again(self, job: Job, at: float) -> Job | None:
        return await self._transition(job, Phase.SENT, next_action_at=at, polls=job.polls + 1)

    async def finish(
        self,
        job: Job,
        expected: Phase,
        status: FaxStatus,
        error: str | None,
        pages: int | None = None,
    ) -> Job | None:
        values: dict[str, Any] = {"phase": Phase.DONE, "status": status, "error": error}
        if pages is not None:
            values["pages"] = pages
        return await self._transition(job, expected, **values)
