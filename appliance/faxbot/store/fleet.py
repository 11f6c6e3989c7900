"""Periodic sweeps (retention, orphan documents) across replicas: a pass runs on one replica
at a time. On PostgreSQL each pass takes a session-level advisory lock of its own name with
`pg_try_advisory_lock` on a connection of its own, and gives it back after the pass (or the
server does, when the replica dies and its connection closes); a replica that finds the lock
taken skips its turn, as another replica is doing the same work. On SQLite, the only
appliance on its database always has its turn."""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import AsyncIterator

from faxbot.store.database import Connection, Database

# The first key of every sweep's advisory lock (the second is the sweep's name's CRC-32):
# apart from the migration lock (database.py), which takes one key.
SWEEP_LOCK_SPACE = 0x66617863


def _key(name: str) -> int:
    """The sweep's name as PostgreSQL's int4 (CRC-32, signed)."""
    crc = zlib.crc32(name.encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


class FleetSweeps:
    """The turns of the sweeps on `database` (None: a sweep with no database of its own to
    share, such as in unit tests: always its turn)."""

    def __init__(self, database: Database | None) -> None:
        self._database = database

    @contextlib.asynccontextmanager
    async def turn(self, name: str) -> AsyncIterator[bool]:
        """Whether this replica does this pass of the sweep `name`: True while no other
        replica's pass of it is under way (the lock is held until the block ends)."""
        database = self._database
        if database is None or database.dialect != "postgresql":
            yield True
            return
        connection = await asyncio.to_thread(database.connect, autocommit=True)
        try:
            mine = await asyncio.to_thread(_try_lock, connection, _key(name))
            yield mine
        finally:
            # Closing the session releases its advisory locks: no unlock to forget.
            await asyncio.to_thread(_close, connection)


def _try_lock(connection: Connection, key: int) -> bool:
    cursor = connection.cursor()
    try:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", (SWEEP_LOCK_SPACE, key))
        return bool(cursor.fetchone()[0])
    finally:
        cursor.close()


def _close(connection: Connection) -> None:
    with contextlib.suppress(Exception):
        connection.close()
