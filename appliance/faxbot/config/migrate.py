"""`faxbot config migrate`: a Faxbot v2 environment file (.env) turned into config.d fragments.

Settings are mapped to their v3 keys; every secret becomes a `${env:NAME}` reference to the
same variable (the value is never written: keep the variable set where the appliance runs);
v2's API_KEY becomes its SHA-256 entry in api_keys; whatever has no v3 counterpart is
reported by name, with why, and never with its value. The v2 names come from Faxbot v2's
public `.env.example` and docs (docs/migration.md lists them)."""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from faxbot.catalog import load_registry

BACKENDS = ("phaxio", "sinch", "sip")
# A variable new in v3 (no v2 variable holds it), referenced by name: never a value here.
SINCH_WEBHOOK_PASSWORD = "SINCH_WEBHOOK_PASSWORD"  # noqa: S105
V2_KEY_SCOPES = ("fax:send", "fax:read", "fax:read_all", "inbound:list", "inbound:read")
# v2 variables whose values are secrets: written only as references.
SECRETS = frozenset(
    {
        "API_KEY",
        "PHAXIO_API_KEY",
        "PHAXIO_API_SECRET",
        "PHAXIO_CALLBACK_TOKEN",
        "SINCH_API_KEY",
        "SINCH_API_SECRET",
        "ASTERISK_AMI_PASSWORD",
        "ASTERISK_INBOUND_SECRET",
        "SIP_PASSWORD",
        "DATABASE_URL",
        "TELNYX_API_KEY",
    }
)
# v2 variables with no v3 setting, and why (the report says so).
NOT_MAPPED = {
    "REQUIRE_API_KEY": "v3 always requires an API key",
    "PHAXIO_VERIFY_SIGNATURE": "v3 always verifies Phaxio's callback signatures",
    "PHAXIO_CALLBACK_URL": "v3 derives callback URLs from appliance.public_url",
    "PHAXIO_STATUS_CALLBACK_URL": "v3 derives callback URLs from appliance.public_url",
    "ENFORCE_PUBLIC_HTTPS": "use profile: hipaa for https-only URLs",
    "SIP_USERNAME": "trunk credentials belong in Asterisk's pjsip.conf (docs/examples/sip)",
    "SIP_PASSWORD": "trunk credentials belong in Asterisk's pjsip.conf (docs/examples/sip)",
    "SIP_SERVER": "the trunk belongs in Asterisk's pjsip.conf (docs/examples/sip)",
    "SIP_FROM_USER": "the caller id belongs in Asterisk's pjsip.conf (docs/examples/sip)",
    "SIP_FROM_DOMAIN": "the trunk belongs in Asterisk's pjsip.conf (docs/examples/sip)",
    "FAX_LOCAL_STATION_ID": "set the station id in the dialplan (FAXOPT(localstationid))",
    "FAX_HEADER": "set the header in the dialplan (FAXOPT(headerinfo))",
    "FAX_DISABLED": "disable the outbound provider with providers.outbound.enabled: false",
    "TZ": "the appliance logs in UTC",
    "PDF_TOKEN_TTL_MINUTES": "v3 document links are single-use with their own lifetime",
    "INBOUND_TOKEN_TTL_MINUTES": "v3 serves inbound documents to API keys only",
    "ARTIFACT_TTL_DAYS": "no retention setting in this release: set it by hand when it exists",
    "INBOUND_RETENTION_DAYS": "no retention setting in this release: set it by hand when it exists",
    "CLEANUP_INTERVAL_MINUTES": "no retention setting in this release",
    "AUDIT_LOG_FORMAT": "v3's audit log has one format",
    "AUDIT_LOG_FILE": "v3 keeps its audit log in its database",
    "AUDIT_LOG_SYSLOG": "v3 keeps its audit log in its database",
    "AUDIT_LOG_SYSLOG_ADDRESS": "v3 keeps its audit log in its database",
    "INBOUND_LIST_RPM": "v3 rate-limits per key: appliance.limits.key_rate_limit",
    "INBOUND_GET_RPM": "v3 rate-limits per key: appliance.limits.key_rate_limit",
    "S3_BUCKET": "used only with STORAGE_BACKEND=s3",
    "S3_PREFIX": "used only with STORAGE_BACKEND=s3",
    "S3_REGION": "used only with STORAGE_BACKEND=s3",
    "S3_ENDPOINT_URL": "used only with STORAGE_BACKEND=s3",
    "S3_KMS_KEY_ID": "used only with STORAGE_BACKEND=s3",
    "OAUTH_ISSUER": "the MCP servers are configured separately",
    "OAUTH_AUDIENCE": "the MCP servers are configured separately",
    "OAUTH_JWKS_URL": "the MCP servers are configured separately",
    "TELNYX_API_KEY": "no Telnyx billing lookup in v3",
    "FAX_DEFAULT_COUNTRY": "v3 takes E.164 numbers only; limit countries with "
    "appliance.destinations.countries",
}


