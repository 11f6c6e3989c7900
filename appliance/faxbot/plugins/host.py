"""Start the plugins the artifact names, and only those: check each installed version against
its pin, resolve secret references, run `start` within the time budget, and hand the core
typed handles (`Providers`) to what started."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from faxbot.artifact import Artifact, Provider
from faxbot.kernel.secrets import SecretUnavailable
from faxbot.plugins.contract import (
    SLOTS,
    START_FAIL_SECONDS,
    START_WARN_SECONDS,
    Deps,
    DocumentLinks,
    FindsSent,
    HealthCheck,
    InboundTransport,
    ListsDocuments,
    OutboundTransport,
    Plugin,
    Slot,
    Storage,
    TokenValidator,
    WebhookReceiver,
)
from faxbot.plugins.discovery import InstalledPlugin, PluginLoadError, PluginSource


class StartupError(Exception):
    """The appliance cannot start; the message says what to do."""


@dataclass
class Running:
    slot: str
    installed: InstalledPlugin
    instance: Plugin
    started_in: float


@dataclass(frozen=True)
class Providers:
    """The started plugins as the core uses them: one typed handle per role, None (or empty)
    where no enabled plugin fills it. Discovery checked the methods against the contract."""

    outbound: OutboundTransport | None = None
    finds_sent: FindsSent | None = None  # the outbound transport's lookup, when it has one
    inbound: InboundTransport | None = None
    storage: Storage | None = None
    lists_documents: ListsDocuments | None = None  # the storage's listing, when it has one
    auth: TokenValidator | None = None
    # By plugin id: the instances that verify its webhooks, the outbound slot's first (a
    # plugin in two slots runs twice, each with its settings; webhooks/service.py says why).
    webhooks: Mapping[str, tuple[WebhookReceiver, ...]] = field(default_factory=dict)
    health: Mapping[str, HealthCheck] = field(default_factory=dict)  # by slot


def check_pins(artifact: Artifact, source: PluginSource) -> dict[str, InstalledPlugin]:
    """The installed plugins the artifact names, each at exactly its pinned version."""
    found: dict[str, InstalledPlugin] = {}
    problems: list[str] = []
    for plugin_id, pin in sorted(artifact.plugins.items()):
        try:
            plugin = source.load(plugin_id)
        except PluginLoadError as exc:
            problems.append(str(exc))
            continue
        if plugin.version != pin.version:
            problems.append(
                f"plugin {plugin_id!r} is pinned to {pin.version} but "
                f"{plugin.distribution} {plugin.version} is installed"
            )
        elif plugin.manifest_digest != pin.manifest_digest:
            problems.append(
                f"plugin {plugin_id!r} {plugin.version}: its manifest differs from the one "
                "compiled into the artifact"
            )
        found[plugin_id] = plugin
    if problems:
        raise StartupError(
            "; ".join(problems)
            + ". Install the pinned versions, or change the pins in config.d and run "
            "`faxbot config compile`"
        )
    return found


class PluginHost:
    def __init__(
        self,
        artifact: Artifact,
        installed: Mapping[str, InstalledPlugin],
        env: Mapping[str, str],
        data_dir: Path,
        logger: logging.Logger,
    ) -> None:
        self._artifact = artifact
        self._secrets = artifact.secrets()
        self._installed = installed
        self._env = env
        self._data_dir = data_dir
        self._log = logger
        self.running: dict[str, Running] = {}
        self.document_links: DocumentLinks | None = None  # given when public_url is set

    async def start(self) -> None:
        """Start every enabled provider; on any failure stop those already started."""
        try:
            for slot, provider in sorted(self._artifact.providers.items()):
                if provider.enabled:
                    await self._start_one(slot, provider)
        except BaseException:
            await self.stop()
            raise

    async def _start_one(self, slot: Slot, provider: Provider) -> None:
        plugin_id = provider.plugin
        installed = self._installed[plugin_id]
        where = ("providers", slot, "settings")
        try:
            settings = self._secrets.resolve(provider.settings, self._env, where)
        except SecretUnavailable as exc:
            raise StartupError(f"{exc}; set it before starting the appliance") from None
        instance = installed.plugin_cls()
        public_url = self._artifact.appliance.public_url
        deps = Deps(
            data_dir=self._data_dir,
            logger=self._log.getChild(plugin_id),
            webhook_url=f"{public_url.rstrip('/')}/webhooks/{plugin_id}" if public_url else None,
            profile=self._artifact.profile,
            document_links=self.document_links if public_url else None,
        )
        began = time.perf_counter()
        try:
            await asyncio.wait_for(instance.start(settings, deps), START_FAIL_SECONDS)
        except TimeoutError:
            await instance.stop()
            raise StartupError(
                f"plugin {plugin_id!r} ({slot}) did not start within {START_FAIL_SECONDS:.0f} s"
            ) from None
        except Exception as exc:
            await instance.stop()
            raise StartupError(
                f"plugin {plugin_id!r} ({slot}) failed to start: {type(exc).__name__}: {exc}"
            ) from exc
        took = time.perf_counter() - began
        self.running[slot] = Running(slot, installed, instance, took)
        level = logging.WARNING if took > START_WARN_SECONDS else logging.INFO
        self._log.log(
            level,
            "plugin started",
            extra={
                "event": "plugin_started",
                "plugin": plugin_id,
                "slot": slot,
                "version": installed.version,
                "seconds": round(took, 4),
                "slow": took > START_WARN_SECONDS,
            },
        )

    def providers(self) -> Providers:
        """Typed handles to what started. Discovery checked each plugin's methods against the
        contract, and that it implements its slot's protocol in full."""
        outbound, inbound, storage, auth = (self._instance(slot) for slot in SLOTS)

        def claimed(capability: str) -> list[tuple[str, Running]]:
            return [
                (slot, r)
                for slot, r in sorted(self.running.items())
                if capability in r.installed.manifest.capabilities
            ]

        return Providers(
            outbound=outbound if isinstance(outbound, OutboundTransport) else None,
            finds_sent=outbound if isinstance(outbound, FindsSent) else None,
            inbound=inbound if isinstance(inbound, InboundTransport) else None,
            storage=storage if isinstance(storage, Storage) else None,
            lists_documents=storage if isinstance(storage, ListsDocuments) else None,
            auth=auth if isinstance(auth, TokenValidator) else None,
            webhooks=_webhook_receivers(claimed("ingest_webhook")),
            health={
                slot: r.instance
                for slot, r in claimed("health_check")
                if isinstance(r.instance, HealthCheck)
            },
        )

    def _instance(self, slot: str) -> Plugin | None:
        running = self.running.get(slot)
        return running.instance if running else None

    async def stop(self) -> None:
        for slot in sorted(self.running, reverse=True):
            running = self.running.pop(slot)
            try:
                await running.instance.stop()
            except Exception:
                self._log.exception(
                    "plugin stop failed",
                    extra={
                        "event": "plugin_stop_failed",
                        "plugin": running.installed.id,
                    },
                )


WEBHOOK_ORDER = ("outbound", "inbound", "storage", "auth")  # who verifies a webhook first


def _webhook_receivers(
    claimed: list[tuple[str, Running]],
) -> dict[str, tuple[WebhookReceiver, ...]]:
    found: dict[str, list[WebhookReceiver]] = {}
    for _, running in sorted(claimed, key=lambda item: WEBHOOK_ORDER.index(item[0])):
        if isinstance(running.instance, WebhookReceiver):
            found.setdefault(running.installed.id, []).append(running.instance)
    return {plugin_id: tuple(instances) for plugin_id, instances in found.items()}
