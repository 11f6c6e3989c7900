"""Parity: both servers, over stdio and streamable HTTP, with the Python SDK's client and the
TypeScript SDK's client, list the manifest's tools and answer every tool call against a real
appliance with the same structured results, field by field."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from typing import Any

import pytest
from faxbot_client import Faxbot

from tests.mcp.conftest import RECEIVED_SID
from tests.mcp.servers import (
    CLIENTS,
    MANIFEST,
    SERVERS,
    Http,
    Stdio,
    error_text,
    http_server,
    structured,
)
from tests.server.conftest import Appliance

pytestmark = pytest.mark.slow

LISTED = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")
SETTLED_TO = "+12025550177"  # only the settled job goes there: its list is the same for all
NEW_FIELDS = {"id", "created_at", "updated_at"}  # differ between two new jobs


def expected_tools(transport: str) -> list[dict[str, Any]]:
    """The manifest's tools as a server lists them on `transport`: over HTTP without the
    arguments the manifest marks stdio-only."""
    tools = []
    for entry in MANIFEST["tools"]:
        tool = {key: copy.deepcopy(entry[key]) for key in LISTED}
        if transport == "http":
            for name in entry["_meta"].get("faxbot/stdioOnly", []):
                del tool["inputSchema"]["properties"][name]
        tools.append(tool)
    return sorted(tools, key=lambda t: t["name"])


def normalised(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(({k: t[k] for k in LISTED if k in t} for t in tools), key=lambda t: t["name"])


def test_both_servers_list_the_manifest_and_answer_alike(appliance: Appliance) -> None:
    token = appliance.tokens["assistant"]  # every scope the tools need
    with Faxbot(appliance.url, token) as sdk:
        settled = sdk.wait(sdk.send_fax(SETTLED_TO, b"settled before the servers are asked\n").id)
        (inbound,) = sdk.list_inbound_page().items
    assert inbound.provider_sid == RECEIVED_SID
    calls = [
        {"name": "get_fax_status", "arguments": {"job_id": settled.id}},
        {"name": "list_faxes", "arguments": {"to": SETTLED_TO, "limit": 5}},
        {"name": "list_inbound", "arguments": {"limit": 5}},
        {"name": "get_inbound", "arguments": {"id": inbound.id}},
        {"name": "get_inbound_pdf", "arguments": {"id": inbound.id}},
        {"name": "send_fax", "arguments": {"to": "+12025550143", "text": "Parity\n"}},
    ]
    assert {c["name"] for c in calls} == {t["name"] for t in MANIFEST["tools"]}, "every tool"
    failing = [  # the appliance's 404 and a send refused for its number: the same tool errors
        {"name": "get_fax_status", "arguments": {"job_id": "0" * 32}},
        {"name": "send_fax", "arguments": {"to": "+19005550100", "text": "premium rate"}},
    ]
    calls += failing

    seen: dict[tuple[str, str, str], dict[str, Any]] = {}
    with (
        http_server("python", appliance.url) as python_url,
        http_server("node", appliance.url) as node_url,
    ):
        urls = {"python": python_url, "node": node_url}
        for server in SERVERS:
            for client, run in CLIENTS.items():
                seen[server, "stdio", client] = run(Stdio(server, appliance.url, token), calls)
                seen[server, "http", client] = run(Http(urls[server], token), calls)

    for (server, transport, client), got in seen.items():
        where = f"{server} over {transport} to the {client} client"
        assert normalised(got["tools"]) == expected_tools(transport), where
        errors = [r.get("isError", False) for r in got["calls"]]
        assert errors == [False] * (len(calls) - len(failing)) + [True] * len(failing), where

    refusals = {
        where: [error_text(result) for result in got["calls"][-len(failing) :]]
        for where, got in seen.items()
    }
    (refused,) = {tuple(texts) for texts in refusals.values()}  # word for word, everywhere
    assert "HTTP 404, code job_not_found" in refused[0], refused
    assert "HTTP 422, code destination_refused" in refused[1], refused
    assert refused[1].endswith(MANIFEST["errorHints"]["422"])

    reference = [structured(r) for r in seen["python", "stdio", "python"]["calls"][:6]]
    status, page, received, one, pdf, sent = reference
    assert status["id"] == settled.id and status["status"] == "SUCCESS"
    assert [job["id"] for job in page["items"]] == [settled.id]
    assert [fax["id"] for fax in received["items"]] == [inbound.id]
    assert one == received["items"][0] and one["provider_sid"] == RECEIVED_SID
    assert pdf["embedded"] is True and pdf["saved_to"] is None
    assert sent["status"] == "queued" and sent["to"] == "+12025550143"
    with Faxbot(appliance.url, token) as sdk:
        document = sdk.get_inbound_pdf(inbound.id)
    assert pdf["size_bytes"] == len(document)
    assert pdf["sha256"] == hashlib.sha256(document).hexdigest()
    for where, got in seen.items():
        results = [structured(result) for result in got["calls"][:6]]
        assert results[:5] == reference[:5], where  # the same objects: every field equal
        assert set(results[5]) == set(sent), where
        for field, value in sent.items():
            if field not in NEW_FIELDS:
                assert results[5][field] == value, (where, field)
        # a short summary, then the structured content as JSON text
        texts = [block["text"] for block in got["calls"][0]["content"]]
        assert texts[0].startswith(f"Fax job {settled.id} to {SETTLED_TO}: SUCCESS")
        assert json.loads(texts[1]) == status
        (resource,) = [b for b in got["calls"][4]["content"] if b["type"] == "resource"]
        assert resource["resource"]["mimeType"] == "application/pdf"
        assert base64.b64decode(resource["resource"]["blob"]) == document, where
    sent_ids = {structured(got["calls"][5])["id"] for got in seen.values()}
    assert len(sent_ids) == len(seen), "each send_fax made its own job"


def test_protocol_revisions(appliance: Appliance) -> None:
    """The Python server speaks the 2026-07-28 revision to a client that asks for it and the
    2025 revisions by handshake; the Node server (TypeScript SDK 1.x) up to 2025-11-25."""
    token = appliance.tokens["assistant"]
    versions = {
        (server, client): run(Stdio(server, appliance.url, token))["protocolVersion"]
        for server in SERVERS
        for client, run in CLIENTS.items()
    }
    assert versions == {
        ("python", "python"): "2026-07-28",
        ("python", "typescript"): "2025-11-25",
        ("node", "python"): "2025-11-25",
        ("node", "typescript"): "2025-11-25",
    }