class MigrationError(Exception):
    """The environment cannot be migrated (a bad line, an unknown backend)."""


@dataclass
class Migration:
    fragments: dict[str, str] = field(default_factory=dict)  # file name -> YAML text
    not_mapped: list[tuple[str, str]] = field(default_factory=list)  # (variable, why)
    references: list[str] = field(default_factory=list)  # variables the appliance must have


def read_env(text: str) -> dict[str, str]:
    """A .env file's variables: `NAME=value` lines, `export` allowed, quotes removed, `#`
    comments (whole lines, and after an unquoted value)."""
    found: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name.replace("_", "").isalnum() or name[0].isdigit():
            raise MigrationError(f"line {number}: not NAME=value")
        try:
            words = shlex.split(value, comments=True)
        except ValueError:
            raise MigrationError(f"line {number}: unbalanced quotes in {name}") from None
        found[name] = " ".join(words)
    return found


def _ref(name: str) -> str:
    return "${env:" + name + "}"


def _yaml(value: object, indent: int = 0) -> str:
    """YAML for mappings of strings, numbers, booleans, lists and None (strings as JSON
    strings, which YAML reads as double-quoted scalars)."""
    pad = "  " * indent
    if isinstance(value, Mapping):
        lines = []
        for key, item in value.items():
            if isinstance(item, Mapping) and item:
                lines.append(f"{pad}{key}:\n{_yaml(item, indent + 1)}")
            elif isinstance(item, list) and item and isinstance(item[0], Mapping):
                entries = []
                for entry in item:
                    body = _yaml(entry, indent + 2).lstrip()
                    entries.append(f"{pad}  - {body}")
                lines.append(f"{pad}{key}:\n" + "\n".join(entries))
            else:
                lines.append(f"{pad}{key}: {json.dumps(item)}")
        return "\n".join(lines)
    return pad + json.dumps(value)


def _version(plugin_id: str) -> str:
    for entry in load_registry()["plugins"]:
        if entry["id"] == plugin_id and entry["versions"]:
            version: str = entry["versions"][0]
            return version
    return "1.0.0"  # announced, not released: the version the registry plans


