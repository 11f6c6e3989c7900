"""An appliance that receives: the test transport in the outbound and inbound slots with a
webhook secret (a file reference), keys with inbound numbers, and a sender of signed webhooks."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
from faxbot.keys import new_key
from faxbot_plugin_test.webhook import sign

from tests.server.conftest import Appliance, build

SECRET = "webhook-secret-for-tests-0123456789"
PREVIOUS = "the-previous-webhook-secret-987654"
OUR_NUMBER = "+12025550100"
OTHER_NUMBER = "+12025550111"
SENDER = "+14155550123"


def receiving(
    root: Path,
    *,
    delay: float = 0.2,
    appliance_extra: str = "",
    outbound_extra: str = "",
    key_extra: str = "",
    port: int | None = None,
) -> Appliance:
    """Build an appliance whose test transport takes webhooks signed with SECRET (or
    PREVIOUS), with the keys `desk` (OUR_NUMBER), `other` (OTHER_NUMBER) and `all`
    (inbound:read_all) beside build()'s `admin` and `reader`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "secret").write_text(SECRET)
    (root / "previous").write_text(PREVIOUS)
    secrets = (
        f"      webhook_secret: ${{file:{root / 'secret'}}}\n"
        f"      webhook_previous_secret: ${{file:{root / 'previous'}}}\n"
    )
    keys = {
        "desk": (new_key("desk", ["inbound:list", "inbound:read"]), [OUR_NUMBER]),
        "other": (new_key("other", ["inbound:list", "inbound:read"]), [OTHER_NUMBER]),
        "all": (new_key("all", ["inbound:list", "inbound:read", "inbound:read_all"]), []),
    }
    entries = "".join(
        f"  - id: {k.entry['id']}\n    sha256: {k.entry['sha256']}\n"
        f"    scopes: [{', '.join(k.entry['scopes'])}]\n"
        f"    inbound_numbers: [{', '.join(repr(n) for n in numbers)}]\n"
        for k, numbers in keys.values()
    )
    fragment = f"api_keys:\n{entries}{key_extra}" + (
        f"appliance:\n{appliance_extra}" if appliance_extra else ""
    )
    extra = secrets + outbound_extra + "  inbound:\n    settings:\n" + secrets
    appliance = build(
        root, delay=delay, extra=extra, port=port, fragments={"91-receiving.yaml": fragment}
    )
    appliance.tokens.update({name: k.token for name, (k, _) in keys.items()})
    return appliance


def status(
    provider_sid: str,
    state: str,
    event_id: str,
    job_id: str | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    return {
        "type": "status",
        "event_id": event_id,
        "provider_sid": provider_sid,
        "job_id": job_id,
        "status": state,
        "error": error,
    }


def received(
    provider_sid: str,
    document: bytes | None,
    to: str = OUR_NUMBER,
    sender: str = SENDER,
    at: float = 1_790_000_000.0,
) -> dict[str, Any]:
    return {
        "type": "received",
        "provider_sid": provider_sid,
        "from": sender,
        "to": to,
        "pages": 1,
        "received_at": at,
        "document": None if document is None else base64.b64encode(document).decode(),
    }


def post(
    appliance: Appliance,
    events: list[dict[str, Any]],
    secret: str = SECRET,
    plugin: str = "test",
) -> httpx.Response:
    body = json.dumps({"events": events}).encode()
    return httpx.post(
        f"{appliance.url}/webhooks/{plugin}",
        content=body,
        headers={"Content-Type": "application/json", "X-Test-Signature": sign(body, secret)},
        timeout=30,
    )
