"""Rules across keys: the hipaa profile, appliance-level secrets, API keys as code, and the
destination policy."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from faxbot.catalog import load_catalog
from faxbot.config.codes import Code
from faxbot.config.diagnostics import Diagnostic
from faxbot.config.merge import Merged
from faxbot.config.structure import did_you_mean
from faxbot.destinations import country_problem, number_type_problem
from faxbot.kernel.keypath import KeyPath, walk
from faxbot.kernel.secrets import (
    ReferenceError_,
    SecretModel,
    looks_like_reference,
    parse_reference,
    url_has_password,
)
from faxbot.keys import expiry_instant, parse_expiry
from faxbot.plugins.discovery import InstalledPlugin

PLAINTEXT_SCHEMES = ("http://", "ws://", "ftp://", "tcp://")


def expiry_problem(text: str) -> str | None:
    """Why `text` is not a usable key expiry, or None. Shared by check and `keys new`."""
    parsed = parse_expiry(text)
    if parsed is None:
        return (
            "must be an ISO 8601 date (2027-01-31) or date-time with a zone (2027-01-31T12:00:00Z)"
        )
    if len(text.strip()) > len("2027-01-31") and parsed.tzinfo is None:
        return "a date-time needs a time zone, e.g. 2027-01-31T12:00:00Z"
    return None


def check_appliance(data: dict[str, Any], merged: Merged) -> Iterator[Diagnostic]:
    appliance = data.get("appliance")
    if not isinstance(appliance, dict):
        return
    previous = appliance.get("storage_encryption_previous_keys")
    keys: list[tuple[KeyPath, Any]] = [
        (("appliance", "storage_encryption_key"), appliance.get("storage_encryption_key"))
    ] + [
        (("appliance", "storage_encryption_previous_keys", index), value)
        for index, value in enumerate(previous if isinstance(previous, list) else [])
    ]
    for at, key in keys:
        if not isinstance(key, str):
            continue
        if not looks_like_reference(key):
            yield Diagnostic.at(
                merged.mark(at),
                at,
                Code.SECRET_LITERAL,
                "must be a secret reference such as ${env:FAXBOT_STORAGE_KEY} "
                "(the value was not printed)",
            )
        else:
            yield from _reference_problem(key, at, merged)
    url = appliance.get("database_url")
    path = ("appliance", "database_url")
    if isinstance(url, str):
        if looks_like_reference(url):
            yield from _reference_problem(url, path, merged)
        elif url_has_password(url):
            yield Diagnostic.at(
                merged.mark(path),
                path,
                Code.SECRET_LITERAL,
                "a database URL with a password must be a secret reference such as "
                "${env:FAXBOT_DATABASE_URL} (the value was not printed)",
            )
        elif not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
            yield Diagnostic.at(
                merged.mark(path),
                path,
                Code.DATABASE_URL,
                "must start with sqlite:///, postgresql:// or postgres://",
            )


def check_plain_values(
    data: dict[str, Any], merged: Merged, secrets: SecretModel
) -> Iterator[Diagnostic]:
    """Values outside secrets are plain: no references (the artifact stays resolved), and no
    credentials in public_url. Plugin settings are checked with their schema (providers.py)."""
    for path, value in _strings(data, ()):
        if secrets.is_secret(path) or (path[:1] == ("providers",) and path[2:3] == ("settings",)):
            continue
        if looks_like_reference(value):
            yield Diagnostic.at(
                merged.mark(path),
                path,
                Code.REFERENCE_NOT_SECRET,
                "references are only for secrets; write this value in config.d",
            )
        elif path == ("appliance", "public_url") and _has_userinfo(value):
            yield Diagnostic.at(
                merged.mark(path),
                path,
                Code.SECRET_LITERAL,
                "must not contain credentials (user:password@); the value was not printed",
            )


def _strings(value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, str]]:
    return ((sub, node) for sub, node in walk(value, path) if isinstance(node, str))


def _has_userinfo(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.username is not None or parts.password is not None


def _reference_problem(text: str, path: KeyPath, merged: Merged) -> Iterator[Diagnostic]:
    try:
        parse_reference(text)
    except ReferenceError_ as exc:
        yield Diagnostic.at(merged.mark(path), path, Code.SECRET_REFERENCE, str(exc))


def check_profile(
    data: dict[str, Any], merged: Merged, plugins: Mapping[str, InstalledPlugin]
) -> Iterator[Diagnostic]:
    if data.get("profile") != Code.HIPAA:
        return
    for slot, plugin in sorted(plugins.items()):
        if plugin.manifest.plaintext:
            path: KeyPath = ("providers", slot, "plugin")
            yield Diagnostic.at(
                merged.mark(path),
                path,
                Code.HIPAA,
                f"plugin {plugin.id!r} talks to its backend without encryption; the hipaa "
                "profile forbids plaintext transports",
            )
        yield from _hipaa_required_settings(data, merged, slot, plugin)
    where = merged.mark(("profile",))
    appliance = data.get("appliance") if isinstance(data.get("appliance"), dict) else {}
    assert isinstance(appliance, dict)
    public_url = appliance.get("public_url")
    if isinstance(public_url, str) and not public_url.startswith("https://"):
        path = ("appliance", "public_url")
        yield Diagnostic.at(
            merged.mark(path), path, Code.HIPAA, "the hipaa profile requires https://"
        )
    if appliance.get("audit_log") is not True:
        path = ("appliance", "audit_log")
        yield Diagnostic.at(
            merged.value_marks.get(path) or where,
            path,
            Code.HIPAA,
            "the hipaa profile requires audit_log: true",
        )
    if not appliance.get("storage_encryption_key"):
        path = ("appliance", "storage_encryption_key")
        yield Diagnostic.at(
            merged.value_marks.get(path) or where,
            path,
            Code.HIPAA,
            "the hipaa profile requires storage encryption: set a secret reference "
            "such as ${env:FAXBOT_STORAGE_KEY}",
        )
    if ("appliance", "retention") not in merged.key_marks:  # its default ({}) says nothing
        path = ("appliance", "retention")
        yield Diagnostic.at(
            merged.value_marks.get(path) or where,
            path,
            Code.HIPAA,
            "the hipaa profile requires appliance.retention: say how many days documents and "
            "rows are kept (null keeps them)",
        )
    providers = data.get("providers")
    if isinstance(providers, dict):
        for slot, entry in providers.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("settings"), dict):
                continue
            yield from _plaintext_urls(entry["settings"], ("providers", slot, "settings"), merged)


def _hipaa_required_settings(
    data: dict[str, Any], merged: Merged, slot: str, plugin: InstalledPlugin
) -> Iterator[Diagnostic]:
    """The settings a plugin's manifest says the hipaa profile requires (`hipaa_requires`),
    such as an object store's server-side encryption, are set."""
    providers = data.get("providers")
    entry = providers.get(slot) if isinstance(providers, dict) else None
    settings = entry.get("settings") if isinstance(entry, dict) else None
    for name in plugin.manifest.hipaa_requires:
        if isinstance(settings, dict) and settings.get(name) is not None:
            continue
        path: KeyPath = ("providers", slot, "settings", name)
        described = plugin.manifest.config_schema.get("properties", {}).get(name, {})
        about = described.get("description") if isinstance(described, dict) else None
        yield Diagnostic.at(
            merged.mark(path),
            path,
            Code.HIPAA,
            f"the hipaa profile requires this setting of plugin {plugin.id!r}"
            + (f" ({about})" if about else ""),
        )


