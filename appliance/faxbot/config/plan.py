"""What a change to config.d does to the resolved config: plugins added, removed or re-pinned,
enabled flips, settings, API keys and scopes, and the REST operations and MCP tools that
appear or disappear. Compares two artifacts; a secret setting only ever shows "changed"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any

from faxbot.artifact import artifact_secret_model
from faxbot.kernel.keypath import KeyPath, format_path, leaves
from faxbot.kernel.secrets import SecretModel

SECTIONS = (
    "profile",
    "plugins",
    "providers",
    "settings",
    "appliance",
    "api_keys",
    "operations",
    "mcp_tools",
)
TITLES = {
    "profile": "Profile",
    "plugins": "Plugins",
    "providers": "Providers",
    "settings": "Plugin settings",
    "appliance": "Appliance",
    "api_keys": "API keys",
    "operations": "REST operations",
    "mcp_tools": "MCP tools",
}


@dataclass(frozen=True)
class Change:
    section: str
    action: str  # added | removed | changed
    subject: str  # what changed, e.g. "phaxio", "providers.outbound.enabled"
    detail: str  # human words; never a secret value
    before: Any = None
    after: Any = None


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _diff_values(
    section: str, base: Any, head: Any, path: KeyPath, secret: Any
) -> Iterator[Change]:
    before = dict(leaves(base if base is not None else {}, path))
    after = dict(leaves(head if head is not None else {}, path))
    for key in sorted(set(before) | set(after), key=format_path):
        if before.get(key, ...) == after.get(key, ...):
            continue
        name = format_path(key)
        if secret(key):
            # Whether a secret is set is no secret; its value (or reference) never shows.
            if key not in before:
                yield Change(section, "added", name, "set (secret; value not shown)")
            elif key not in after:
                yield Change(section, "removed", name, "unset (secret; value not shown)")
            else:
                yield Change(section, "changed", name, "changed (secret; value not shown)")
        elif key not in before:
            yield Change(section, "added", name, f"set to {_show(after[key])}", None, after[key])
        elif key not in after:
            yield Change(
                section, "removed", name, f"unset (was {_show(before[key])})", before[key], None
            )
        else:
            yield Change(
                section,
                "changed",
                name,
                f"{_show(before[key])} -> {_show(after[key])}",
                before[key],
                after[key],
            )


def diff_artifacts(base: dict[str, Any], head: dict[str, Any]) -> list[Change]:
    changes: list[Change] = []
    if base.get("profile") != head.get("profile"):
        changes.append(
            Change(
                "profile",
                "changed",
                "profile",
                f"{base.get('profile')} -> {head.get('profile')}",
                base.get("profile"),
                head.get("profile"),
            )
        )
    # A value secret in either artifact only ever shows "changed".
    secrets = artifact_secret_model(base) | artifact_secret_model(head)
    changes += _plugins(base.get("plugins") or {}, head.get("plugins") or {})
    changes += _providers(base, head, secrets)
    changes += _diff_values(
        "appliance", base.get("appliance"), head.get("appliance"), ("appliance",), secrets.touches
    )
    changes += _api_keys(base.get("api_keys") or [], head.get("api_keys") or [])
    for section, key in (("operations", "operations"), ("mcp_tools", "mcp_tools")):
        before = set((base.get("surface") or {}).get(key) or [])
        after = set((head.get("surface") or {}).get(key) or [])
        changes += [Change(section, "added", name, "appears") for name in sorted(after - before)]
        changes += [
            Change(section, "removed", name, "disappears") for name in sorted(before - after)
        ]
    return changes


def _plugins(base: dict[str, Any], head: dict[str, Any]) -> Iterator[Change]:
    for plugin_id in sorted(set(base) | set(head)):
        old, new = base.get(plugin_id), head.get(plugin_id)
        if old is None and new is not None:
            yield Change(
                "plugins", "added", plugin_id, f"{plugin_id} {new['version']}", None, new["version"]
            )
        elif new is None and old is not None:
            yield Change(
                "plugins",
                "removed",
                plugin_id,
                f"{plugin_id} {old['version']}",
                old["version"],
                None,
            )
        elif old is not None and new is not None:
            if old["version"] != new["version"]:
                yield Change(
                    "plugins",
                    "changed",
                    plugin_id,
                    f"re-pinned {old['version']} -> {new['version']}",
                    old["version"],
                    new["version"],
                )
            elif old.get("manifest_digest") != new.get("manifest_digest"):
                yield Change(
                    "plugins",
                    "changed",
                    plugin_id,
                    f"manifest changed at the same version {new['version']}",
                )


def _providers(
    base: dict[str, Any], head: dict[str, Any], secrets: SecretModel
) -> Iterator[Change]:
    old_all = base.get("providers") or {}
    new_all = head.get("providers") or {}
    for slot in sorted(set(old_all) | set(new_all)):
        old: dict[str, Any] | None = old_all.get(slot)
        new: dict[str, Any] | None = new_all.get(slot)
        subject = f"providers.{slot}"
        if old is None and new is not None:
            yield Change("providers", "added", subject, f"{new['plugin']} {new['version']}")
        elif new is None and old is not None:
            yield Change("providers", "removed", subject, f"{old['plugin']} {old['version']}")
        elif old is not None and new is not None and old.get("plugin") != new.get("plugin"):
            yield from _switch(slot, old, new, head.get("sources") or {}, secrets)
            continue
        elif old is not None and new is not None:
            if old.get("version") != new.get("version"):
                yield Change(
                    "providers",
                    "changed",
                    f"{subject}.version",
                    f"pinned {old.get('version')} -> {new.get('version')}",
                    old.get("version"),
                    new.get("version"),
                )
            if old.get("enabled", True) != new.get("enabled", True):
                yield Change(
                    "providers",
                    "changed",
                    f"{subject}.enabled",
                    "enabled" if new.get("enabled", True) else "disabled",
                    old.get("enabled", True),
                    new.get("enabled", True),
                )
        prefix = ("providers", slot, "settings")
        yield from _diff_values(
            "settings",
            (old or {}).get("settings"),
            (new or {}).get("settings"),
            prefix,
            secrets.touches,
        )


def _switch(
    slot: str,
    old: dict[str, Any],
    new: dict[str, Any],
    sources: dict[str, Any],
    secrets: SecretModel,
) -> Iterator[Change]:
    """A slot moved to another plugin: one line for the switch, the old plugin's settings as
    one line (they mean nothing to the new one), then each of the new plugin's settings, those
    the plugin's defaults filled in marked so."""
    subject = f"providers.{slot}"
    was, now = (
        f"{old.get('plugin')} {old.get('version')}",
        f"{new.get('plugin')} {new.get('version')}",
    )
    yield Change("providers", "changed", subject, f"switched {was} -> {now}", was, now)
    if old.get("enabled", True) != new.get("enabled", True):
        state = "enabled" if new.get("enabled", True) else "disabled"
        yield Change("providers", "changed", f"{subject}.enabled", state)
    if old.get("settings"):
        names = ", ".join(sorted(old["settings"]))
        yield Change(
            "settings",
            "removed",
            f"{subject}.settings",
            f"{old.get('plugin')}'s settings no longer apply: {names}",
        )
    prefix = ("providers", slot, "settings")
    for change in _diff_values("settings", None, new.get("settings"), prefix, secrets.touches):
        if change.subject == f"{subject}.settings":
            continue  # the empty mapping that stood for "no settings" on the old side
        if str(sources.get(change.subject, "")).endswith(" defaults"):
            yield replace(change, detail=f"{change.detail} ({new.get('plugin')}'s default)")
        else:
            yield change


