"""The running appliance: what `create_app` wires together and the lifespan starts. It holds
the artifact (read-only), the started plugins, the job store and the dispatcher."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from litestar import Litestar

from faxbot.dispatch.dispatcher import Dispatcher, DispatchPolicy
from faxbot.ids import new_id
from faxbot.kernel.keypath import matches, parse_path
from faxbot.kernel.secrets import (
    MASK,
    SecretUnavailable,
    looks_like_reference,
    parse_reference,
    resolve,
)
from faxbot.plugins.discovery import InstalledPlugin
from faxbot.plugins.host import PluginHost, StartupError
from faxbot.server.auth import utc_iso
from faxbot.server.errors import ApiError
from faxbot.server.models import FaxJob, PluginConfig, PluginDetail, PluginSummary
from faxbot.store.database import (
    Database,
    DatabaseUrlError,
    MigrationError,
    database_url,
    migrate,
)
from faxbot.store.jobs import Job, JobStore
from faxbot.store.writer import Writer

TERMINAL_CACHE = 10_000
BLOCKING_THREADS = 64
CHUNK = 256 * 1024


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := await anyio.to_thread.run_sync(handle.read, CHUNK):
            yield chunk


class Appliance:
    def __init__(
        self,
        artifact: Mapping[str, Any],
        installed: Mapping[str, InstalledPlugin],
        env: Mapping[str, str],
        logger: logging.Logger,
        registry: dict[str, Any] | None,
        workdir: Path,
    ) -> None:
        self.artifact = artifact
        self.installed = installed
        self.env = env
        self.log = logger
        self.registry = registry
        appliance = artifact["appliance"]
        self.data_dir = (workdir / appliance["data_dir"]).resolve()
        self.incoming = self.data_dir / "incoming"
        limits = appliance["limits"]
        self.upload_max_bytes: int = limits["upload_max_bytes"]
        self.max_pages: int = limits["max_pages"]
        self.policy = DispatchPolicy(
            max_attempts=limits["max_attempts"],
            send_timeout_seconds=float(limits["send_timeout_seconds"]),
        )
        self.host = PluginHost(artifact, installed, env, self.data_dir, logger)
        self.database: Database | None = None
        self.writer: Writer | None = None
        self._store: JobStore | None = None
        self.dispatcher: Dispatcher | None = None
        self._dispatch_task: asyncio.Task[None] | None = None
        self._terminal: OrderedDict[str, FaxJob] = OrderedDict()
        self.ready = False
        self.startup_error: str | None = None  # why the start failed, for `faxbot serve`

    # -- lifecycle -------------------------------------------------------------------------

    @asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        began = time.perf_counter()
        try:
            await self._start()
        except StartupError as exc:
            self.startup_error = str(exc)
            self.log.error(str(exc), extra={"event": "startup_failed"})
            await self._stop()
            raise
        self.ready = True
        # Objects made at start live as long as the process: keep them out of the collector's
        # full passes, whose pauses otherwise show in request latency (CPython's gc.freeze).
        gc.freeze()
        surface = self.artifact["surface"]
        self.log.info(
            "appliance ready",
            extra={
                "event": "ready",
                "fingerprint": self.artifact["fingerprint"],
                "profile": self.artifact["profile"],
                "seconds": round(time.perf_counter() - began, 4),
                "capabilities": surface["capabilities"],
                "operations": surface["operations"],
            },
        )
        if self.artifact["profile"] == "dev":
            self.log.warning(
                "PROFILE DEV: relaxed rules (http allowed, no audit log, no storage "
                "encryption); do not use with real patient data",
                extra={"event": "dev_profile"},
            )
        try:
            yield
        finally:
            self.ready = False
            await self._stop()

    async def _start(self) -> None:
        # Plugins wait on disks and networks through asyncio.to_thread; its default pool has
        # cpu+4 threads (6 here), which caps concurrent fsyncs and so throughput.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=BLOCKING_THREADS, thread_name_prefix="faxbot-io")
        )
        await anyio.to_thread.run_sync(self._prepare_dirs)
        configured_url = self._secret("database_url")
        try:
            database = Database(database_url(configured_url, self.data_dir))
        except DatabaseUrlError as exc:
            raise StartupError(f"appliance.database_url: {exc}") from None
        self.database = database
        try:
            await anyio.to_thread.run_sync(migrate, database)
            self.writer = Writer(database)
            await anyio.to_thread.run_sync(self.writer.open)
        except (database.driver_error, OSError, MigrationError) as exc:
            where = (
                "appliance.database_url"
                if configured_url
                else f"the SQLite database in data_dir ({self.data_dir / 'faxbot.sqlite3'})"
            )
            raise StartupError(
                f"cannot open {where} ({database.dialect}): {database.describe_error(exc)}"
            ) from None
        self._store = JobStore(database, self.writer)
        await self.host.start()
        transport, storage = self.host.get("outbound"), self.host.get("storage")
        if transport is not None:
            if storage is None:
                raise StartupError(
                    "an enabled outbound provider needs an enabled storage "
                    "provider (providers.storage in config.d)"
                )
            self.dispatcher = Dispatcher(
                self._store, transport, storage, self.policy, self.log.getChild("dispatcher")
            )
            if database.dialect == "sqlite":  # the only appliance on this database
                await self.dispatcher.recover()
            self._dispatch_task = asyncio.create_task(self.dispatcher.run())
            unfinished = await anyio.to_thread.run_sync(self._store.count_unfinished)
            self.log.info(
                "dispatcher started",
                extra={"event": "dispatcher_started", "unfinished_jobs": unfinished},
            )

    async def _stop(self) -> None:
        if self._dispatch_task is not None:
            self._dispatch_task.cancel()
            await asyncio.gather(self._dispatch_task, return_exceptions=True)
            self._dispatch_task = None
        await self.host.stop()
        if self.writer is not None:
            await self.writer.close()
            self.writer = None
        if self.database is not None:
            self.database.close()

    def _prepare_dirs(self) -> None:
        self.incoming.mkdir(parents=True, exist_ok=True)
        for leftover in self.incoming.iterdir():  # uploads cut short by a crash
            leftover.unlink(missing_ok=True)

    def _secret(self, key: str) -> str | None:
        value = self.artifact["appliance"].get(key)
        if not isinstance(value, str) or not looks_like_reference(value):
            return value if isinstance(value, str) else None
        try:
            return resolve(parse_reference(value), self.env)
        except SecretUnavailable as exc:
            raise StartupError(f"appliance.{key}: {exc}") from None

    @property
    def store(self) -> JobStore:
        if self._store is None:
            raise ApiError(503, "the appliance is starting")
        return self._store

    async def readiness(self) -> dict[str, dict[str, Any]]:
        checks: dict[str, dict[str, Any]] = {
            "artifact": {"ok": True, "fingerprint": self.artifact["fingerprint"]},
            "plugins": {"ok": self.ready, "started": sorted(self.host.running)},
        }
        try:
            await anyio.to_thread.run_sync(self._ping_database)
            checks["database"] = {"ok": True}
        except Exception as exc:
            checks["database"] = {"ok": False, "error": type(exc).__name__}
        storage = self.host.get("storage")
        health = getattr(storage, "health", None)
        if health is not None:
            report = await health()
            checks["storage"] = {"ok": report.ok}
        return checks

    def _ping_database(self) -> None:
        if self.database is None:
            raise RuntimeError("no database yet")
        with self.database.reading() as cursor:
            cursor.execute("SELECT 1")

    # -- jobs --------------------------------------------------------------------------------

    def view(self, job: Job) -> FaxJob:
        return FaxJob(
            id=job.id,
            to=job.to,
            status=job.status,
            pages=job.pages,
            error=job.error,
            backend=job.backend,
            provider_sid=job.provider_sid,
            created_at=utc_iso(job.created_at),
            updated_at=utc_iso(job.updated_at),
        )

    async def job_view(self, job_id: str) -> FaxJob | None:
        cached = self._terminal.get(job_id)
        if cached is not None:  # a finished job never changes again
            return cached
        job = await anyio.to_thread.run_sync(self.store.get, job_id)
        if job is None:
            return None
        view = self.view(job)
        if job.terminal:
            self._terminal[job_id] = view
            if len(self._terminal) > TERMINAL_CACHE:
                self._terminal.popitem(last=False)
        return view

    def replay(self, earlier: Job, request_hash: str) -> FaxJob:
        if earlier.request_hash != request_hash:
            raise ApiError(
                422,
                "this Idempotency-Key was used for a different fax (another number or "
                "document); use a new key for a new fax",
                {"idempotency_key": earlier.idempotency_key, "job_id": earlier.id},
            )
        return self.view(earlier)

    async def queue_job(
        self,
        *,
        to: str,
        document: bytes | Path,
        pages: int,
        api_key_id: str,
        idempotency_key: str | None,
        request_hash: str,
    ) -> FaxJob:
        """Store the document, then the job row; both are on disk when this returns."""
        storage = self.host.get("storage")
        if self.dispatcher is None or storage is None:
            raise ApiError(503, "no outbound transport is running")
        job_id = new_id()
        document_key = f"{job_id}.pdf"
        put_file = getattr(storage, "put_file", None)
        if isinstance(document, bytes):
            await storage.put(document_key, _one_chunk(document))  # type: ignore[attr-defined]
        elif put_file is not None:
            await put_file(document_key, document)
        else:
            await storage.put(document_key, _file_chunks(document))  # type: ignore[attr-defined]
        job, created = await self.store.create(
            job_id=job_id,
            to=to,
            pages=pages,
            backend=self.artifact["providers"]["outbound"]["plugin"],
            document_key=document_key,
            api_key_id=api_key_id,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
        )
        if not created:  # a concurrent request with the same key won the race
            await storage.delete(document_key)  # type: ignore[attr-defined]
            return self.replay(job, request_hash)
        self.dispatcher.submit(job)
        self.log.info(
            "job queued",
            extra={"event": "job_queued", "job_id": job_id, "pages": pages, "key_id": api_key_id},
        )
        return self.view(job)

    # -- plugins (read-only) ---------------------------------------------------------------

    def _slots(self, plugin_id: str) -> dict[str, Mapping[str, Any]]:
        return {
            slot: entry
            for slot, entry in self.artifact["providers"].items()
            if entry["plugin"] == plugin_id
        }

    def plugin_summary(self, plugin_id: str) -> PluginSummary:
        manifest = self.installed[plugin_id].manifest
        slots = self._slots(plugin_id)
        return PluginSummary(
            id=plugin_id,
            name=manifest.name,
            version=self.artifact["plugins"][plugin_id]["version"],
            description=manifest.description,
            categories=list(manifest.categories),
            capabilities=list(manifest.capabilities),
            slots=sorted(slots),
            enabled=any(e.get("enabled", True) for e in slots.values()),
        )

    def plugin_detail(self, plugin_id: str) -> PluginDetail:
        summary = self.plugin_summary(plugin_id)
        return PluginDetail(
            **{f: getattr(summary, f) for f in summary.__struct_fields__},
            manifest=dict(self.installed[plugin_id].manifest.raw),
        )

    def plugin_config(self, plugin_id: str) -> PluginConfig:
        secrets = [parse_path(p) for p in self.artifact["plugins"][plugin_id]["secret_settings"]]
        slots = {}
        sources: dict[str, str] = {}
        for slot, entry in sorted(self._slots(plugin_id).items()):
            slots[slot] = {
                "enabled": entry.get("enabled", True),
                "version": entry["version"],
                "settings": _masked(entry["settings"], (), secrets),
            }
            prefix = f"providers.{slot}.settings"
            sources.update(
                {k: v for k, v in self.artifact["sources"].items() if k.startswith(prefix)}
            )
        return PluginConfig(id=plugin_id, slots=slots, sources=sources)


def _masked(value: Any, path: tuple[str | int, ...], secrets: list[Any]) -> Any:
    if any(len(path) == len(s) and matches(path, s) for s in secrets) and value is not None:
        return MASK
    if isinstance(value, dict):
        return {k: _masked(v, (*path, k), secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, (*path, i), secrets) for i, v in enumerate(value)]
    return value


def load_registry(path: Path | None) -> dict[str, Any] | None:
    if path is None or not path.is_file():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded
