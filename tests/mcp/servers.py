"""Both MCP servers as processes, and clients of both SDKs: the Python SDK's `Client` (in this
process) and the TypeScript SDK's (sdks/node/mcp/testing/client.mjs, one process per use).
Results come back as plain JSON (camelCase, as on the wire) so the two clients compare."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import REPO
from tests.server.conftest import free_port

MANIFEST = json.loads((REPO / "docs" / "mcp" / "tools.json").read_text(encoding="utf-8"))
NODE_PACKAGE = REPO / "sdks" / "node" / "mcp"
TS_CLIENT = NODE_PACKAGE / "testing" / "client.mjs"
SERVERS = ("python", "node")


def node() -> str:
    found = shutil.which("node")
    assert found is not None, "node is not on PATH (scripts/setup)"
    return found


def command(server: str) -> list[str]:
    if server == "python":
        return [str(Path(sys.executable).with_name("faxbot-mcp"))]
    return [node(), str(NODE_PACKAGE / "dist" / "main.js")]


def build_node_server() -> None:
    """Compile the Node SDK and the Node server (tsc; a few seconds each)."""
    for folder in (NODE_PACKAGE.parent, NODE_PACKAGE):
        tsc = folder / "node_modules" / "typescript" / "bin" / "tsc"
        subprocess.run([node(), str(tsc), "-p", "."], cwd=folder, check=True, timeout=300)


@dataclass(frozen=True)
class Stdio:
    server: str
    url: str
    token: str
    args: tuple[str, ...] = ()

    def parameters(self) -> dict[str, Any]:
        cmd = command(self.server)
        env = {**os.environ, "FAXBOT_URL": self.url, "FAXBOT_API_KEY": self.token}
        return {"command": cmd[0], "args": [*cmd[1:], *self.args], "env": env}


@dataclass(frozen=True)
class Http:
    url: str  # the MCP endpoint
    token: str | None
    origin: str | None = None


Target = Stdio | Http


@contextmanager
def http_server(server: str, appliance_url: str, *args: str) -> Iterator[str]:
    """`faxbot-mcp --http` of `server` on a free loopback port; its /mcp URL."""
    port = free_port()
    process = subprocess.Popen(
        [*command(server), "--http", "--port", str(port), *args],
        env={**os.environ, "FAXBOT_URL": appliance_url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    try:
        while True:
            assert process.poll() is None, process.communicate()[1].decode()[-3000:]
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, f"{server} --http did not listen"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stderr is not None:
            process.stderr.close()


def _plain(model: Any) -> Any:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


async def _python_session(target: Target, calls: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {"calls": []}

    async def run(client: Client) -> None:
        seen["protocolVersion"] = client.protocol_version
        seen["tools"] = [_plain(tool) for tool in (await client.list_tools()).tools]
        for call in calls:
            result = await client.call_tool(call["name"], dict(call.get("arguments", {})))
            seen["calls"].append(_plain(result))

    if isinstance(target, Stdio):
        async with Client(StdioServerParameters(**target.parameters())) as client:
            await run(client)
    else:
        headers = {"Authorization": f"Bearer {target.token}"} if target.token else {}
        if target.origin:
            headers["Origin"] = target.origin
        async with (
            httpx2.AsyncClient(headers=headers, timeout=60) as http,
            Client(streamable_http_client(target.url, http_client=http)) as client,
        ):
            await run(client)
    return seen


def python_client(target: Target, calls: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """What the Python SDK's client sees: protocolVersion, tools, calls (results as JSON)."""
    return anyio.run(_python_session, target, calls)


def ts_client(target: Target, calls: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """What the TypeScript SDK's client sees (or `connectError`)."""
    if isinstance(target, Stdio):
        plan: dict[str, Any] = {"stdio": target.parameters()}
    else:
        plan = {"http": {"url": target.url, "token": target.token, "origin": target.origin}}
    plan["calls"] = list(calls)
    result = subprocess.run(
        [node(), str(TS_CLIENT)],
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen: dict[str, Any] = json.loads(result.stdout)
    return seen


CLIENTS = {"python": python_client, "typescript": ts_client}


def structured(result: Mapping[str, Any]) -> Any:
    assert not result.get("isError"), result
    return result["structuredContent"]


def error_text(result: Mapping[str, Any]) -> str:
    assert result.get("isError") is True, result
    return "\n".join(block["text"] for block in result["content"])
