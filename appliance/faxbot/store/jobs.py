"""Fax jobs in the database (SQLAlchemy Core). Reads are synchronous, for worker threads;
writes are awaitables that return once committed, through the one database writer. Every
change of a job's phase is a compare-and-set on the phase it expects, so two dispatchers can
never both hand the same job over."""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import anyio.to_thread
from sqlalchemy import Connection, Engine, and_, or_, select

from faxbot.plugins.contract import FaxStatus
from faxbot.store.tables import jobs
from faxbot.store.writer import Writer


class Phase(StrEnum):
    """Where the dispatcher is with a job."""

    QUEUED = "queued"  # waiting to be handed to the transport
    HANDING_OVER = "handing_over"  # send() called; crash here is recovered, never resent blindly
    SENT = "sent"  # the provider has it; status is polled until terminal
    DONE = "done"  # SUCCESS or FAILED


@dataclass(frozen=True)
class Job:
    id: str
    to: str
    status: FaxStatus
    phase: Phase
    pages: int
    error: str | None
    backend: str
    provider_sid: str | None
    document_key: str
    api_key_id: str
    idempotency_key: str | None
    request_hash: str
    attempts: int
    polls: int
    next_action_at: float
    sent_at: float | None
    created_at: float
    updated_at: float

    @property
    def terminal(self) -> bool:
        return self.phase is Phase.DONE


def _columns(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "to_number": job.to,
        "status": job.status.value,
        "phase": job.phase.value,
        "pages": job.pages,
        "error": job.error,
        "backend": job.backend,
        "provider_sid": job.provider_sid,
        "document_key": job.document_key,
        "api_key_id": job.api_key_id,
        "idempotency_key": job.idempotency_key,
        "request_hash": job.request_hash,
        "attempts": job.attempts,
        "polls": job.polls,
        "next_action_at": job.next_action_at,
        "sent_at": job.sent_at,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
    }


def _job(row: Any) -> Job:
    return _job_from(row._mapping)


