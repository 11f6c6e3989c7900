"""`faxbot-mcp`: the server over stdio (the default) or streamable HTTP (`--http`). Logs go to
stderr; over stdio nothing but protocol is written to stdout."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
from mcp.server import Server
from mcp.server.stdio import stdio_server

from faxbot_mcp.appliance import Appliance, Connection
from faxbot_mcp.calls import Documents
from faxbot_mcp.manifest import load_manifest
from faxbot_mcp.server import Settings, Tools, build_server

URL_VARIABLE = "FAXBOT_URL"
KEY_VARIABLE = "FAXBOT_API_KEY"
BODY_SLACK = 64 * 1024  # JSON-RPC framing around a document sent as content_base64


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="faxbot-mcp",
        description="The Faxbot MCP server: send and follow faxes from an AI assistant. Over "
        "stdio it calls the appliance with FAXBOT_API_KEY; over HTTP with each caller's bearer "
        "key.",
    )
    p.add_argument("--url", help=f"the appliance's URL (default: ${URL_VARIABLE})")
    p.add_argument("--http", action="store_true", help="serve streamable HTTP, not stdio")
    p.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default: loopback)")
    p.add_argument("--port", type=int, default=8765, help="HTTP port (default: 8765)")
    p.add_argument(
        "--allowed-host", action="append", default=[], help="a further Host value to accept"
    )
    p.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        help="a further Origin to accept (e.g. https://assistant.example)",
    )
    p.add_argument(
        "--read-only", action="store_true", help="offer only the tools that change nothing"
    )
    p.add_argument(
        "--documents",
        action="append",
        type=Path,
        default=[],
        help="a directory send_fax's path may point into (stdio; repeatable)",
    )
    p.add_argument(
        "--document-limit",
        type=int,
        help="bytes a document may hold, when lower than the appliance's default limit",
    )
    p.add_argument("--save-dir", type=Path, help="where get_inbound_pdf's save_as writes (stdio)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per appliance request")
    p.add_argument("--retries", type=int, default=3, help="retries of a failed appliance request")
    p.add_argument("--log-level", default="warning", help="stderr log level (default: warning)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    options = parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=options.log_level.upper())
    url = options.url or os.environ.get(URL_VARIABLE)
    if not url:
        print(f"faxbot-mcp: no appliance URL: pass --url or set {URL_VARIABLE}", file=sys.stderr)
        return 2
    api_key = os.environ.get(KEY_VARIABLE)
    if not options.http and not api_key:
        print(f"faxbot-mcp: over stdio the API key comes from {KEY_VARIABLE}", file=sys.stderr)
        return 2
    manifest = load_manifest()
    appliance = Appliance(Connection(url, options.timeout, options.retries))
    settings = Settings(
        "http" if options.http else "stdio",
        read_only=options.read_only,
        documents=Documents(tuple(options.documents), options.save_dir, options.document_limit),
        api_key=None if options.http else api_key,
    )
    server = build_server(Tools(manifest, appliance, settings))
    try:
        if options.http:
            largest = manifest.largest_document()
            limit = min(largest, options.document_limit or largest)
            _serve_http(server, appliance, options, limit)
        else:
            anyio.run(_serve_stdio, server)
    except KeyboardInterrupt:
        pass
    finally:
        appliance.close()
    return 0


async def _serve_stdio(server: Server[Any]) -> None:
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def _serve_http(
    server: Server[Any], appliance: Appliance, options: argparse.Namespace, document: int
) -> None:
    import uvicorn

    from faxbot_mcp.http_gate import PATH, BearerGate, security

    checks = security(options.host, options.allowed_host, options.allowed_origin)
    app = server.streamable_http_app(
        streamable_http_path=PATH,
        stateless_http=True,
        json_response=True,
        max_request_body_size=4 * -(-document // 3) + BODY_SLACK,
        transport_security=checks,
        host=options.host,
    )
    uvicorn.run(
        BearerGate(app, appliance, checks),
        host=options.host,
        port=options.port,
        log_level=options.log_level.lower(),
        lifespan="on",
    )


if __name__ == "__main__":
    sys.exit(main())