def _api_keys(base: list[dict[str, Any]], head: list[dict[str, Any]]) -> Iterator[Change]:
    old = {k["id"]: k for k in base if isinstance(k, dict) and "id" in k}
    new = {k["id"]: k for k in head if isinstance(k, dict) and "id" in k}
    for key_id in sorted(set(old) | set(new)):
        before, after = old.get(key_id), new.get(key_id)
        if before is None and after is not None:
            yield Change("api_keys", "added", key_id, f"scopes {', '.join(after['scopes'])}")
        elif after is None and before is not None:
            yield Change("api_keys", "removed", key_id, f"scopes {', '.join(before['scopes'])}")
        elif before is not None and after is not None:
            granted = sorted(set(after["scopes"]) - set(before["scopes"]))
            revoked = sorted(set(before["scopes"]) - set(after["scopes"]))
            if granted or revoked:
                words = [f"+{s}" for s in granted] + [f"-{s}" for s in revoked]
                yield Change("api_keys", "changed", key_id, f"scopes {' '.join(words)}")
            if before.get("sha256") != after.get("sha256"):
                yield Change("api_keys", "changed", key_id, "token rotated")
            if before.get("description") != after.get("description"):
                yield Change(
                    "api_keys",
                    "changed",
                    key_id,
                    "description changed",
                    before.get("description"),
                    after.get("description"),
                )
            if before.get("expires") != after.get("expires"):
                yield Change(
                    "api_keys",
                    "changed",
                    key_id,
                    f"expires {before.get('expires')} -> {after.get('expires')}",
                )


_SIGN = {"added": "+", "removed": "-", "changed": "~"}


def render_text(changes: list[Change], title: str) -> str:
    if not changes:
        return f"{title}: no changes\n"
    lines = [f"{title}:"]
    for section in SECTIONS:
        items = [c for c in changes if c.section == section]
        if items:
            lines.append(f"  {TITLES[section]}")
            lines += [f"    {_SIGN[c.action]} {c.subject}: {c.detail}" for c in items]
    lines.append(f"{len(changes)} change{'s' * (len(changes) != 1)}")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(changes: list[Change], title: str) -> str:
    if not changes:
        return f"### {title}\n\nNo changes to the resolved config.\n"
    lines = [f"### {title}", "", f"**{len(changes)} change{'s' * (len(changes) != 1)}**", ""]
    for section in SECTIONS:
        items = [c for c in changes if c.section == section]
        if items:
            lines += [f"#### {TITLES[section]}", "", "| | what | change |", "|---|---|---|"]
            lines += [f"| {_SIGN[c.action]} | `{c.subject}` | {_cell(c.detail)} |" for c in items]
            lines.append("")
    return "\n".join(lines)


def render_json(changes: list[Change], title: str, **extra: Any) -> str:
    payload = {
        "title": title,
        "changed": bool(changes),
        **extra,
        "changes": [asdict(c) for c in changes],
    }
    return json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
