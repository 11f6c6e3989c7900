"""Fixtures of the MCP tests: the Node server built once, and per module a real appliance that
sends and receives (the test transport in both slots), with one received fax, and a key
`assistant` holding every scope of the tools (its inbound number is the received fax's)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from faxbot.keys import new_key

from tests.mcp.servers import build_node_server
from tests.server.conftest import Appliance, one_page_pdf
from tests.server.receiving import OUR_NUMBER, post, received, receiving

ASSISTANT_SCOPES = ["fax:send", "fax:read", "inbound:list", "inbound:read"]
RECEIVED_SID = "mcp-received-1"


@pytest.fixture(scope="session")
def node_built() -> None:
    build_node_server()


@pytest.fixture(scope="module")
def appliance(tmp_path_factory: pytest.TempPathFactory, node_built: None) -> Iterator[Appliance]:
    key = new_key("assistant", ASSISTANT_SCOPES)
    entry = (
        f"  - id: assistant\n    sha256: {key.entry['sha256']}\n"
        f"    scopes: [{', '.join(ASSISTANT_SCOPES)}]\n    inbound_numbers: ['{OUR_NUMBER}']\n"
    )
    running = receiving(Path(tmp_path_factory.mktemp("appliance")), delay=0.05, key_extra=entry)
    running.tokens["assistant"] = key.token
    with running.running():
        answer = post(running, [received(RECEIVED_SID, one_page_pdf(), to=OUR_NUMBER)])
        assert answer.status_code == 200, answer.text
        yield running