def _plaintext_urls(value: Any, path: KeyPath, merged: Merged) -> Iterator[Diagnostic]:
    if isinstance(value, str) and value.lower().startswith(PLAINTEXT_SCHEMES):
        scheme = value.split(":", 1)[0].lower()
        yield Diagnostic.at(
            merged.mark(path),
            path,
            Code.HIPAA,
            f"the hipaa profile forbids plaintext transports ({scheme}://); use https or wss",
        )
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from _plaintext_urls(child, (*path, key), merged)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _plaintext_urls(child, (*path, index), merged)


def check_api_keys(
    data: dict[str, Any], merged: Merged, now: datetime | None = None
) -> Iterator[Diagnostic]:
    keys = data.get("api_keys")
    if not isinstance(keys, list):
        return
    scopes = load_catalog().scopes
    ids: dict[str, int] = {}
    hashes: dict[str, int] = {}
    for index, key in enumerate(keys):
        if not isinstance(key, dict):
            continue
        base: KeyPath = ("api_keys", index)
        key_id = key.get("id")
        if isinstance(key_id, str):
            if key_id in ids:
                first = merged.mark(("api_keys", ids[key_id], "id"))
                yield Diagnostic.at(
                    merged.mark((*base, "id")),
                    (*base, "id"),
                    Code.API_KEY_DUPLICATE,
                    f"duplicate API key id {key_id!r} (first at {first})",
                )
            ids.setdefault(key_id, index)
        digest = key.get("sha256")
        if isinstance(digest, str):
            if digest in hashes:
                yield Diagnostic.at(
                    merged.mark((*base, "sha256")),
                    (*base, "sha256"),
                    Code.API_KEY_DUPLICATE,
                    f"same sha256 as api_keys[{hashes[digest]}]; every key needs its own token",
                )
            hashes.setdefault(digest, index)
        granted = key.get("scopes")
        if isinstance(granted, list):
            for position, scope in enumerate(granted):
                path = (*base, "scopes", position)
                if isinstance(scope, str) and scope not in scopes:
                    hint = did_you_mean(scope, scopes) or f"; known scopes: {', '.join(scopes)}"
                    yield Diagnostic.at(
                        merged.mark(path),
                        path,
                        Code.API_KEY_SCOPE,
                        f"unknown scope {scope!r}{hint}",
                    )
        expires = key.get("expires")
        problem = expiry_problem(expires) if isinstance(expires, str) else None
        path = (*base, "expires")
        if problem is not None:
            yield Diagnostic.at(merged.mark(path), path, Code.API_KEY_EXPIRES, problem)
        elif isinstance(expires, str) and now is not None:
            ends = expiry_instant(expires)
            if ends is not None and ends <= now:
                yield Diagnostic.at(
                    merged.mark(path),
                    path,
                    Code.API_KEY_EXPIRED,
                    f"API key {key_id!r} expired at {_instant(ends)}; it can call nothing: "
                    "remove it, or give it a new token and expiry (faxbot keys new)",
                )


