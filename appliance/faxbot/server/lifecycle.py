"""The running appliance: what the lifespan starts and stops, in order (data folders, the
database and its writer, the plugins, the dispatcher and the text render workers), and the
services it then offers to the routes (`jobs`). Holds the artifact read-only."""

from __future__ import annotations

import asyncio
import fcntl
import gc
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from litestar import Litestar

from faxbot.artifact import Artifact
from faxbot.audit import Action, AuditLog, AuditUnavailable, Outcome, StartedDetail
from faxbot.destinations import DestinationPolicy
from faxbot.dispatch.dispatcher import Dispatcher, DispatchPolicy
from faxbot.documents.renderers import TextRenderers, pool_size
from faxbot.inbound.service import InboundService, InboundSource
from faxbot.jobs.documents import OrphanSweep
from faxbot.jobs.errors import NotReceiving, NotSending
from faxbot.jobs.service import JobService, Uploads
from faxbot.kernel.secrets import SecretUnavailable
from faxbot.keys import expiry_instant
from faxbot.links import DocumentLinkService
from faxbot.metrics import Metrics
from faxbot.plugins.contract import DeletesCopies, Storage, StoredDocument
from faxbot.plugins.discovery import InstalledPlugin
from faxbot.plugins.host import PluginHost, Providers, StartupError
from faxbot.replica import ENV as REPLICA_ENV
from faxbot.replica import ReplicaIdError, replica_id
from faxbot.retention import RetentionSweep
from faxbot.store.database import (
    Database,
    DatabaseReplaced,
    DatabaseUrlError,
    MigrationError,
    NewDatabaseRefused,
    database_url,
    migrate,
)
from faxbot.store.fleet import FleetSweeps
from faxbot.store.inbound import InboundStore
from faxbot.store.jobs import JobStore, Lease
from faxbot.store.leases import Leases
from faxbot.store.links import LinkStore
from faxbot.store.ratelimits import SharedKeyBuckets
from faxbot.store.writer import Writer
from faxbot.webhooks.service import WebhookService

# Blocking calls (the database, files, plugins' own) run in the event loop's default
# executor, the one thread pool; its stock size (cpu+4) would cap concurrent fsyncs.
BLOCKING_THREADS = 64
PROBE_KEY = "faxbot-encryption-probe"
AUDIT_DIR = Path("audit")  # under data_dir: <replica>.jsonl, or audit.jsonl (see audit_path)
DATA_DIR_LOCK = "faxbot.lock"  # under data_dir, held while an appliance runs on it
PRIVATE_UMASK = 0o077  # files 0600, folders 0700
# Under data_dir: written once a database is set up, so that a start that finds an empty one
# (the file deleted, a wrong database_url) refuses instead of silently starting afresh.
DATABASE_MARKER = "database.marker"
# Below this much free space where the database and documents live, the appliance is not
# ready: a fax (document, row, WAL) would fail with storage_full.
FREE_BYTES_READY = 8 * 1024 * 1024


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