def _job_from(m: Any) -> Job:
    return Job(
        id=m["id"],
        to=m["to_number"],
        status=FaxStatus(m["status"]),
        phase=Phase(m["phase"]),
        pages=m["pages"],
        error=m["error"],
        backend=m["backend"],
        provider_sid=m["provider_sid"],
        document_key=m["document_key"],
        api_key_id=m["api_key_id"],
        idempotency_key=m["idempotency_key"],
        request_hash=m["request_hash"],
        attempts=m["attempts"],
        polls=m["polls"],
        next_action_at=m["next_action_at"],
        sent_at=m["sent_at"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


_COLUMNS = [c.name for c in jobs.columns]


@dataclass(frozen=True)
class _Statements:
    """The two statements of the write path, as plain SQL in the driver's own parameter
    style, run with `exec_driver_sql`: it skips SQLAlchemy's compile and parameter steps
    (15 us a statement instead of 27 us, and four run per job). Only our own column names are
    joined in; every value is a bound parameter; SQLite and PostgreSQL both run them."""

    insert: str
    update: str

    @classmethod
    def for_paramstyle(cls, paramstyle: str) -> _Statements:
        if paramstyle in ("named", "qmark"):  # sqlite3 takes :name with a mapping either way
            bind = ":{}".format
        elif paramstyle == "pyformat":  # psycopg
            bind = "%({})s".format
        else:
            raise ValueError(f"unsupported DB-API paramstyle {paramstyle!r}")
        names, params = ", ".join(_COLUMNS), ", ".join(bind(c) for c in _COLUMNS)
        assignments = ", ".join(f"{c} = {bind(c)}" for c in _COLUMNS if c != "id")
        return cls(
            insert=f"INSERT INTO jobs ({names}) VALUES ({params}) ON CONFLICT DO NOTHING",  # noqa: S608
            update=f"UPDATE jobs SET {assignments} WHERE id = {bind('id')} "  # noqa: S608
            f"AND phase = {bind('expected')}",
        )


class BadCursor(ValueError):
    pass


def encode_cursor(job: Job) -> str:
    raw = json.dumps([job.created_at, job.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, job_id = json.loads(raw)
        return float(created_at), str(job_id)
    except (ValueError, TypeError, binascii.Error):
        raise BadCursor("not a cursor this API returned") from None


class JobStore:
    def __init__(
        self, engine: Engine, writer: Writer, clock: Callable[[], float] = time.time
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._clock = clock
        self._sql = _Statements.for_paramstyle(engine.dialect.paramstyle)

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
        values = {
            "id": job_id,
            "to_number": to,
            "status": FaxStatus.QUEUED.value,
            "phase": Phase.QUEUED.value,
            "pages": pages,
            "error": None,
            "backend": backend,
            "provider_sid": None,
            "document_key": document_key,
            "api_key_id": api_key_id,
            "idempotency_key": idempotency_key,
            "request_hash": request_hash,
            "attempts": 0,
            "polls": 0,
            "next_action_at": now,
            "sent_at": None,
            "created_at": now,
            "updated_at": now,
        }
        inserted = await self._writer.write(
            lambda conn: conn.exec_driver_sql(self._sql.insert, values).rowcount == 1
        )
        if inserted:
            return _job_from(values), True
        existing = await anyio.to_thread.run_sync(
            self.by_idempotency_key, api_key_id, idempotency_key
        )
        if existing is None:  # ON CONFLICT only fires for the idempotency key
            raise RuntimeError(f"job {job_id} was neither inserted nor found")
        return existing, False

    def get(self, job_id: str) -> Job | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
        return _job(row) if row else None

    def by_idempotency_key(self, api_key_id: str, key: str | None) -> Job | None:
        if key is None:
            return None
        query = select(jobs).where(
            and_(jobs.c.api_key_id == api_key_id, jobs.c.idempotency_key == key)
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return _job(row) if row else None

    def page(self, limit: int, cursor: str | None = None) -> tuple[list[Job], str | None]:
        """Newest first; the cursor continues after the last job of the previous page."""
        query = select(jobs).order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(limit + 1)
        if cursor:
            created_at, job_id = decode_cursor(cursor)
            query = query.where(
                or_(
                    jobs.c.created_at < created_at,
                    and_(jobs.c.created_at == created_at, jobs.c.id < job_id),
                )
            )
        with self._engine.connect() as conn:
            found = [_job(row) for row in conn.execute(query)]
        more = len(found) > limit
        found = found[:limit]
        return found, (encode_cursor(found[-1]) if more and found else None)

    def due(self, now: float, limit: int) -> list[Job]:
        """Jobs whose next step is due: queued, awaiting recovery, or awaiting a status poll."""
        query = (
            select(jobs)
            .where(and_(jobs.c.phase != Phase.DONE.value, jobs.c.next_action_at <= now))
            .order_by(jobs.c.next_action_at)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [_job(row) for row in conn.execute(query)]

    def count_unfinished(self) -> int:
        with self._engine.connect() as conn:
            rows = conn.execute(select(jobs.c.id).where(jobs.c.phase != Phase.DONE.value))
            return len(rows.all())

    async def _transition(self, job: Job, expected: Phase, **values: Any) -> Job | None:
        """Apply `values` if the job is still in phase `expected`; the job as it now is, or
        None when another dispatcher moved it first."""
        values["updated_at"] = self._clock()
        after = {**_columns(job), **values}
        params = {**after, "expected": expected.value}

        def run(conn: Connection) -> bool:
            return bool(conn.exec_driver_sql(self._sql.update, params).rowcount == 1)

        if not await self._writer.write(run):
            return None
        return _job_from(after)

    async def start_hand_over(self, job: Job, lease_until: float) -> Job | None:
        """queued -> handing_over, counting the attempt. None if someone else took it."""
        return await self._transition(
            job,
            Phase.QUEUED,
            phase=Phase.HANDING_OVER.value,
            status=FaxStatus.IN_PROGRESS.value,
            attempts=job.attempts + 1,
            next_action_at=lease_until,
        )

    async def handed_over(self, job: Job, provider_sid: str, next_poll_at: float) -> Job | None:
        now = self._clock()
        return await self._transition(
            job,
            Phase.HANDING_OVER,
            phase=Phase.SENT.value,
            provider_sid=provider_sid,
            status=FaxStatus.IN_PROGRESS.value,
            sent_at=now,
            next_action_at=next_poll_at,
            error=None,
        )

    async def requeue(self, job: Job, expected: Phase, at: float, error: str) -> Job | None:
        """Back to queued (a hand-over that surely did not happen), to be tried again at `at`."""
        return await self._transition(
            job,
            expected,
            phase=Phase.QUEUED.value,
            status=FaxStatus.QUEUED.value,
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
        values: dict[str, Any] = {"phase": Phase.DONE.value, "status": status.value, "error": error}
        if pages is not None:
            values["pages"] = pages
        return await self._transition(job, expected, **values)
