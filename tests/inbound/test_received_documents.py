"""No error path of receiving keeps a document without its row: whatever fails while a
received fax is stored (storing the document, fetching it from the provider, committing the
row, the answer of a commit that happened, the cleanup itself, a cancelled request, the same
fax delivered again), once the orphan sweep has run, the stored documents are exactly those of
the received faxes' rows. Real parts (SQLite, the local storage plugin), faults around them."""

from __future__ import annotations

import asyncio
import errno
import logging
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from faxbot.inbound.service import InboundService, InboundSource
from faxbot.jobs.documents import OrphanSweep, inbound_of
from faxbot.plugins.contract import Deps, ReceivedFax, TransportError
from faxbot.store.database import Database, migrate
from faxbot.store.inbound import InboundFax, InboundFilter, InboundStore
from faxbot.store.jobs import JobStore
from faxbot.store.writer import Writer
from faxbot_plugin_local import LocalStorage
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.conftest import one_page_pdf

FAULTS = (
    "none",
    "again",  # the same fax delivered a second time
    "put_fails",
    "put_answer_lost",  # stored, then an error
    "fetch_fails",  # the provider's PDF breaks off mid-way
    "insert_fails",
    "insert_answer_lost",  # committed, then an error
    "cancelled_before_insert",
    "cancelled_after_commit",
    "delete_fails",  # insert fails and so does the cleanup's delete
)
LOG = logging.getLogger("test.inbound")
PDF = one_page_pdf()


class Faults:
    def __init__(self) -> None:
        self.now = "none"


class FaultyStorage(LocalStorage):
    def __init__(self, faults: Faults) -> None:
        super().__init__()
        self.faults = faults

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        if self.faults.now == "put_fails":
            raise OSError(errno.ENOSPC, "No space left on device")
        size = await super().put(key, chunks)
        if self.faults.now == "put_answer_lost":
            raise OSError(errno.EIO, "the local storage's file worker exited")
        return size

    async def delete(self, key: str) -> None:
        if self.faults.now == "delete_fails":
            raise OSError(errno.EIO, "I/O error")
        await super().delete(key)


class FaultyStore(InboundStore):
    def __init__(self, database: Database, writer: Writer, faults: Faults) -> None:
        super().__init__(database, writer)
        self.faults = faults

    async def insert(self, fax: InboundFax) -> bool:
        fault = self.faults.now
        if fault in ("insert_fails", "delete_fails"):
            raise sqlite3.OperationalError("database or disk is full")
        if fault == "cancelled_before_insert":
            raise asyncio.CancelledError
        inserted = await super().insert(fax)
        if fault == "insert_answer_lost":
            raise sqlite3.OperationalError("server closed the connection unexpectedly")
        if fault == "cancelled_after_commit":
            raise asyncio.CancelledError
        return inserted


class Provider:
    """The inbound transport: serves each fax's PDF, or breaks off when told to."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults

    async def list_inbound(self, since: float | None) -> Sequence[ReceivedFax]:
        return []

    async def get_inbound_pdf(self, provider_sid: str) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        yield PDF[:100]
        if self.faults.now == "fetch_fails":
            raise TransportError("connection reset", retryable=True)
        yield PDF[100:]


async def stored_keys(storage: LocalStorage) -> set[str]:
    return {key async for key in await storage.list_documents(float("inf"))}


async def scenario(folder: Path, faults_in_order: list[str]) -> None:
    database = Database(f"sqlite:///{folder / 'faxbot.sqlite3'}")
    migrate(database)
    writer = Writer(database)
    writer.open()
    faults = Faults()
    store = FaultyStore(database, writer, faults)
    storage = FaultyStorage(faults)
    settings_: Mapping[str, Any] = {"directory": "documents", "fsync": False}
    await storage.start(settings_, Deps(data_dir=folder, logger=LOG))
    service = InboundService(
        store,
        storage,
        InboundSource("test", Provider(faults), None),
        max_document_bytes=10 * 1024 * 1024,
        logger=LOG,
    )
    try:
        for n, fault in enumerate(faults_in_order):
            faults.now = fault
            sid = f"rx-{n - 1 if fault == 'again' and n else n}"
            document = None if fault == "fetch_fails" or n % 2 else PDF
            fax = ReceivedFax(sid, "+14155550123", "+12025550100", 1, 1.0e9 + n, document)
            try:
                await service.receive(fax)
            except (OSError, sqlite3.Error, asyncio.CancelledError, TransportError):
                assert fault not in ("none", "again")
        faults.now = "none"
        rows, _ = store.page(200, None, InboundFilter(), None)
        assert len({row.provider_sid for row in rows}) == len(rows)  # one row per fax
        sweep = OrphanSweep(
            JobStore(database, writer), storage, storage, LOG, grace_seconds=-60.0, inbound=store
        )
        await sweep.sweep()
        kept = await stored_keys(storage)
        assert kept == {row.document_key for row in rows}
        assert all(inbound_of(key) for key in kept)
        for row in rows:  # every stored fax's document is whole
            chunks = await storage.get(row.document_key)
            assert b"".join([c async for c in chunks]) == PDF
    finally:
        await storage.stop()
        await writer.close()
        database.close()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(FAULTS), min_size=1, max_size=8))
def test_no_error_path_of_receiving_keeps_a_document_without_its_row(
    faults_in_order: list[str],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(asyncio.wait_for(scenario(Path(folder), faults_in_order), 60))