def check_destinations(data: dict[str, Any], merged: Merged) -> Iterator[Diagnostic]:
    """Every country and number type of `appliance.destinations` is one the policy can name:
    a typo would otherwise refuse (or allow) faxes without a word."""
    appliance = data.get("appliance")
    policy = appliance.get("destinations") if isinstance(appliance, dict) else None
    if not isinstance(policy, dict):
        return
    for name, problem_of in (("countries", country_problem), ("number_types", number_type_problem)):
        entries = policy.get(name)
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            problem = problem_of(entry) if isinstance(entry, str) else None
            if problem is not None:
                path: KeyPath = ("appliance", "destinations", name, index)
                yield Diagnostic.at(merged.mark(path), path, Code.DESTINATION_POLICY, problem)


def _instant(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


DEV_NOTICE = (
    "profile dev: relaxed rules (http allowed, no audit log, no storage encryption); "
    "not for real patient data"
)


def profile_notice(data: dict[str, Any]) -> str | None:
    """The dev profile is said loudly, in every output format."""
    return DEV_NOTICE if data.get("profile", "dev") == "dev" else None


def check_replicas(data: dict[str, Any], merged: Merged) -> Iterator[Diagnostic]:
    """A heartbeat every less than half a lease: one late beat does not lose the leases."""
    appliance = data.get("appliance")
    replicas = appliance.get("replicas") if isinstance(appliance, dict) else None
    if not isinstance(replicas, dict):
        return
    lease, beat = replicas.get("lease_seconds"), replicas.get("heartbeat_seconds")
    numbers = (int, float)
    if isinstance(lease, numbers) and isinstance(beat, numbers) and not beat < lease / 2:
        path: KeyPath = ("appliance", "replicas", "heartbeat_seconds")
        yield Diagnostic.at(
            merged.mark(path),
            path,
            Code.LEASE_TIMING,
            f"must be less than half of appliance.replicas.lease_seconds ({lease:g}): "
            f"{beat:g} leaves no room for a late heartbeat",
        )
