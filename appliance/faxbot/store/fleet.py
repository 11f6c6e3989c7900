"""Periodic sweeps (retention, orphan documents) across replicas: one pass per interval for
the whole fleet, never two at once.

On PostgreSQL each pass takes a session-level advisory lock of its sweep's name with
`pg_try_advisory_lock`, on a connection of its own that is closed after the pass (which
releases it; the server does too when a replica dies and its connection goes). Under the lock
it reads when the sweep's last pass began (the `sweep_passes` table): a replica whose turn
comes less than RECENT of an interval after another's pass skips it, as does one that finds
the lock taken (a pass is under way); otherwise it notes its own pass and makes it. On SQLite,
the only appliance on its database always has its turn."""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections.abc import AsyncIterator, Callable

from faxbot.store.database import Connection, Database

# The first key of every sweep's advisory lock (the second is the sweep's name's CRC-32),
# apart from the migration lock (database.py), which takes a single key.
SWEEP_LOCK_SPACE = 0x66617863
# A pass that began less than this part of an interval ago makes another replica's turn
# needless (the replicas' timers are not in step: each turn comes somewhere in an interval).
RECENT = 0.9


def _key(name: str) -> int:
    """The sweep's name as PostgreSQL's int4 (CRC-32, signed)."""
    crc = zlib.crc32(name.encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


class FleetSweeps:
    """The turns of the sweeps on `database`, for the replica `replica` (None for the
    database: a sweep with nothing to share, as in unit tests, always has its turn)."""

    def __init__(
        self,
        database: Database | None,
        replica: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._database = database
        self._replica = replica
        self._clock = clock

    @contextlib.asynccontextmanager
    async def turn(self, name: str, every: float) -> AsyncIterator[bool]:
        """Whether this replica makes this pass of the sweep `name`, which runs every `every`
        seconds: False when another replica's pass is under way or began recently. The lock
        is held until the block ends."""
        database = self._database
        if database is None or database.dialect != "postgresql":
            yield True
            return
        connection = await asyncio.to_thread(database.connect, autocommit=True)
        try:
            mine = await asyncio.to_thread(self._take, connection, name, every)
            yield mine
        finally:
            await asyncio.to_thread(_close, connection)  # and with it, the lock

    def _take(self, connection: Connection, name: str, every: float) -> bool:
        cursor = connection.cursor()
        try:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", (SWEEP_LOCK_SPACE, _key(name)))
            if not cursor.fetchone()[0]:
                return False
            now = self._clock()
            cursor.execute("SELECT began_at FROM sweep_passes WHERE name = %s", (name,))
            last = cursor.fetchone()
            if last is not None and now - float(last[0]) < every * RECENT:
                return False
            cursor.execute(
                "INSERT INTO sweep_passes (name, began_at, replica) VALUES (%s, %s, %s) "
                "ON CONFLICT (name) DO UPDATE SET began_at = EXCLUDED.began_at, "
                "replica = EXCLUDED.replica",
                (name, now, self._replica),
            )
            return True
        finally:
            cursor.close()


def _close(connection: Connection) -> None:
    with contextlib.suppress(Exception):
        connection.close()
