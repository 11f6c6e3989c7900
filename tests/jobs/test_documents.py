"""No error path keeps a document without its job: whatever fails while a fax is queued
(storing the document, committing the job, the answer of a commit that happened, the
cleanup itself, a cancelled request), once the orphan sweep has run, the stored documents are
exactly the documents of the jobs, and no job's document was ever deleted. Real parts
(SQLite, the local storage plugin and its file worker), with faults injected around them."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import logging
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from faxbot.destinations import EVERY_COUNTRY, NUMBER_TYPES, DestinationPolicy
from faxbot.dispatch.dispatcher import Dispatcher, DispatchPolicy
from faxbot.documents.renderers import TextRenderers
from faxbot.jobs.documents import OrphanSweep, job_of
from faxbot.jobs.errors import DatabaseUnavailable, StorageFull
from faxbot.jobs.service import JobService, Upload, Uploads
from faxbot.plugins.contract import (
    Deps,
    OutboundFax,
    SendReceipt,
    StatusUpdate,
)
from faxbot.store.database import Database, migrate
from faxbot.store.jobs import Job, JobStore
from faxbot.store.writer import Writer
from faxbot_plugin_local import LocalStorage
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.conftest import one_page_pdf

FAULTS = (
    "none",
    "put_fails",  # nothing stored (the disk is full)
    "put_answer_lost",  # stored, then an error (the file worker died before answering)
    "create_fails",  # the batch rolled back (SQLITE_FULL)
    "create_answer_lost",  # committed, then an error (a connection dropped at COMMIT)
    "cancelled_before_create",  # the client went away while the document was stored
    "cancelled_after_commit",
    "delete_fails",  # create fails and so does the cleanup's delete
)
LOG = logging.getLogger("test.documents")
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


class FaultyStore(JobStore):
    def __init__(self, database: Database, writer: Writer, faults: Faults) -> None:
        super().__init__(database, writer)
        self.faults = faults

    async def create(self, **fields: Any) -> tuple[Job, bool]:
        fault = self.faults.now
        if fault in ("create_fails", "delete_fails"):
            raise sqlite3.OperationalError("database or disk is full")
        if fault == "cancelled_before_create":
            raise asyncio.CancelledError
        job, created = await super().create(**fields)
        if fault == "create_answer_lost":
            raise sqlite3.OperationalError("server closed the connection unexpectedly")
        if fault == "cancelled_after_commit":
            raise asyncio.CancelledError
        return job, created


class Idle:
    """An outbound transport never called: the dispatcher is not run here."""

    async def send(self, fax: OutboundFax) -> SendReceipt:
        raise AssertionError("not sent in this test")

    async def get_status(self, provider_sid: str) -> StatusUpdate:
        raise AssertionError("not polled in this test")


async def stored_keys(storage: LocalStorage) -> set[str]:
    return {key async for key in await storage.list_documents(float("inf"))}


async def scenario(folder: Path, faults_in_order: list[str]) -> None:
    database = Database(f"sqlite:///{folder / 'jobs.sqlite3'}")
    migrate(database)
    writer = Writer(database)
    writer.open()
    faults = Faults()
    store = FaultyStore(database, writer, faults)
    storage = FaultyStorage(faults)
    settings_: Mapping[str, object] = {"directory": "documents", "fsync": False}
    await storage.start(settings_, Deps(data_dir=folder, logger=LOG))
    dispatcher = Dispatcher(store, Idle(), None, storage, DispatchPolicy(), LOG)
    service = JobService(
        store,
        storage,
        dispatcher,
        backend="test",
        uploads=Uploads(folder / "incoming", 10 * 1024 * 1024),
        max_pages=10,
        logger=LOG,
        destinations=DestinationPolicy.of([EVERY_COUNTRY], NUMBER_TYPES),
        renderers=TextRenderers(1, 0, LOG),  # PDFs only here: no worker is started
    )
    upload = Upload(content=PDF, size=len(PDF), sha256=hashlib.sha256(PDF).hexdigest())
    try:
        for fault in faults_in_order:
            faults.now = fault
            try:
                await service.send(
                    to="+12025550143", upload=upload, key_id="k", idempotency_key=None
                )
            except StorageFull:
                assert fault == "put_fails"
            except (OSError, sqlite3.Error, DatabaseUnavailable, asyncio.CancelledError):
                # DatabaseUnavailable: the service's word for a refused write (issue 11)
                assert fault != "none"
        faults.now = "none"
        jobs, _ = store.page(200, None)
        orphans = await stored_keys(storage) - {job.document_key for job in jobs}
        # the request cleans up after itself; only a failed cleanup leaves work for the sweep
        assert len(orphans) <= faults_in_order.count("delete_fails")
        sweep = OrphanSweep(store, storage, storage, LOG, grace_seconds=-60.0)
        await sweep.sweep()
        jobs, _ = store.page(200, None)
        kept = await stored_keys(storage)
        assert kept == {job.document_key for job in jobs}
        assert all(job_of(key) for key in kept)
    finally:
        await storage.stop()
        await writer.close()
        database.close()


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(FAULTS), min_size=1, max_size=8))
def test_no_error_path_keeps_a_document_without_its_job(faults_in_order: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(asyncio.wait_for(scenario(Path(folder), faults_in_order), 60))


def test_the_sweep_spares_young_documents_and_what_is_not_a_job_document(
    tmp_path: Path,
) -> None:
    async def run() -> None:
        database = Database(f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
        migrate(database)
        writer = Writer(database)
        writer.open()
        store = JobStore(database, writer)
        storage = LocalStorage()
        await storage.start({"directory": "documents", "fsync": False}, Deps(tmp_path, LOG))
        try:
            for key in ("0" * 32 + ".pdf", "notes.pdf", "faxbot-encryption-probe"):
                await storage.put(key, _one(b"%PDF-1.7"))
            young = OrphanSweep(store, storage, storage, LOG)  # the hour's grace
            assert await young.sweep() == 0
            old = OrphanSweep(store, storage, storage, LOG, grace_seconds=-60.0)
            assert await old.sweep() == 1
            assert await stored_keys(storage) == {"notes.pdf", "faxbot-encryption-probe"}
        finally:
            await storage.stop()
            await writer.close()
            database.close()

    asyncio.run(run())


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data
