"""The cost of a tool call through each MCP server: `send_fax` (a short text) and
`get_fax_status`, through the Python and the Node `faxbot-mcp`, over stdio and streamable
HTTP (one MCP session kept open, the Python SDK's client), as a ratio to the same call through
the Python SDK directly (one client kept open), all against one appliance on loopback in the
same run. Medians of `--calls` calls each, after `--warmup` calls.

Prints figures; asserts nothing. Run: .venv/bin/python bench/mcp_bench.py [--calls 50]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
from faxbot_client import Faxbot
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FAXBOT = str(BIN / "faxbot")
TO = "+12025550143"
TEXT = "A benchmark fax.\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def prepare_appliance(root: Path) -> str:
    from faxbot.keys import new_key

    config = root / "config.d"
    shutil.copytree(REPO / "config.d", config)
    key = new_key("bench", ["fax:send", "fax:read"])
    (config / "90-bench.yaml").write_text(
        f"api_keys:\n  - id: bench\n    sha256: {key.entry['sha256']}\n"
        "    scopes: [fax:send, fax:read]\n    rate_limit: null\n"
        "providers:\n  outbound:\n    settings:\n      delay_seconds: 0.2\n"
    )
    subprocess.run([FAXBOT, "config", "compile"], cwd=root, check=True, capture_output=True)
    return key.token


def wait_until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start")
        time.sleep(0.02)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def listens(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def server_command(server: str) -> list[str]:
    if server == "python":
        return [str(BIN / "faxbot-mcp")]
    return ["node", str(REPO / "sdks" / "node" / "mcp" / "dist" / "main.js")]


Timed = Callable[[str], Awaitable[Any]]  # one call of the tool named, given its arguments


async def median_ms(call: Timed, tool: str, calls: int, warmup: int) -> float:
    for _ in range(warmup):
        await call(tool)
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        await call(tool)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


@asynccontextmanager
async def mcp_session(server: str, transport: str, url: str, token: str) -> AsyncIterator[Client]:
    if transport == "stdio":
        env = {**os.environ, "FAXBOT_URL": url, "FAXBOT_API_KEY": token}
        command = server_command(server)
        parameters = StdioServerParameters(command=command[0], args=command[1:], env=env)
        async with Client(parameters) as client:
            yield client
        return
    port = free_port()
    process = subprocess.Popen(
        [*server_command(server), "--http", "--port", str(port)],
        env={**os.environ, "FAXBOT_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: listens(port), f"{server} --http")
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=60) as http,
            Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http)) as c,
        ):
            yield c
    finally:
        process.terminate()
        process.wait(10)


async def measure(url: str, token: str, calls: int, warmup: int) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    with Faxbot(url, token) as sdk:
        job_id = sdk.send_fax(TO, TEXT.encode()).id

        async def direct(tool: str) -> Any:
            if tool == "send_fax":
                return await anyio.to_thread.run_sync(lambda: sdk.send_fax(TO, TEXT.encode()))
            return await anyio.to_thread.run_sync(lambda: sdk.get_fax_status(job_id))

        results["SDK directly"] = {
            tool: await median_ms(direct, tool, calls, warmup)
            for tool in ("send_fax", "get_fax_status")
        }
    arguments = {
        "send_fax": {"to": TO, "text": TEXT},
        "get_fax_status": {"job_id": job_id},
    }
    for server in ("python", "node"):
        for transport in ("stdio", "http"):
            async with mcp_session(server, transport, url, token) as client:

                async def through(tool: str, client: Client = client) -> Any:
                    result = await client.call_tool(tool, arguments[tool])
                    if result.is_error:
                        raise SystemExit(f"{tool}: {result.content}")
                    return result

                results[f"{server} server, {transport}"] = {
                    tool: await median_ms(through, tool, calls, warmup)
                    for tool in ("send_fax", "get_fax_status")
                }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        token = prepare_appliance(root)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        appliance = subprocess.Popen(
            [FAXBOT, "serve", "--port", str(port)],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until(lambda: answers(f"{url}/health/ready"), "the appliance")
            results = anyio.run(measure, url, token, args.calls, args.warmup)
        finally:
            appliance.terminate()
            appliance.wait(15)
    base = results["SDK directly"]
    print(f"median of {args.calls} calls each (after {args.warmup}), one appliance on loopback")
    print(f"{'path':<24}{'send_fax ms':>12}{'ratio':>8}{'get_fax_status ms':>20}{'ratio':>8}")
    for path, figures in results.items():
        send, status = figures["send_fax"], figures["get_fax_status"]
        print(
            f"{path:<24}{send:>12.2f}{send / base['send_fax']:>8.2f}"
            f"{status:>20.2f}{status / base['get_fax_status']:>8.2f}"
        )


if __name__ == "__main__":
    main()
