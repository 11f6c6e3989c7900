"""Start the plugins the artifact names, and only those: check each installed version against
its pin, resolve secret references, and run `start` within the time budget."""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faxbot.kernel.keypath import format_path, matches, parse_path, walk
from faxbot.kernel.secrets import SecretUnavailable, parse_reference, resolve
from faxbot.plugins.contract import START_FAIL_SECONDS, START_WARN_SECONDS, Deps, Plugin
from faxbot.plugins.discovery import InstalledPlugin, PluginLoadError, PluginSource


class StartupError(Exception):
    """The appliance cannot start; the message says what to do."""


@dataclass
class Running:
    slot: str
    installed: InstalledPlugin
    instance: Plugin
    started_in: float


def check_pins(artifact: Mapping[str, Any], source: PluginSource) -> dict[str, InstalledPlugin]:
    """The installed plugins the artifact names, each at exactly its pinned version."""
    found: dict[str, InstalledPlugin] = {}
    problems: list[str] = []
    for plugin_id, entry in sorted(artifact["plugins"].items()):
        try:
            plugin = source.load(plugin_id)
        except PluginLoadError as exc:
            problems.append(str(exc))
            continue
        if plugin.version != entry["version"]:
            problems.append(
                f"plugin {plugin_id!r} is pinned to {entry['version']} but "
                f"{plugin.distribution} {plugin.version} is installed"
            )
        elif plugin.manifest_digest != entry["manifest_digest"]:
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


def resolve_settings(
    settings: Mapping[str, Any], secret_settings: list[str], env: Mapping[str, str], where: str
) -> dict[str, Any]:
    """A copy of `settings` with each secret reference replaced by its value."""
    resolved = copy.deepcopy(dict(settings))
    patterns = [parse_path(p) for p in secret_settings]
    for path, value in list(walk(resolved)):
        if not path or not isinstance(value, str):
            continue
        if not any(len(path) == len(p) and matches(path, p) for p in patterns):
            continue
        try:
            secret = resolve(parse_reference(value), env)
        except SecretUnavailable as exc:
            raise StartupError(
                f"{where}.{format_path(path)}: {exc}; set it before starting the appliance"
            ) from None
        parent: Any = resolved
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = secret
    return resolved


class PluginHost:
    def __init__(
        self,
        artifact: Mapping[str, Any],
        installed: Mapping[str, InstalledPlugin],
        env: Mapping[str, str],
        data_dir: Path,
        logger: logging.Logger,
    ) -> None:
        self._artifact = artifact
        self._installed = installed
        self._env = env
        self._data_dir = data_dir
        self._log = logger
        self.running: dict[str, Running] = {}

    async def start(self) -> None:
        """Start every enabled provider; on any failure stop those already started."""
        try:
            for slot, entry in sorted(self._artifact["providers"].items()):
                if entry.get("enabled", True):
                    await self._start_one(slot, entry)
        except BaseException:
            await self.stop()
            raise

    async def _start_one(self, slot: str, entry: Mapping[str, Any]) -> None:
        plugin_id = entry["plugin"]
        installed = self._installed[plugin_id]
        secrets = self._artifact["plugins"][plugin_id]["secret_settings"]
        settings = resolve_settings(
            entry["settings"], secrets, self._env, f"providers.{slot}.settings"
        )
        instance = installed.plugin_cls()
        deps = Deps(data_dir=self._data_dir, logger=self._log.getChild(plugin_id))
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

    def get(self, slot: str) -> Plugin | None:
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
