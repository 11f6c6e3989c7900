"""Fixtures of the MCP tests: the Node server built once, and a real appliance per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mcp.servers import build_node_server
from tests.server.conftest import Appliance, build


@pytest.fixture(scope="session")
def node_built() -> None:
    build_node_server()


@pytest.fixture(scope="module")
def appliance(tmp_path_factory: pytest.TempPathFactory, node_built: None) -> Iterator[Appliance]:
    running = build(Path(tmp_path_factory.mktemp("appliance")), delay=0.05)
    with running.running():
        yield running