def migrate(env: Mapping[str, str]) -> Migration:  # noqa: PLR0915  # one table, read top down
    result = Migration()
    used: set[str] = set()

    def take(name: str) -> str | None:
        value = env.get(name)
        if value is None or value == "":
            used.add(name)
            return None
        used.add(name)
        return value

    def secret(name: str) -> str | None:
        if take(name) is None:
            return None
        result.references.append(name)
        return _ref(name)

    appliance: dict[str, object] = {}
    if (data_dir := take("FAX_DATA_DIR")) is not None:
        appliance["data_dir"] = data_dir
    if (url := take("PUBLIC_API_URL")) is not None:
        appliance["public_url"] = url
    limits: dict[str, object] = {}
    if (size := take("MAX_FILE_SIZE_MB")) is not None:
        limits["upload_max_bytes"] = _number(size, "MAX_FILE_SIZE_MB") * 1024 * 1024
    if (rpm := take("MAX_REQUESTS_PER_MINUTE")) is not None and _number(rpm, "x") > 0:
        limits["key_rate_limit"] = {"requests_per_minute": _number(rpm, "MAX_REQUESTS_PER_MINUTE")}
    if limits:
        appliance["limits"] = limits
    database = env.get("DATABASE_URL", "")
    used.add("DATABASE_URL")
    if database.startswith("sqlite"):
        result.not_mapped.append(
            (
                "DATABASE_URL",
                "v3 keeps its own SQLite database under data_dir (v2's jobs are not migrated)",
            )
        )
    elif database:
        appliance["database_url"] = secret("DATABASE_URL")
    if (audit := take("AUDIT_LOG_ENABLED")) is not None and audit.lower() in ("1", "true", "yes"):
        appliance["audit_log"] = True
    result.fragments["00-appliance.yaml"] = (
        "# Migrated from a Faxbot v2 environment by `faxbot config migrate`.\n"
        "version: 1\nprofile: dev\n" + (_yaml({"appliance": appliance}) + "\n" if appliance else "")
    )

    backend = (take("FAX_BACKEND") or "").lower()
    outbound = (take("FAX_OUTBOUND_BACKEND") or backend).lower()
    inbound_enabled = (take("INBOUND_ENABLED") or "false").lower() in ("1", "true", "yes")
    inbound = (take("FAX_INBOUND_BACKEND") or (backend if inbound_enabled else "")).lower()
    for slot, chosen in (("outbound", outbound), ("inbound", inbound)):
        if not chosen:
            continue
        if chosen not in BACKENDS:
            raise MigrationError(
                f"FAX_BACKEND: unknown backend {chosen!r} (v2 knew {', '.join(BACKENDS)})"
            )
        settings = _settings(chosen, slot, take, secret, result)
        name = "10-outbound.yaml" if slot == "outbound" else "15-inbound.yaml"
        provider = {"plugin": chosen, "version": _version(chosen), "settings": settings}
        result.fragments[name] = _yaml({"providers": {slot: provider}}) + "\n"

    storage = (env.get("STORAGE_BACKEND") or "local").lower()
    take("STORAGE_BACKEND")
    if storage == "s3" and env.get("S3_BUCKET"):
        plugin, storage_settings = "s3", _s3_settings(take)
    else:
        if storage != "local":
            why = "S3_BUCKET is not set" if storage == "s3" else f"no {storage!r} storage plugin"
            result.not_mapped.append(("STORAGE_BACKEND", f"{why}: local storage used"))
        plugin, storage_settings = "local", {"directory": "documents"}
    result.fragments["20-storage.yaml"] = (
        _yaml(
            {
                "providers": {
                    "storage": {
                        "plugin": plugin,
                        "version": _version(plugin),
                        "settings": storage_settings,
                    }
                }
            }
        )
        + "\n"
    )

    key = take("API_KEY")
    if key is not None:
        entry = {
            "id": "v2-api-key",
            "sha256": hashlib.sha256(key.encode()).hexdigest(),
            "scopes": list(V2_KEY_SCOPES),
        }
        result.fragments["50-api-keys.yaml"] = (
            "# v2's API_KEY as its SHA-256 (the token itself is not here); clients keep using it.\n"
            + _yaml({"api_keys": [entry]})
            + "\n"
        )
    for name in sorted(set(env) - used):
        why = NOT_MAPPED.get(name, "not a Faxbot v2 setting this tool knows")
        result.not_mapped.append((name, why))
    result.not_mapped.sort()
    return result


