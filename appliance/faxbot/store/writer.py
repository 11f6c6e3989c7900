"""One writer for the database. SQLite allows one writer at a time, and writers on separate
connections wait for each other in SQLite's busy handler (sleeps of up to 100 ms). So every
write goes to one thread that owns one connection and commits whatever is queued in a single
transaction: one fsync for a batch (group commit). Operations are written not to fail on
expected conflicts (INSERT ... ON CONFLICT DO NOTHING, compare-and-set UPDATEs); an unexpected
error fails the whole batch, and every caller gets it. A write is durable when its awaitable
returns."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

T = TypeVar("T")
MAX_BATCH = 256
_STOP = object()


class Writer:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="faxbot-db-writer", daemon=True)
        self._thread.start()

    async def write(self, operation: Callable[[Connection], T]) -> T:
        """Run `operation` in the writer's transaction; returns once it is committed."""
        future: Future[T] = Future()
        self._queue.put((operation, future))
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(10)

    def _run(self) -> None:
        with self._engine.connect() as connection:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                batch = [item]
                while len(batch) < MAX_BATCH:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is _STOP:
                        self._queue.put(_STOP)
                        break
                    batch.append(more)
                self._commit(connection, batch)

    @staticmethod
    def _commit(connection: Connection, queued: list[Any]) -> None:
        # A write whose caller was cancelled before it started is dropped, never half-done.
        batch = [(op, future) for op, future in queued if future.set_running_or_notify_cancel()]
        if not batch:
            return
        values: list[Any] = []
        try:
            with connection.begin():
                values = [operation(connection) for operation, _ in batch]
        except Exception as exc:  # nothing in the batch is durable: every caller hears why
            for _, future in batch:
                future.set_exception(exc)
            return
        for (_, future), value in zip(batch, values, strict=True):
            future.set_result(value)