class Appliance:
    def __init__(
        self,
        artifact: Artifact,
        installed: Mapping[str, InstalledPlugin],
        env: Mapping[str, str],
        logger: logging.Logger,
        workdir: Path,
        *,
        new_database: bool = False,
    ) -> None:
        self._new_database = new_database
        self.artifact = artifact
        self.env = env
        self.log = logger
        try:
            self.replica = replica_id(env)  # its leases' owner and its audit stream's name
        except ReplicaIdError as exc:
            raise StartupError(str(exc)) from None
        self._secrets = artifact.secrets()
        settings = artifact.appliance
        self.data_dir = (workdir / settings.data_dir).resolve()
        self.uploads = Uploads(self.data_dir / "incoming", settings.limits.upload_max_bytes)
        self.policy = DispatchPolicy(
            max_attempts=settings.limits.max_attempts,
            send_timeout_seconds=float(settings.limits.send_timeout_seconds),
        )
        self.host = PluginHost(artifact, installed, env, self.data_dir, logger)
        self.renderers = TextRenderers(
            pool_size(settings.limits.render_workers),
            settings.limits.render_queue,
            logger.getChild("renderers"),
        )
        self.providers = Providers()
        self.metrics = Metrics()  # this appliance's registry: GET /metrics renders it
        self.database: Database | None = None
        self.writer: Writer | None = None
        self._jobs: JobService | None = None
        self._inbound: InboundService | None = None
        self._webhooks: WebhookService | None = None
        self.links: DocumentLinkService | None = None
        self.audit: AuditLog | None = None
        # The keys' rate-limit buckets that replicas share; None on SQLite (in memory).
        self.shared_buckets: SharedKeyBuckets | None = None
        self._lock_fd: int | None = None
        self._umask: int | None = None  # the process's own, while the appliance runs
        self._dispatcher: Dispatcher | None = None
        self._dispatch_task: asyncio.Task[None] | None = None
        self._sweep_task: asyncio.Task[None] | None = None
        self._retention_task: asyncio.Task[None] | None = None
        self.ready = False
        # Set by the first SIGTERM (server/drain.py): from then on readiness answers 503.
        self.draining = False
        self.startup_error: str | None = None  # why the start failed, for `faxbot serve`
        self.address: str | None = None  # the URL it listens on, once `faxbot serve` bound it
        self._check_database_url()

    def _check_database_url(self) -> None:
        """A malformed database URL is a configuration error, refused before the lifespan
        (exit 2) without showing the URL (it may hold a password). A secret reference that
        cannot be resolved yet is left to the start, which names it."""
        try:
            configured = self._resolved("database_url")
        except StartupError:
            return
        try:
            Database(database_url(configured, self.data_dir)).close()
        except DatabaseUrlError as exc:
            raise StartupError(f"appliance.database_url: {exc}") from None

    @property
    def jobs(self) -> JobService:
        if self._jobs is None:
            raise NotSending("no outbound transport is running")
        return self._jobs

    @property
    def inbound(self) -> InboundService:
        if self._inbound is None:
            raise NotReceiving("no inbound transport is running")
        return self._inbound

    @property
    def webhooks(self) -> WebhookService:
        if self._webhooks is None:
            raise NotReceiving("the appliance is not started")
        return self._webhooks

    @asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        began = time.perf_counter()
        try:
            await self._start()
            app.state.audit = self.audit
            app.state.token_validator = self.providers.auth
            app.state.rate_limits.share(self.shared_buckets)
        except StartupError as exc:
            self.startup_error = str(exc)
            self.log.error(str(exc), extra={"event": "startup_failed"})
            await self._stop()
            raise
        self.ready = True
        # Objects made at start live as long as the process: keep them out of the collector's
        # full passes, whose pauses otherwise show in request latency (CPython's gc.freeze).
        gc.freeze()
        surface = self.artifact.surface
        self.log.info(
            "appliance ready",
            extra={
                "event": "ready",
                "fingerprint": self.artifact.fingerprint,
                "profile": self.artifact.profile,
                "address": self.address,
                "seconds": round(time.perf_counter() - began, 4),
                "capabilities": surface.capabilities,
                "operations": surface.operations,
            },
        )
        unusable = self._why_no_key_can_call()
        if unusable is not None:
            self.log.warning(
                f"NO API KEY CAN CALL ANYTHING: {unusable}; every request will be refused "
                "(make one with `faxbot keys new`, add it to config.d and compile again)",
                extra={"event": "no_usable_api_key"},
            )
        if self.artifact.profile == "dev":
            self.log.warning(
                "PROFILE DEV: relaxed rules (http allowed, no audit log, no storage "
                "encryption); do not use with real patient data",
                extra={"event": "dev_profile"},
            )
        try:
            yield
        finally:
            self.ready = False
            app.state.rate_limits.share(None)
            await self._stop()

    def _why_no_key_can_call(self) -> str | None:
        """Why no caller can be authenticated with any scope, or None when one can. A token
        validator (an auth plugin) may accept tokens config.d does not list."""
        if self.providers.auth is not None:
            return None
        keys = self.artifact.api_keys
        if not keys:
            return "the artifact has no api_keys and no auth plugin"
        now = datetime.now(UTC)

        def expired(expires: str | None) -> bool:
            ends = expiry_instant(expires) if expires else None
            return ends is not None and ends <= now

        if not any(key.scopes and not expired(key.expires) for key in keys):
            return f"all {len(keys)} of the artifact's api_keys are expired or have no scope"
        return None

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(
            ThreadPoolExecutor(max_workers=BLOCKING_THREADS, thread_name_prefix="faxbot-io")
        )
        # Patient documents, the database and its WAL, spill files, the audit log: everything
        # the appliance creates is its own, whatever umask it was started with (SQLite and
        # the plugins create files with 0644 less the umask; a mode per call would miss some).
        self._umask = os.umask(PRIVATE_UMASK)  # given back at stop (in-process hosts)
        await asyncio.to_thread(self._lock_data_dir)
        await asyncio.to_thread(self._prepare_dirs)
        configured_url = self._resolved("database_url")
        try:
            database = Database(database_url(configured_url, self.data_dir))
        except DatabaseUrlError as exc:
            raise StartupError(f"appliance.database_url: {exc}") from None
        self.database = database
        marker = self.data_dir / DATABASE_MARKER
        may_create = self._new_database or not await asyncio.to_thread(marker.exists)
        try:
            await asyncio.to_thread(migrate, database, may_create=may_create)
            await asyncio.to_thread(database.remember_file)
            await asyncio.to_thread(_write_marker, marker, database.dialect)
            self.writer = Writer(database)
            await asyncio.to_thread(self.writer.open)
        except NewDatabaseRefused as exc:
            raise StartupError(
                f"{exc}, but {marker} says this appliance had one: it was "
                "deleted, or appliance.database_url names another one. Restore it (its jobs "
                "and their documents are lost otherwise), or start once with `faxbot serve "
                "--new-database` to begin again with an empty database"
            ) from None
        except (database.driver_error, OSError, MigrationError) as exc:
            where = (
                "appliance.database_url"
                if configured_url
                else f"the SQLite database in data_dir ({self.data_dir / 'faxbot.sqlite3'})"
            )
            raise StartupError(
                f"cannot open {where} ({database.dialect}): {database.describe_error(exc)}"
            ) from None
        store = self._job_store(database, self.writer)
        if database.dialect == "postgresql":
            self.shared_buckets = SharedKeyBuckets(database)
        self.metrics.count_jobs(store.count_by_phase)
        fleet = FleetSweeps(database, store.lease.owner if store.lease is not None else "")
        inbound_store = InboundStore(database, self.writer)
        self.audit = await self._open_audit()
        public_url = self.artifact.appliance.public_url
        if public_url:
            self.links = DocumentLinkService(
                LinkStore(database, self.writer), public_url, self.log.getChild("links")
            )
            self.host.document_links = self.links
        await self.host.start()
        self.providers = providers = await self._encrypted(self.host.providers())
        if self.links is not None and providers.storage is not None:
            self.links.storage = providers.storage
        await self._record_start()
        dispatcher = await self._start_sending(store)
        self._inbound = self._start_receiving(inbound_store)
        self._webhooks = WebhookService(
            providers.webhooks,
            jobs=store if dispatcher is not None else None,
            dispatcher=dispatcher,
            inbound=self._inbound,
            logger=self.log.getChild("webhooks"),
            audit=self.audit,
            metrics=self.metrics.webhooks,
        )
        if providers.storage is not None and providers.lists_documents is not None:
            sweep = OrphanSweep(
                store,
                providers.storage,
                providers.lists_documents,
                self.log.getChild("orphans"),
                inbound=inbound_store,
                timed=self.metrics.sweep("orphans"),
                fleet=fleet,
            )
            self._sweep_task = asyncio.create_task(sweep.run())
        if providers.storage is not None:
            retention = RetentionSweep(
                self.artifact.appliance.retention,
                store,
                inbound_store,
                providers.storage,
                self.log.getChild("retention"),
                links=LinkStore(database, self.writer),
                jobs_deleted=self._forget_jobs,
                timed=self.metrics.sweep("retention"),
                fleet=fleet,
            )
            self._retention_task = asyncio.create_task(retention.run())

    def _job_store(self, database: Database, writer: Writer) -> JobStore:
        """The job store; on PostgreSQL, which several replicas may share, with the terms on
        which this replica holds the jobs it works (owner: its replica id), and the
        dispatcher's policy given the replicas' settings."""
        if database.dialect != "postgresql":
            return JobStore(database, writer)
        owner = self.replica
        replicas = self.artifact.appliance.replicas
        self.policy = replace(
            self.policy,
            sweep_seconds=replicas.claim_seconds,
            lease_seconds=replicas.lease_seconds,
            heartbeat_seconds=replicas.heartbeat_seconds,
        )
        return JobStore(database, writer, lease=Lease(owner, replicas.lease_seconds))

    def _forget_jobs(self, job_ids: list[str]) -> None:
        if self._jobs is not None:
            self._jobs.forget(job_ids)

    def _start_receiving(self, inbound_store: InboundStore) -> InboundService | None:
        """The inbound service, when an enabled inbound plugin runs (with storage)."""
        inbound = self.artifact.enabled("inbound")
        running = self.host.running.get("inbound")
        if inbound is None or running is None:
            return None
        storage = self.providers.storage
        if storage is None:
            raise StartupError(
                "an enabled inbound provider needs an enabled storage "
                "provider (providers.storage in config.d)"
            )
        instance = running.instance
        source = InboundSource(
            plugin=inbound.plugin,
            transport=self.providers.inbound,
            deletes_copies=instance if isinstance(instance, DeletesCopies) else None,
        )
        return InboundService(
            inbound_store,
            storage,
            source,
            max_document_bytes=self.artifact.appliance.limits.webhook_body_bytes,
            logger=self.log.getChild("inbound"),
            audit=self.audit,
        )

    async def _start_sending(self, store: JobStore) -> Dispatcher | None:
        """The dispatcher and the job service, when an enabled outbound plugin runs."""
        providers = self.providers
        database = self.database
        assert database is not None
        outbound = self.artifact.enabled("outbound")
        if providers.outbound is None or outbound is None:
            return None
        if providers.storage is None:
            raise StartupError(
                "an enabled outbound provider needs an enabled storage "
                "provider (providers.storage in config.d)"
            )
        leases = None if store.lease is None else Leases(database, store.lease)
        self._dispatcher = dispatcher = Dispatcher(
            store,
            providers.outbound,
            providers.finds_sent,
            providers.storage,
            self.policy,
            self.log.getChild("dispatcher"),
            audit=self.audit,
            metrics=self.metrics.dispatch(outbound.plugin),
            sweeps=self.metrics.sweep("dispatch"),
            leases=leases,
        )
        if database.dialect == "sqlite":  # the only appliance on this database
            await dispatcher.recover()
        elif leases is not None:  # a replica restarted under the same id: its jobs are free
            await asyncio.to_thread(leases.release)
        self._dispatch_task = asyncio.create_task(dispatcher.run())
        await self.renderers.start()
        self._jobs = JobService(
            store,
            providers.storage,
            dispatcher,
            backend=outbound.plugin,
            uploads=self.uploads,
            max_pages=self.artifact.appliance.limits.max_pages,
            destinations=DestinationPolicy.of(
                self.artifact.appliance.destinations.countries,
                self.artifact.appliance.destinations.number_types,
            ),
            renderers=self.renderers,
            logger=self.log,
            audit=self.audit,
        )
        unfinished = await asyncio.to_thread(store.count_unfinished)
        self.log.info(
            "dispatcher started",
            extra={"event": "dispatcher_started", "unfinished_jobs": unfinished},
        )
        return dispatcher

    async def _stop(self) -> None:
        if self._retention_task is not None:
            self._retention_task.cancel()
            await asyncio.gather(self._retention_task, return_exceptions=True)
            self._retention_task = None
        if self._sweep_task is not None:
            self._sweep_task.cancel()
            await asyncio.gather(self._sweep_task, return_exceptions=True)
            self._sweep_task = None
        if self._dispatcher is not None:  # the current steps end, the leases go back
            await self._dispatcher.stop()
            self._dispatcher = None
        if self._dispatch_task is not None:
            self._dispatch_task.cancel()
            await asyncio.gather(self._dispatch_task, return_exceptions=True)
            self._dispatch_task = None
        self._jobs = None
        self._inbound = None
        self._webhooks = None
        await self.renderers.stop()
        await self.host.stop()
        if self.audit is not None:
            try:
                await self.audit.record(Action.APPLIANCE_STOPPED, Outcome.OK)
            except AuditUnavailable:
                self.log.exception("stop not recorded", extra={"event": "audit_failed"})
            await self.audit.close()
            self.audit = None
        self.shared_buckets = None
        if self.writer is not None:
            await self.writer.close()
            self.writer = None
        if self.database is not None:
            self.database.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the data_dir for the next appliance
            self._lock_fd = None
        if self._umask is not None:
            os.umask(self._umask)
            self._umask = None

    async def _open_audit(self) -> AuditLog | None:
        settings = self.artifact.appliance
        if not settings.audit_log:
            if self.artifact.profile == "hipaa":
                raise StartupError("the hipaa profile requires appliance.audit_log: true")
            return None
        path = self.data_dir / audit_path(self.env)
        try:
            return await AuditLog.open(path, replica=self.replica)
        except AuditUnavailable as exc:
            raise StartupError(f"appliance.audit_log: cannot open the audit log: {exc}") from None

    async def _record_start(self) -> None:
        """The first line of a run names the configuration it serves; it also proves the log
        can be written before any request is taken."""
        if self.audit is None:
            return
        detail = StartedDetail(fingerprint=self.artifact.fingerprint, profile=self.artifact.profile)
        try:
            await self.audit.record(Action.APPLIANCE_STARTED, Outcome.OK, detail=detail)
        except AuditUnavailable as exc:
            raise StartupError(f"appliance.audit_log: cannot write the audit log: {exc}") from None

    async def _encrypted(self, providers: Providers) -> Providers:
        """`providers` with storage encrypted at rest when a key is configured, after a probe
        document went through the encrypted storage and came back intact."""
        if self.artifact.appliance.storage_encryption_key is None:
            if self.artifact.profile == "hipaa":
                raise StartupError("the hipaa profile requires appliance.storage_encryption_key")
            return providers
        if providers.storage is None:
            return providers
        storage, key_id = self._encrypting(providers.storage)
        probe = secrets.token_bytes(64)
        try:
            await storage.put(PROBE_KEY, _one(probe))
            read_back = await StoredDocument(storage, PROBE_KEY).read()
            await storage.delete(PROBE_KEY)
        except Exception as exc:
            raise StartupError(
                f"storage encryption does not work with the storage plugin: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        if read_back != probe:
            raise StartupError("storage encryption: a probe document did not read back intact")
        self.log.info(
            "storage encrypted at rest",
            extra={"event": "storage_encrypted", "key_id": key_id},
        )
        return replace(providers, storage=storage)

    def _encrypting(self, storage: Storage) -> tuple[Storage, str]:
        """`storage` behind encryption with the configured keys, and the current key's id."""
        # Imported here: cryptography costs ~7 MB of memory where encryption is off.
        from faxbot.encryption import EncryptedStorage, InvalidKeyError, KeyRing, parse_key

        current = self._resolved("storage_encryption_key")
        previous = self._resolved("storage_encryption_previous_keys")
        where = "appliance.storage_encryption_key"
        try:
            keys = [parse_key(current)]
            for index, text in enumerate(previous):
                where = f"appliance.storage_encryption_previous_keys[{index}]"
                keys.append(parse_key(text))
        except InvalidKeyError as exc:
            raise StartupError(f"{where}: {exc}") from None
        ring = KeyRing(keys[0], keys[1:])
        return EncryptedStorage(storage, ring), ring.current_id

    def _lock_data_dir(self) -> None:
        """One appliance per data_dir: a second one would clear the first's uploads in
        progress and, on SQLite, resolve its hand-overs as if it had crashed."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.data_dir.stat().st_mode & 0o077:  # made by hand, or by an older appliance
            try:
                self.data_dir.chmod(0o700)
            except PermissionError:
                self.log.warning(
                    f"data_dir {self.data_dir} is readable by other users and not the "
                    "appliance's own to restrict: chmod 700 it",
                    extra={"event": "data_dir_open"},
                )
        path = self.data_dir / DATA_DIR_LOCK
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", errors="replace").strip() or "unknown"
            os.close(fd)
            raise StartupError(
                f"another appliance is running on data_dir {self.data_dir} (process {holder} "
                f"holds {path}); stop it, or give this one its own appliance.data_dir"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def _prepare_dirs(self) -> None:
        self.uploads.folder.mkdir(parents=True, exist_ok=True)
        for leftover in self.uploads.folder.iterdir():  # uploads cut short by a crash
            leftover.unlink(missing_ok=True)

    def _resolved(self, name: str) -> Any:
        """An appliance setting with its secret reference, if any, resolved."""
        value = getattr(self.artifact.appliance, name)
        try:
            return self._secrets.resolve(value, self.env, ("appliance", name))
        except SecretUnavailable as exc:
            raise StartupError(str(exc)) from None

    async def readiness(self) -> dict[str, dict[str, Any]]:
        checks: dict[str, dict[str, Any]] = {
            "artifact": {"ok": True, "fingerprint": self.artifact.fingerprint},
            "plugins": {"ok": self.ready, "started": sorted(self.host.running)},
        }
        if self.draining:
            checks["shutdown"] = {"ok": False, "reason": "draining: the appliance is stopping"}
        try:
            await asyncio.to_thread(self._ping_database)
            refused = self.writer.failing() if self.writer is not None else None
            checks["database"] = (
                {"ok": True}
                if refused is None
                else {"ok": False, "error": refused, "reason": "the database refuses writes"}
            )
        except DatabaseReplaced as exc:
            checks["database"] = {"ok": False, "error": "DatabaseReplaced", "reason": str(exc)}
        except Exception as exc:
            checks["database"] = {"ok": False, "error": type(exc).__name__}
        storage: dict[str, Any] = {"ok": True}
        folders = {"data_dir": self.data_dir}
        database_file = self.database.path if self.database is not None else None
        if database_file is not None and database_file.parent != self.data_dir:
            folders["the database's folder"] = database_file.parent
        for name, folder in folders.items():
            free = await asyncio.to_thread(_free_bytes, folder)
            if free is not None and free < FREE_BYTES_READY:
                storage = {"ok": False, "reason": f"storage_full: {free} bytes free in {name}"}
        storage_health = self.providers.health.get("storage")
        if storage_health is not None and storage["ok"]:
            try:
                report = await asyncio.wait_for(storage_health.health(), HEALTH_TIMEOUT_SECONDS)
            except TimeoutError:
                storage = {
                    "ok": False,
                    "reason": "the storage plugin's health check gave no answer within "
                    f"{HEALTH_TIMEOUT_SECONDS:.0f} s",
                }
            except Exception as exc:  # a plugin's bug must not turn readiness into a 500
                storage = {
                    "ok": False,
                    "reason": "the storage plugin's health check failed",
                    "error": type(exc).__name__,
                }
            else:
                if not report.ok:
                    storage = {"ok": False, "reason": "the storage plugin reports a problem"}
        if storage_health is not None or not storage["ok"]:
            checks["storage"] = storage
        return checks

    def _ping_database(self) -> None:
        if self.database is None:
            raise RuntimeError("no database yet")
        self.database.check_file()
        with self.database.reading() as cursor:
            cursor.execute("SELECT 1")


HEALTH_TIMEOUT_SECONDS = 5.0
"""A plugin's health() that takes longer is reported as failing (readiness, diagnostics): a
hung store must make the appliance not ready, not hang the probe."""


def audit_path(env: Mapping[str, str]) -> Path:
    """Where this replica's audit stream goes, under data_dir: `audit/<id>.jsonl` for a
    replica named by FAXBOT_REPLICA_ID (a fleet: one file per replica, whatever volume the
    shipper reads), else `audit/audit.jsonl`, the path single appliances have always used
    (its lines still carry the `<host>-<pid>` replica id, which tells the runs apart)."""
    named = env.get(REPLICA_ENV)
    return AUDIT_DIR / (f"{named}.jsonl" if named else "audit.jsonl")


def _free_bytes(folder: Path) -> int | None:
    """Bytes an unprivileged writer may still use on `folder`'s file system."""
    try:
        found = os.statvfs(folder)
    except OSError:
        return None
    return found.f_bavail * found.f_frsize


def _write_marker(marker: Path, dialect: str) -> None:
    """Note, once, that this data_dir's appliance has a database (0600, durable)."""
    if marker.exists():
        return
    text = f"A {dialect} database was set up for this data_dir; see `faxbot serve --help`.\n"
    fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
