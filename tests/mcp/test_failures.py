"""Failures of the appliance become tool errors an assistant can act on, never a crash: an
appliance that is down, one that does not answer in time, a key it refuses. Over stdio the
server writes nothing but protocol to stdout, also while it fails."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from tests.mcp.servers import (
    MANIFEST,
    SERVERS,
    Stdio,
    command,
    error_text,
    http_server,
    python_client,
)
from tests.server.conftest import Appliance, free_port

pytestmark = pytest.mark.slow

STATUS = {"name": "get_fax_status", "arguments": {"job_id": "0123"}}
SEND = {"name": "send_fax", "arguments": {"to": "+12025550143", "text": "hello"}}
QUICK = ("--retries", "0", "--timeout", "1")


@pytest.fixture
def silent_appliance() -> Iterator[str]:
    """A port that accepts connections and never answers: an appliance that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.mark.parametrize("server", SERVERS)
def test_appliance_down_or_hanging_is_a_tool_error(server: str, silent_appliance: str) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    for url in (down, silent_appliance):
        seen = python_client(Stdio(server, url, "fbk_any", QUICK), [STATUS, SEND])
        assert len(seen["tools"]) == len(MANIFEST["tools"]), "ungated: the appliance cannot say"
        for result in seen["calls"]:
            text = error_text(result)
            assert "the appliance did not answer" in text and "retry" in text, text


@pytest.mark.parametrize("server", SERVERS)
def test_http_with_the_appliance_down_answers_503(server: str) -> None:
    with http_server(server, f"http://127.0.0.1:{free_port()}", *QUICK) as url:
        answer = httpx.post(
            url,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"Authorization": "Bearer fbk_any", "Accept": "application/json"},
            timeout=30,
        )
    assert answer.status_code == 503


@pytest.mark.parametrize("server", SERVERS)
def test_a_refused_key_over_stdio_is_a_tool_error(server: str, appliance: Appliance) -> None:
    seen = python_client(Stdio(server, appliance.url, "fbk_wrong", QUICK), [STATUS])
    text = error_text(seen["calls"][0])
    assert "HTTP 401" in text and "FAXBOT_API_KEY" in text


@pytest.mark.parametrize("server", SERVERS)
def test_stdout_holds_only_protocol(server: str) -> None:
    """Raw JSON-RPC over stdio, with the appliance down: every stdout line is a JSON-RPC
    message, and the server is still there for the next request after a failure."""
    lines = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "1"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": STATUS},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "nope"}},
        {"jsonrpc": "2.0", "id": 4, "method": "tools/list"},
    ]
    env = {**os.environ, "FAXBOT_URL": f"http://127.0.0.1:{free_port()}"}
    env["FAXBOT_API_KEY"] = "fbk_any"
    args = [*QUICK, "--log-level", "debug"] if server == "python" else list(QUICK)
    process = subprocess.Popen(
        [*command(server), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("".join(json.dumps(line) + "\n" for line in lines))
    process.stdin.flush()
    answers = []
    while len(answers) < 4:  # stdin stays open until every request is answered
        line = process.stdout.readline()
        assert line, "stdout closed early"
        answers.append(json.loads(line))
    rest, stderr = process.communicate(timeout=30)  # closes stdin: the server ends
    answers += [json.loads(line) for line in rest.splitlines()]
    assert all(answer["jsonrpc"] == "2.0" for answer in answers)
    by_id = {answer["id"]: answer for answer in answers}
    assert by_id[1]["result"]["protocolVersion"] == "2025-06-18"
    assert by_id[2]["result"]["isError"] is True
    assert by_id[3]["result"]["isError"] is True
    assert len(by_id[4]["result"]["tools"]) == len(MANIFEST["tools"])
    assert stderr, "the logs went to stderr"
    assert process.returncode == 0