def _s3_settings(take: Callable[[str], str | None]) -> dict[str, object]:
    """v2's S3 variables as the s3 plugin's settings. v2 took credentials from the ambient AWS
    chain, and so does the plugin without access keys; a KMS key id names a key, it is no
    secret (the plugin takes it as a literal)."""
    settings: dict[str, object] = {"bucket": take("S3_BUCKET")}
    prefix = (take("S3_PREFIX") or "").strip("/")
    settings["prefix"] = f"{prefix}/" if prefix else ""
    if (region := take("S3_REGION")) is not None:
        settings["region"] = region
    if (endpoint := take("S3_ENDPOINT_URL")) is not None:
        settings["endpoint_url"] = endpoint
        settings["addressing_style"] = "path"  # what S3-compatible stores expect
    if (kms_key := take("S3_KMS_KEY_ID")) is not None:
        settings["sse"] = "aws:kms"
        settings["sse_kms_key_id"] = kms_key
    return settings


def _settings(
    backend: str,
    slot: str,
    take: Callable[[str], str | None],
    secret: Callable[[str], str | None],
    result: Migration,
) -> dict[str, object]:
    settings: dict[str, object] = {}
    if backend == "phaxio":
        settings = {
            "api_key": secret("PHAXIO_API_KEY"),
            "api_secret": secret("PHAXIO_API_SECRET"),
            "callback_token": secret("PHAXIO_CALLBACK_TOKEN"),
        }
    elif backend == "sinch":
        project = take("SINCH_PROJECT_ID")
        # The access key's id names the key (Sinch's dashboard lists it openly; the plugin
        # takes it as a literal); its secret stays a reference.
        settings = {
            "project_id": project,
            "key_id": take("SINCH_API_KEY") or take("PHAXIO_API_KEY"),
            "key_secret": secret("SINCH_API_SECRET") or secret("PHAXIO_API_SECRET"),
            # v2 left Sinch's webhooks open; v3 requires Basic credentials in the callback URL
            "webhook_username": "faxbot",
            "webhook_password": _ref(SINCH_WEBHOOK_PASSWORD),
        }
        result.references.append(SINCH_WEBHOOK_PASSWORD)
        if (base := take("SINCH_BASE_URL")) is not None:
            result.not_mapped.append(
                (
                    "SINCH_BASE_URL",
                    f"choose the `region` setting for {base.partition('//')[2] or base} by hand",
                )
            )
        if slot == "outbound":
            result.not_mapped.append(
                (
                    f"({SINCH_WEBHOOK_PASSWORD})",
                    "new in v3: Sinch's webhooks carry Basic credentials; set this variable to a "
                    "long random password where the appliance runs",
                )
            )
    elif backend == "sip":
        if slot == "outbound":
            ami: dict[str, object] = {
                "host": take("ASTERISK_AMI_HOST") or "127.0.0.1",
                "port": _number(take("ASTERISK_AMI_PORT") or "5038", "ASTERISK_AMI_PORT"),
                "username": take("ASTERISK_AMI_USERNAME") or "faxbot",
                "secret": secret("ASTERISK_AMI_PASSWORD"),
            }
            settings = {"ami": ami}
        else:
            settings = {"inbound_token": secret("ASTERISK_INBOUND_SECRET")}
    missing = [k for k, v in settings.items() if v is None]
    for key in missing:
        del settings[key]
        result.not_mapped.append(
            (f"({backend} {key})", f"no v2 variable set it: add providers.{slot}.settings.{key}")
        )
    return settings


def _number(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise MigrationError(f"{name}: not a whole number") from None


def write(migration: Migration, out: Path) -> list[Path]:
    """Write the fragments into `out` (created), refusing to overwrite a fragment."""
    out.mkdir(parents=True, exist_ok=True)
    clashes = [name for name in migration.fragments if (out / name).exists()]
    if clashes:
        raise MigrationError(f"{out} already has {', '.join(sorted(clashes))}: not overwritten")
    written = []
    for name, text in sorted(migration.fragments.items()):
        (out / name).write_text(text, "utf-8")
        written.append(out / name)
    return written
