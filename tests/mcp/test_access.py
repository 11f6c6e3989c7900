"""Who sees and may call which tool: a key's scopes (GET /key), read-only mode, and over HTTP
the caller's own bearer key, checked after Host and Origin (DNS rebinding)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.mcp.servers import (
    SERVERS,
    Http,
    Stdio,
    error_text,
    http_server,
    python_client,
    structured,
    ts_client,
)
from tests.server.conftest import Appliance, build

FAX_TOOLS = ["get_fax_status", "list_faxes", "send_fax"]
INBOUND_TOOLS = ["get_inbound", "get_inbound_pdf", "list_inbound"]

pytestmark = pytest.mark.slow

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "probe", "version": "1"},
    },
}
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def names(seen: dict[str, object]) -> list[str]:
    return sorted(tool["name"] for tool in seen["tools"])  # type: ignore[attr-defined]


@pytest.mark.parametrize("server", SERVERS)
def test_a_key_without_fax_send_does_not_see_send_fax(server: str, appliance: Appliance) -> None:
    send = {"name": "send_fax", "arguments": {"to": "+12025550143", "text": "no"}}
    reader = appliance.tokens["reader"]  # fax:read only
    with http_server(server, appliance.url) as url:
        over_http = python_client(Http(url, reader), [send])
        admin = ts_client(Http(url, appliance.tokens["admin"]))
    over_stdio = ts_client(Stdio(server, appliance.url, reader), [send])
    for seen in (over_http, over_stdio):
        assert names(seen) == ["get_fax_status", "list_faxes"]
        assert "not a tool this server offers to this API key" in error_text(seen["calls"][0])
    # one server, two callers at once: each sees what its own key allows
    assert names(admin) == sorted(FAX_TOOLS + INBOUND_TOOLS)


@pytest.mark.parametrize("server", SERVERS)
def test_read_only_mode_offers_only_read_only_tools(server: str, appliance: Appliance) -> None:
    target = Stdio(server, appliance.url, appliance.tokens["admin"], ("--read-only",))
    send = {"name": "send_fax", "arguments": {"to": "+12025550143", "text": "no"}}
    seen = python_client(target, [send, {"name": "list_faxes", "arguments": {"limit": 1}}])
    assert names(seen) == sorted(["get_fax_status", "list_faxes", *INBOUND_TOOLS])
    assert all(tool["annotations"]["readOnlyHint"] for tool in seen["tools"])
    assert "not a tool this server offers" in error_text(seen["calls"][0])
    assert "items" in structured(seen["calls"][1])


@pytest.mark.parametrize("server", SERVERS)
def test_http_refuses_a_missing_or_wrong_key_a_bad_origin_and_a_bad_host(
    server: str, appliance: Appliance
) -> None:
    token = appliance.tokens["admin"]
    with http_server(server, appliance.url) as url:
        port = url.split(":")[2].split("/")[0]

        def post(headers: dict[str, str]) -> httpx.Response:
            return httpx.post(url, json=INITIALIZE, headers={**ACCEPT, **headers}, timeout=30)

        missing = post({})
        wrong = post({"Authorization": "Bearer fbk_not_a_key_of_this_appliance"})
        api_key_header = post({"X-API-Key": token})  # only a bearer key is taken
        origin = post({"Authorization": f"Bearer {token}", "Origin": "https://evil.example"})
        host = post({"Authorization": f"Bearer {token}", "Host": "evil.example"})
        local_origin = post(
            {"Authorization": f"Bearer {token}", "Origin": f"http://localhost:{port}"}
        )
        good = post({"Authorization": f"Bearer {token}"})
        ts_wrong = ts_client(Http(url, "fbk_wrong"))
    for refused in (missing, wrong, api_key_header):
        assert refused.status_code == 401, refused.text
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert token not in refused.text
    assert "missing API key" in json.loads(missing.text)["error"]["message"]
    assert origin.status_code == 403
    assert host.status_code == 421
    assert local_origin.status_code == 200, local_origin.text
    assert good.status_code == 200, good.text
    assert "connectError" in ts_wrong and "tools" not in ts_wrong


@pytest.fixture(scope="module")
def no_inbound(tmp_path_factory: pytest.TempPathFactory, node_built: None) -> Iterator[Appliance]:
    """An appliance whose inbound provider is disabled: the inbound routes are not served."""
    root = Path(tmp_path_factory.mktemp("no-inbound"))
    running = build(root, extra="  inbound:\n    enabled: false\n")
    with running.running():
        yield running


@pytest.mark.parametrize("server", SERVERS)
def test_no_inbound_provider_no_inbound_tools(
    server: str, appliance: Appliance, no_inbound: Appliance
) -> None:
    admin = no_inbound.tokens["admin"]  # holds inbound:list and inbound:read all the same
    call = {"name": "list_inbound", "arguments": {}}
    with http_server(server, no_inbound.url) as url:
        over_http = ts_client(Http(url, admin), [call])
    over_stdio = python_client(Stdio(server, no_inbound.url, admin), [call])
    for seen in (over_http, over_stdio):
        assert names(seen) == FAX_TOOLS
        assert "not a tool this server offers" in error_text(seen["calls"][0])
    with_inbound = python_client(Stdio(server, appliance.url, appliance.tokens["admin"]))
    assert names(with_inbound) == sorted(FAX_TOOLS + INBOUND_TOOLS)
