"""One writer for the database, with group commit: every write joins the open batch, and one
commit (one fsync) makes the whole batch durable.

SQLite allows one writer at a time, and writers on separate connections wait for each other in
SQLite's busy handler (sleeps of up to 100 ms); so all writes go through one connection. Where
the statements run matters as much: a helper thread gives up the GIL for every statement it
runs and, while the event loop is busy, waits up to `sys.getswitchinterval()` to get it back
(5 ms by default), so a batch of a hundred statements run from a thread took most of a second
under load. With SQLite (in-process, so a statement is a few microseconds of page-cache work)
the statements therefore run on the event loop and only the COMMIT, which waits for the disk,
runs in the writer's thread. A batch costs the loop one turn: when a commit ends, one callback
answers its writers and at once runs the writes that queued up meanwhile as the next batch.
With a server database, whose statements wait on the network, the whole batch runs in the
thread.

Operations get the driver's own DB-API cursor (sqlite3 or psycopg), not a SQLAlchemy
Connection: SQLAlchemy's execution path cost 10-15 us a statement, more than SQLite's own
work for the statements here, and four run per job.

Operations are written not to fail on expected conflicts (INSERT ... ON CONFLICT DO NOTHING,
compare-and-set UPDATEs); an unexpected error fails the whole batch, and every caller in it
gets that error. A write is durable when its awaitable returns.

When the database refuses writes for a reason of its own (another program holds SQLite's write
lock, the file is read-only, an I/O error, the PostgreSQL server is gone), `failing()` says so
for FAILING_SECONDS after the last such failure unless a batch has committed since: readiness
reports it, and a quiet appliance is not kept out of rotation for good by one old failure (the
next write tells again). SQLite's busy handler sleeps on the thread that runs the statement,
the event loop here, so the writer waits at most BUSY_TIMEOUT_MS for a lock another program
holds (this process has no other writer), not the readers' 5 s."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from faxbot.store.database import Connection, Cursor, Database, is_unavailable

T = TypeVar("T")
MAX_BATCH = 512
FAILING_SECONDS = 30.0
BUSY_TIMEOUT_MS = 200
Operation = Callable[[Cursor], Any]
Batch = list[tuple[Operation, "asyncio.Future[Any]"]]


class Writer:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._inline = database.dialect == "sqlite"  # statements on the event loop
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="faxbot-db-writer")
        self._connection: Connection | None = None
        self._cursor: Cursor | None = None
        self._opened = False  # open() has succeeded once
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queued: Batch = []
        self._busy = False  # a batch is being written or committed
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False
        self._failure: tuple[float, str] | None = None  # (monotonic time, error type)

    def open(self) -> None:
        """Connect (blocking: call it from a worker thread)."""
        self._connection = self._database.connect(autocommit=False)
        self._cursor = self._connection.cursor()
        if self._inline:
            self._cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self._opened = True

    def failing(self) -> str | None:
        """The error type of the database's last refusal of a write, if it was less than
        FAILING_SECONDS ago and no batch has committed since; else None."""
        if self._failure is None:
            return None
        at, error = self._failure
        return error if time.monotonic() - at < FAILING_SECONDS else None

    async def write(self, operation: Callable[[Cursor], T]) -> T:
        """Run `operation` in the writer's transaction; returns once it is committed.
        `operation` must not block: with SQLite it runs on the event loop."""
        if self._closed:
            raise RuntimeError("the database writer is closed")
        loop = self._loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queued.append((operation, future))
        if not self._busy:
            self._busy = True
            self._idle.clear()
            # Not at once: the other requests of this turn of the loop join the batch.
            loop.call_soon(self._next_batch)
        return await future

    async def close(self) -> None:
        """Finish the batch under way, fail the writes still queued, close the connection."""
        self._closed = True
        await self._idle.wait()
        _settle(self._queued, None, RuntimeError("the database writer is closed"))
        self._queued = []
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._close_connection)
        await loop.run_in_executor(None, self._thread.shutdown)

    def _close_connection(self) -> None:
        cursor, connection = self._cursor, self._connection
        self._cursor = self._connection = None
        with contextlib.suppress(Exception):  # a connection the server dropped may complain
            if cursor is not None:
                cursor.close()
            if connection is not None:
                connection.close()

    def _next_batch(self) -> None:
        """On the loop: start writing what is queued, or go idle."""
        if self._closed:  # nothing new starts; what is queued fails
            _settle(self._queued, None, RuntimeError("the database writer is closed"))
            self._queued = []
        batch = [(op, fut) for op, fut in self._queued[:MAX_BATCH] if not fut.cancelled()]
        del self._queued[:MAX_BATCH]
        if not batch:
            if self._queued:
                self._next_batch()
                return
            self._busy = False
            self._idle.set()
            return
        operations = [op for op, _ in batch]
        if not self._inline:
            self._thread.submit(self._in_thread, batch, self._run_and_commit, operations)
            return
        try:
            values = self._run(operations)
        except Exception as exc:  # rolled back: nothing in the batch happened
            self._committed(batch, None, exc)
            return
        self._thread.submit(self._in_thread, batch, self._commit, values)

    def _in_thread(self, batch: Batch, work: Callable[[Any], Any], argument: Any) -> None:
        """In the writer's thread: do `work`, then hand the outcome to the loop in one call."""
        values: list[Any] | None = None
        error: BaseException | None = None
        try:
            values = work(argument)
        except Exception as exc:
            error = exc
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._committed, batch, values, error)

    def _committed(
        self, batch: Batch, values: list[Any] | None, error: BaseException | None
    ) -> None:
        """On the loop: answer the batch's writers, then start the next batch right away."""
        if error is None:
            self._failure = None
        elif is_unavailable(error):
            self._failure = (time.monotonic(), type(error).__name__)
        _settle(batch, values, error)
        self._next_batch()

    def _open_cursor(self) -> Cursor:
        if self._cursor is None:
            if not self._opened:
                raise RuntimeError("the database writer is not open")
            self.open()  # the last connection was dropped and could not be replaced then
        return self._cursor

    def _run(self, operations: list[Operation]) -> list[Any]:
        """BEGIN and run the operations; on an error, roll back and raise it."""
        cursor = self._open_cursor()
        self._database.check_file()  # never into a deleted or replaced SQLite file
        try:
            if self._inline:  # sqlite3 is in autocommit mode (database.py); psycopg begins itself
                cursor.execute("BEGIN")
            return [operation(cursor) for operation in operations]
        except BaseException:
            self._rollback()
            raise

    def _commit(self, values: list[Any]) -> list[Any]:
        try:
            _commit(self._open_cursor().connection)
        except BaseException:
            self._rollback()
            raise
        return values

    def _run_and_commit(self, operations: list[Operation]) -> list[Any]:
        return self._commit(self._run(operations))

    def _rollback(self) -> None:
        """Roll back after a failed batch. A connection the server dropped (PostgreSQL, when
        it restarts) is replaced here, in the writer's thread, so the batch that met it fails
        and the next one runs on a new connection."""
        connection = self._connection
        if connection is None:
            return
        if not self._database.is_broken(connection):
            connection.rollback()
            return
        self._connection, self._cursor = None, None
        with contextlib.suppress(Exception):
            connection.close()
        with contextlib.suppress(Exception):  # else the next batch tries again
            self.open()


def _settle(batch: Batch, values: list[Any] | None, error: BaseException | None) -> None:
    for index, (_, future) in enumerate(batch):
        if future.done():  # its caller was cancelled
            continue
        if error is not None or values is None:
            future.set_exception(error or RuntimeError("the write was not committed"))
        else:
            future.set_result(values[index])


def _commit(connection: Any) -> None:
    """COMMIT on the driver's connection (a module function, so tests can hold it)."""
    connection.commit()
