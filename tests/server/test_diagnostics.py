"""GET /diagnostics: its shape on a real appliance, its scope, its warnings in the cases they
are for, the audit line a read makes under hipaa, and no secret, number or token in it, even
when a plugin quotes them in its health and a logged error."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import httpx
from faxbot.artifact import artifact_bytes, write_atomic
from faxbot.audit import read_audit
from faxbot.config.compiler import compile_config
from faxbot.keys import new_key
from faxbot.plugins.contract import (
    Deps,
    FindsSent,
    Health,
    HealthCheck,
    Manifest,
    OutboundFax,
    OutboundTransport,
    OutcomeUnknown,
    Plugin,
    SendReceipt,
    StatusUpdate,
    manifest_from,
)
from faxbot.plugins.discovery import GROUP, PluginSource
from faxbot.server.app import create_app
from faxbot.server.warning_codes import WarningCode
from litestar.testing import TestClient

from tests.conftest import REPO
from tests.server.conftest import Appliance, build, one_page_pdf
from tests.server.test_hipaa import HIPAA
from tests.server.test_hipaa import new_key as new_storage_key

TOP_LEVEL = {
    "generated_at",
    "versions",
    "fingerprint",
    "profile",
    "compiled_at",
    "source_revision",
    "replica",
    "checks",
    "plugins",
    "capabilities",
    "warnings",
    "recent_errors",
}


def _diagnostics(appliance: Appliance, key: str = "admin") -> httpx.Response:
    with appliance.client(key) as client:
        return client.get("/diagnostics")


def test_shape_on_a_running_appliance(appliance: Appliance) -> None:
    answer = _diagnostics(appliance)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == TOP_LEVEL
    assert body["versions"]["faxbot"] == metadata.version("faxbot")
    assert body["versions"]["plugins"] == {
        "local": metadata.version("faxbot_plugin_local"),
        "test": metadata.version("faxbot_plugin_test"),
    }
    assert body["profile"] == "dev"
    artifact = json.loads((appliance.root / "build" / "faxbot.resolved.json").read_text())
    assert body["fingerprint"] == artifact["fingerprint"]
    with appliance.client() as client:
        ready = client.get("/health/ready").json()["checks"]
        config = client.get("/config").json()
    assert set(body["checks"]) == set(ready)  # the readiness checks, not others
    assert all(check["ok"] for check in body["checks"].values())
    assert body["capabilities"]["operations"] == config["operations"]
    assert body["capabilities"]["mcp_tools"] == config["mcp_tools"]
    assert body["plugins"]["test"] == {
        "slots": ["inbound", "outbound"],
        "enabled": True,
        "version": metadata.version("faxbot_plugin_test"),
        "health": {"ok": True, "detail": "test transport: nothing to reach"},
    }
    assert body["plugins"]["local"]["slots"] == ["storage"]
    assert body["replica"]
    # The dev profile's start warns loudly: the ring was installed before the start.
    [dev] = [e for e in body["recent_errors"] if e["event"] == "dev_profile"]
    assert dev == {**dev, "level": "warning", "code": None, "plugin": None}
    assert dev["at"].endswith("Z")


def test_needs_admin_read(appliance: Appliance) -> None:
    assert _diagnostics(appliance, "reader").status_code == 403
    assert _diagnostics(appliance, "reader").json()["code"] == "missing_scope"
    assert _diagnostics(appliance, "").status_code == 401


def _codes(body: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    return [(w["code"], w.get("subject")) for w in body["warnings"]]


def test_warnings_of_a_dev_appliance_with_keys_about_to_expire(tmp_path: Path) -> None:
    soon = (datetime.now(UTC) + timedelta(days=5)).date()
    later = (datetime.now(UTC) + timedelta(days=60)).date()
    keys = [new_key("rotating", ["fax:read"], soon.isoformat())]
    keys.append(new_key("fresh", ["fax:read"], later.isoformat()))
    fragment = "api_keys:\n" + "".join(
        f"  - id: {k.entry['id']}\n    sha256: {k.entry['sha256']}\n"
        f"    scopes: [fax:read]\n    expires: '{k.entry['expires']}'\n"
        for k in keys
    )
    appliance = build(tmp_path, fragments={"95-expiring.yaml": fragment})
    with appliance.running():
        body = _diagnostics(appliance).json()
    assert sorted(_codes(body)) == sorted(
        [
            (WarningCode.DEV_PROFILE.value, None),
            (WarningCode.NO_AUDIT_LOG.value, None),
            (WarningCode.NO_RETENTION.value, "appliance.retention.outbound_document_days"),
            (WarningCode.NO_RETENTION.value, "appliance.retention.inbound_document_days"),
            (WarningCode.API_KEY_EXPIRING.value, "rotating"),
        ]
    )
    [expiring] = [w for w in body["warnings"] if w["code"] == "api_key_expiring"]
    assert soon.isoformat() in expiring["message"]  # a date is not masked as a number


def test_hipaa_warns_of_nothing_and_the_read_is_audited(tmp_path: Path) -> None:
    storage_key = new_storage_key()
    appliance = build(tmp_path, extra=HIPAA)
    appliance.start(env={"FAXBOT_STORAGE_KEY": storage_key})
    try:
        answer = _diagnostics(appliance)
        refused = _diagnostics(appliance, "reader")
    finally:
        appliance.stop()
    assert answer.status_code == 200, answer.text
    assert answer.json()["warnings"] == []
    assert storage_key not in answer.text  # the resolved storage encryption key
    assert refused.status_code == 403
    lines = read_audit(appliance.data_dir / "audit" / "audit.jsonl")
    seen = [(line["action"], line["outcome"], line["key_id"]) for line in lines]
    assert ("config_read", "ok", "admin") in seen
    assert ("config_read", "denied", "reader") in seen


# -- redaction, with a plugin that quotes its secret and the numbers it is given -------------

SENTINEL = "sentinel-S3cr3t-9f8e7d6c5b4a"  # resolved from ${env:LEAKY_SECRET}
NUMBER = "+12025550143"


class LeakyTransport(Plugin, OutboundTransport, FindsSent, HealthCheck):
    """Every send's answer is lost, with a message quoting the number and the secret; its
    health detail and its own log line quote them too."""

    manifest: ClassVar[Manifest] = manifest_from(
        {
            "id": "leaky",
            "name": "Leaky",
            "version": "1.0.0",
            "description": "A transport whose errors quote what they should not.",
            "platform": "python",
            "categories": ["outbound"],
            "capabilities": ["send", "get_status", "health_check"],
            "config_schema": {
                "type": "object",
                "additionalProperties": False,
                "required": ["api_secret"],
                "properties": {"api_secret": {"type": "string", "format": "password"}},
            },
            "defaults": {},
        }
    )
    last_number = "none yet"

    async def start(self, settings: Mapping[str, Any], deps: Deps) -> None:
        self._secret = str(settings["api_secret"])
        self._log = deps.logger

    async def send(self, fax: OutboundFax) -> SendReceipt:
        LeakyTransport.last_number = fax.to
        self._log.warning(
            f"provider refused {fax.to} for account {self._secret}",
            extra={"event": "provider_refused", "code": "refused", "to": fax.to},
        )
        raise OutcomeUnknown(f"lost the answer for {fax.to} (credentials {self._secret})")

    async def find_sent(self, job_id: str) -> SendReceipt | None:
        return None

    async def get_status(self, provider_sid: str) -> StatusUpdate:
        raise NotImplementedError

    async def health(self) -> Health:
        return Health(
            ok=False,
            detail=f"https://user:{self._secret}@api.example.test last sent to "
            f"{LeakyTransport.last_number[:2]} {LeakyTransport.last_number[2:]}",
        )


def _source() -> PluginSource:
    def entry_points() -> Sequence[metadata.EntryPoint]:
        leaky = metadata.EntryPoint("leaky", f"{__name__}:LeakyTransport", GROUP)
        return [leaky, *metadata.entry_points(group=GROUP)]

    return PluginSource(entry_points)


def test_no_secret_number_or_token_in_the_answer(tmp_path: Path) -> None:
    config = tmp_path / "config.d"
    config.mkdir()
    for fragment in (REPO / "config.d").glob("*.yaml"):
        if fragment.name != "10-outbound.yaml":  # the test transport's settings
            (config / fragment.name).write_text(fragment.read_text())
    admin = new_key("admin", ["fax:send", "admin:read"])
    (config / "90-leaky.yaml").write_text(
        "providers:\n  outbound:\n    plugin: leaky\n    version: 1.0.0\n    enabled: true\n"
        "    settings: {api_secret: '${env:LEAKY_SECRET}'}\n"
        f"api_keys:\n  - id: admin\n    sha256: {admin.entry['sha256']}\n"
        "    scopes: [fax:send, admin:read]\n"
    )
    result = compile_config(config, _source())
    assert result.ok and result.artifact is not None, [d.render() for d in result.diagnostics]
    artifact = tmp_path / "build" / "faxbot.resolved.json"
    write_atomic(artifact, artifact_bytes(result.artifact))
    app = create_app(
        artifact,
        env={"LEAKY_SECRET": SENTINEL},
        source=_source(),
        workdir=tmp_path,
        log_level="warning",
    )
    headers = {"X-API-Key": admin.token}
    with TestClient(app) as client:
        sent = client.post(
            "/fax",
            headers=headers,
            data={"to": NUMBER},
            files={"file": ("a.pdf", one_page_pdf(), "application/pdf")},
        )
        assert sent.status_code == 202, sent.text
        deadline = time.monotonic() + 20
        while True:
            answer = client.get("/diagnostics", headers=headers)
            assert answer.status_code == 200, answer.text
            events = {e["event"] for e in answer.json()["recent_errors"]}
            if {"provider_refused", "send_outcome_unknown"} <= events:
                break
            assert time.monotonic() < deadline, events
            time.sleep(0.1)
        # Once more: the answer that first showed both events may have asked the plugin's
        # health before its send (health is gathered before the ring is read).
        answer = client.get("/diagnostics", headers=headers)
        assert answer.status_code == 200, answer.text
    body = answer.json()
    [refused] = [e for e in body["recent_errors"] if e["event"] == "provider_refused"]
    assert refused == {**refused, "plugin": "leaky", "code": "refused", "level": "warning"}
    health = body["plugins"]["leaky"]["health"]
    assert health["ok"] is False
    assert health["detail"] == (
        "https://user:********@api.example.test last sent to [number]"
    )  # the plugin quoted both: the redactor masked them
    for forbidden in (SENTINEL, NUMBER, NUMBER[1:], "2025550143", "202 555", admin.token):
        assert forbidden not in answer.text, forbidden
    assert date.fromisoformat(body["generated_at"][:10])  # dates survive the redactor
