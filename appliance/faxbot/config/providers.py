"""Check each provider slot against the installed plugin it names: installed, pinned to the
installed version, allowed in the slot, settings valid (after defaults) against the plugin's
config_schema and its own validate_config, secret settings given as references only."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from faxbot.catalog import planned_plugin
from faxbot.config.codes import Code
from faxbot.config.diagnostics import Diagnostic
from faxbot.config.merge import Merged
from faxbot.config.structure import Locator, apply_defaults, did_you_mean, validate
from faxbot.kernel.keypath import KeyPath, walk
from faxbot.kernel.secrets import (
    ReferenceError_,
    SecretModel,
    looks_like_reference,
    parse_reference,
)
from faxbot.plugins.contract import SLOTS, SettingProblem
from faxbot.plugins.discovery import InstalledPlugin, PluginLoadError, PluginSource


@dataclass
class ProviderCheck:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    plugins: dict[str, InstalledPlugin] = field(default_factory=dict)  # slot -> plugin
    secrets: SecretModel = field(default_factory=SecretModel)
    defaulted: dict[KeyPath, str] = field(default_factory=dict)  # path -> "plugin <id> defaults"


def _deep_under(base: Any, top: Any) -> Any:
    """`top` merged over `base` with the config.d rules (mappings merge, the rest replaces)."""
    if isinstance(base, dict) and isinstance(top, dict):
        out = dict(base)
        for key, value in top.items():
            out[key] = _deep_under(base.get(key), value) if key in base else value
        return out
    return top


def _strings(value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, str]]:
    return ((sub, node) for sub, node in walk(value, path) if isinstance(node, str))


def check_providers(
    data: dict[str, Any], merged: Merged, source: PluginSource, *, strict_pins: bool = True
) -> ProviderCheck:
    result = ProviderCheck()
    providers = data.get("providers")
    if not isinstance(providers, dict):
        return result
    pins: dict[str, tuple[str, KeyPath]] = {}
    installed_ids: list[str] | None = None
    for slot in SLOTS:
        entry = providers.get(slot)
        if not isinstance(entry, dict) or not isinstance(entry.get("plugin"), str):
            continue
        base: KeyPath = ("providers", slot)
        plugin_id = entry["plugin"]
        at_plugin = merged.mark((*base, "plugin"))
        try:
            plugin = source.load(plugin_id)
        except PluginLoadError as exc:
            message = str(exc)
            planned = planned_plugin(plugin_id) if exc.missing else None
            if planned is not None:
                message = (
                    f"plugin {plugin_id!r} is not released yet: the plugin registry lists it as "
                    f"planned (see {planned['docs']}); nothing to install today"
                )
            elif exc.missing:
                installed_ids = installed_ids if installed_ids is not None else source.ids()
                hint = did_you_mean(plugin_id, installed_ids)
                listing = ", ".join(installed_ids) or "none"
                message += hint or f" (installed: {listing}; see faxbot plugins list)"
            result.diagnostics.append(
                Diagnostic.at(
                    at_plugin,
                    (*base, "plugin"),
                    Code.PLUGIN_NOT_RELEASED
                    if planned is not None
                    else Code.PLUGIN_NOT_INSTALLED
                    if exc.missing
                    else Code.PLUGIN_BROKEN,
                    message,
                )
            )
            continue
        result.plugins[slot] = plugin
        manifest = plugin.manifest
        if slot not in manifest.categories:
            result.diagnostics.append(
                Diagnostic.at(
                    at_plugin,
                    (*base, "plugin"),
                    Code.PLUGIN_SLOT,
                    f"plugin {plugin_id!r} cannot fill slot {slot!r} "
                    f"(its categories: {', '.join(manifest.categories)})",
                )
            )
        version = entry.get("version")
        if isinstance(version, str) and strict_pins and version != plugin.version:
            dist = plugin.distribution or f"faxbot_plugin_{plugin_id}"
            result.diagnostics.append(
                Diagnostic.at(
                    merged.mark((*base, "version")),
                    (*base, "version"),
                    Code.PIN_MISMATCH,
                    f"pinned to {version} but {dist} {plugin.version} is installed; "
                    f"pin {plugin.version} or install {dist}=={version}",
                )
            )
        if isinstance(version, str):
            if plugin_id in pins and pins[plugin_id][0] != version:
                other_version, other_path = pins[plugin_id]
                result.diagnostics.append(
                    Diagnostic.at(
                        merged.mark((*base, "version")),
                        (*base, "version"),
                        Code.PIN_CONFLICT,
                        f"plugin {plugin_id!r} is pinned to {version} here but to "
                        f"{other_version} in providers.{other_path[1]}; one install, one version",
                    )
                )
            pins.setdefault(plugin_id, (version, base))
        _check_settings(entry, base, plugin, merged, result)
    return result


def _check_settings(
    entry: dict[str, Any],
    base: KeyPath,
    plugin: InstalledPlugin,
    merged: Merged,
    result: ProviderCheck,
) -> None:
    manifest = plugin.manifest
    prefix: KeyPath = (*base, "settings")
    given = entry.get("settings")
    if not isinstance(given, dict):
        return
    settings = _deep_under(copy.deepcopy(dict(manifest.defaults)), given)
    for path, _ in walk(settings, prefix):
        if path != prefix and _get(given, path[len(prefix) :]) is _ABSENT:
            result.defaulted[path] = f"plugin {plugin.id} defaults"
    filled: list[KeyPath] = []
    apply_defaults(manifest.config_schema, settings, prefix, filled)
    for path in filled:
        result.defaulted.setdefault(path, f"plugin {plugin.id} defaults")
    entry["settings"] = settings

    secrets = plugin.secrets.under(prefix)
    result.secrets |= secrets
    is_secret = secrets.is_secret

    reference_paths: set[KeyPath] = set()  # checked here; the schema sees them resolved only
    for path in secrets.expand(settings, prefix):
        value = _get(settings, path[len(prefix) :])
        if value is _ABSENT or value is None:
            continue
        reference_paths.add(path)
        if not looks_like_reference(value):
            result.diagnostics.append(
                Diagnostic.at(
                    merged.mark(path),
                    path,
                    Code.SECRET_LITERAL,
                    "secret setting holds a literal value; use a reference such as "
                    "${env:NAME} or ${file:/run/secrets/NAME} (the value was not printed)",
                )
            )
            continue
        try:
            parse_reference(value)
        except ReferenceError_ as exc:
            result.diagnostics.append(
                Diagnostic.at(merged.mark(path), path, Code.SECRET_REFERENCE, str(exc))
            )
    for path, text in _strings(settings, prefix):
        if looks_like_reference(text) and not is_secret(path):
            result.diagnostics.append(
                Diagnostic.at(
                    merged.mark(path),
                    path,
                    Code.REFERENCE_NOT_SECRET,
                    "references are only for settings the plugin marks secret; "
                    "write this value in config.d",
                )
            )

    locate = Locator(merged.mark, merged.key_mark, is_secret)
    result.diagnostics.extend(
        validate(
            manifest.config_schema, settings, prefix, locate, skip=reference_paths.__contains__
        )
    )
    try:
        problems = list(plugin.plugin_cls().validate_config(settings))
    except Exception as exc:  # a plugin bug must surface as a located error, not a traceback
        problems = [
            SettingProblem((), f"plugin {plugin.id!r} validate_config failed: {type(exc).__name__}")
        ]
    for problem in problems:
        path = (*prefix, *problem.path)
        result.diagnostics.append(
            Diagnostic.at(merged.mark(path), path, Code.PLUGIN_SETTING, problem.message)
        )


_ABSENT = object()


def _get(data: Any, rel: KeyPath) -> Any:
    for part in rel:
        in_list = isinstance(data, list) and isinstance(part, int) and part < len(data)
        if in_list or (isinstance(data, dict) and part in data):
            data = data[part]
        else:
            return _ABSENT
    return data
