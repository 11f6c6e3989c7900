"""GET /diagnostics, for the console's overview and a support ticket: the appliance's
identity and versions, the readiness checks (as GET /health/ready computes them), each
plugin's state and health, what it serves (as GET /config says), configuration warnings and
the problems it logged lately. The whole answer passes the redactor (server/redaction.py)
before it leaves."""

from __future__ import annotations

import asyncio
import platform
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from importlib import metadata

import msgspec

from faxbot.artifact import Artifact
from faxbot.keys import expiry_instant
from faxbot.plugins.discovery import InstalledPlugin
from faxbot.server.lifecycle import HEALTH_TIMEOUT_SECONDS, Appliance
from faxbot.server.models import (
    ActiveCapabilities,
    Diagnostics,
    DiagnosticWarning,
    PluginDiagnosis,
    PluginHealth,
    RecentError,
    Versions,
)
from faxbot.server.recent_errors import RecentErrors
from faxbot.server.redaction import Redactor, resolved_secrets
from faxbot.server.routes.fax import utc_iso
from faxbot.server.warning_codes import EXPIRY_WARNING_DAYS, WarningCode

MAX_DETAIL_CHARS = 200
# The retention settings whose absence keeps fax documents (patient data) forever.
DOCUMENT_RETENTION = ("outbound_document_days", "inbound_document_days")


class DiagnosticsService:
    def __init__(
        self,
        appliance: Appliance,
        installed: Mapping[str, InstalledPlugin],
        recent_errors: RecentErrors,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._appliance = appliance
        self._artifact = appliance.artifact
        self._installed = installed
        self._recent = recent_errors
        self._clock = clock
        self._redactor: Redactor | None = None  # made on first use: resolves the secrets

    @property
    def redactor(self) -> Redactor:
        if self._redactor is None:
            self._redactor = Redactor(resolved_secrets(self._artifact, self._appliance.env))
        return self._redactor

    async def diagnose(self) -> Diagnostics:
        """The appliance's diagnostics, redacted."""
        artifact = self._artifact
        now = self._clock()
        checks = await self._appliance.readiness()
        surface = artifact.surface
        found = Diagnostics(
            generated_at=utc_iso(now.timestamp()),
            versions=Versions(
                faxbot=_version("faxbot"),
                python=platform.python_version(),
                plugins={i: p.version for i, p in sorted(self._installed.items())},
            ),
            fingerprint=artifact.fingerprint,
            profile=artifact.profile,
            compiled_at=artifact.build.compiled_at,
            source_revision=artifact.build.source_revision,
            replica=self._appliance.replica,
            checks=checks,
            plugins=await self._plugins(),
            capabilities=ActiveCapabilities(
                by_slot={slot: list(c) for slot, c in sorted(surface.capabilities.items())},
                operations=list(surface.operations),
                mcp_tools=list(surface.mcp_tools),
            ),
            warnings=warnings(artifact, now),
            recent_errors=[
                RecentError(
                    at=utc_iso(e.at), level=e.level, event=e.event, code=e.code, plugin=e.plugin
                )
                for e in self._recent.recent()
            ],
        )
        redacted = self.redactor.tree(msgspec.to_builtins(found))
        return msgspec.convert(redacted, Diagnostics)

    async def _plugins(self) -> dict[str, PluginDiagnosis]:
        found = {}
        for plugin_id, pin in sorted(self._artifact.plugins.items()):
            providers = self._artifact.providers.items()
            mine = {str(slot): p for slot, p in providers if p.plugin == plugin_id}
            slots = sorted(mine)
            enabled = [slot for slot in slots if mine[slot].enabled]
            found[plugin_id] = PluginDiagnosis(
                slots=slots,
                enabled=bool(enabled),
                version=pin.version,
                health=await self._health(enabled),
            )
        return found

    async def _health(self, enabled_slots: list[str]) -> PluginHealth:
        if not enabled_slots:
            return PluginHealth(ok=True, detail="disabled: not started")
        appliance = self._appliance
        if any(slot not in appliance.host.running for slot in enabled_slots):
            return PluginHealth(ok=False, detail="not started")
        checked = [
            appliance.providers.health[s] for s in enabled_slots if s in appliance.providers.health
        ]
        if not checked:
            return PluginHealth(ok=True, detail="started; it has no health check")
        ok, details = True, []
        for check in checked:
            try:
                report = await asyncio.wait_for(check.health(), HEALTH_TIMEOUT_SECONDS)
            except TimeoutError:
                ok = False
                details.append(f"no answer within {HEALTH_TIMEOUT_SECONDS:.0f} s")
                continue
            except Exception as exc:
                ok = False
                details.append(f"health check failed: {type(exc).__name__}: {exc}")
                continue
            ok = ok and report.ok
            if report.detail and report.detail not in details:
                details.append(report.detail)
        return PluginHealth(ok=ok, detail="; ".join(details)[:MAX_DETAIL_CHARS])


def warnings(artifact: Artifact, now: datetime) -> list[DiagnosticWarning]:
    """What in the configuration someone should look at, by WarningCode."""
    found = []
    settings = artifact.appliance
    if artifact.profile == "dev":
        found.append(
            DiagnosticWarning(
                code=WarningCode.DEV_PROFILE,
                message="profile dev: relaxed rules; do not use with real patient data",
            )
        )
    if not settings.audit_log:
        found.append(
            DiagnosticWarning(
                code=WarningCode.NO_AUDIT_LOG,
                message="appliance.audit_log is off: accesses are not recorded",
            )
        )
    for name in DOCUMENT_RETENTION:
        if getattr(settings.retention, name) is None:
            path = f"appliance.retention.{name}"
            found.append(
                DiagnosticWarning(
                    code=WarningCode.NO_RETENTION,
                    message=f"{path} is not set: those documents are kept until deleted",
                    subject=path,
                )
            )
    soon = now + timedelta(days=EXPIRY_WARNING_DAYS)
    for key in artifact.api_keys:
        ends = expiry_instant(key.expires) if key.expires else None
        if ends is None or ends > soon:
            continue
        day = ends.date().isoformat()
        if ends <= now:
            code, message = WarningCode.API_KEY_EXPIRED, f"API key {key.id} expired on {day}"
        else:
            code, message = WarningCode.API_KEY_EXPIRING, f"API key {key.id} expires on {day}"
        found.append(DiagnosticWarning(code=code, message=message, subject=key.id))
    return found


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"
