"""The cost of the HTTP connection bounds (faxbot/server/http_limits.py) on the hot path: the
appliance as `faxbot serve` runs it, against the same appliance on uvicorn's stock httptools
protocol, measured in one run with the two servers taking turns (bench/appliance_bench.py's
method and helpers). Prints GET /fax/{id} and POST /fax (one-page PDF) requests/s and p99 of
each, and the ratio bounded / stock (the median of the rounds' ratios); and, in process, the
microseconds each protocol spends parsing a GET and starting its app (the best of 15 batches
of 2,000 on a transport that drops what is written), which the machine's load disturbs less.
Run: .venv/bin/python bench/http_bench.py [--seconds 10] [--rounds 3]

Target: both ratios >= 0.95 (the bounds cost under 5%).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from appliance_bench import (
    FAXBOT,
    ensure_wrk,
    free_port,
    one_page_pdf,
    paired,
    post_script,
    prepare_appliance,
    start,
)

# `faxbot serve` with uvicorn's own httptools protocol in place of the bounded one (the same
# artifact, app, default headers and socket): the baseline, made here so the product has no
# switch to turn its bounds off.
STOCK = """
import sys
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
import faxbot.server.http_limits as limits
limits.bounded_protocol = lambda bounds: HttpToolsProtocol
from faxbot.cli.main import main
sys.argv = ["faxbot", "serve", "--port", sys.argv[1], "--log-level", "warning"]
main()
"""

GET = (
    b"GET /fax/0123456789abcdef HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-API-Key: "
    + b"k" * 43
    + b"\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"
)


class NullTransport(asyncio.Transport):
    """Drops what the protocol writes; the protocol under measurement needs nothing more."""

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 8080) if name in ("peername", "sockname") else default

    def write(self, data: bytes | bytearray | memoryview) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _protocol_cost() -> dict[str, float]:
    from faxbot.artifact import HttpLimits
    from faxbot.server.http_limits import bounded_protocol
    from uvicorn.config import Config
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    from uvicorn.server import ServerState

    async def app(scope: Any, receive: Any, send: Any) -> None:
        pass

    config = Config(app, http="httptools", ws="none", lifespan="off")
    config.load()
    defaults = HttpLimits(
        max_header_bytes=32768,
        max_headers=100,
        header_timeout_seconds=10,
        body_min_bytes_per_second=1024,
        body_grace_seconds=10,
        idle_timeout_seconds=5,
        max_connections=1000,
        max_requests_per_connection=10**9,  # one connection takes every request here
    )
    classes: dict[str, type[HttpToolsProtocol]] = {
        "stock": HttpToolsProtocol,
        "bounded": bounded_protocol(defaults),
    }
    best = dict.fromkeys(classes, float("inf"))
    batch = 2000
    for _ in range(15):
        for name, cls in classes.items():
            state = ServerState()
            protocol = cls(config=config, server_state=state, app_state={})
            protocol.connection_made(NullTransport())
            began = time.perf_counter()
            for _ in range(batch):
                protocol.data_received(GET)
                protocol.cycle.response_complete = True  # the next request starts at once
            best[name] = min(best[name], (time.perf_counter() - began) / batch * 1e6)
            for task in list(state.tasks):
                task.cancel()
            await asyncio.sleep(0)
            protocol.connection_lost(None)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="seconds of load per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per measure")
    args = parser.parse_args()
    cost = asyncio.run(_protocol_cost())
    wrk_bin = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="faxbot-http-bench-") as tmp:
        ours_root, stock_root = Path(tmp) / "bounded", Path(tmp) / "stock"
        ours_root.mkdir()
        stock_root.mkdir()
        ours_token, stock_token = prepare_appliance(ours_root), prepare_appliance(stock_root)
        ours_port, stock_port = free_port(), free_port()
        ours, _ = start(
            [FAXBOT, "serve", "--port", str(ours_port), "--log-level", "warning"],
            ours_root,
            ours_port,
        )
        stock, _ = start([sys.executable, "-c", STOCK, str(stock_port)], stock_root, stock_port)
        try:
            time.sleep(1)
            paths = []
            pdf = one_page_pdf()
            for port, token in ((ours_port, ours_token), (stock_port, stock_token)):
                auth = {"X-API-Key": token}
                job = httpx.post(
                    f"http://127.0.0.1:{port}/fax",
                    headers=auth,
                    data={"to": "+12025550143"},
                    files={"file": ("p.pdf", pdf)},
                ).json()
                paths.append(f"/fax/{job['id']}")
            ours_auth, stock_auth = {"X-API-Key": ours_token}, {"X-API-Key": stock_token}
            gets = paired(
                wrk_bin, args, (stock, stock_port, paths[1], stock_auth, None),
                (ours, ours_port, paths[0], ours_auth, None),
            )  # fmt: skip
            stock_post = post_script(stock_root, stock_token)
            posts = paired(
                wrk_bin, args, (stock, stock_port, "/fax", {}, stock_post),
                (ours, ours_port, "/fax", {}, post_script(ours_root, ours_token)),
            )  # fmt: skip
        finally:
            for process in (ours, stock):
                process.terminate()
                process.wait(20)
    print(
        f"requests/s are medians of {args.rounds} rounds of {args.seconds} s, the two servers "
        "taking turns; the ratios are medians of the rounds' ratios"
    )
    print(f"{'measure':<36}{'bounded':>10}{'stock':>10}{'ratio':>8}  target")
    for label, pair in (("GET /fax/{id}", gets), ("POST /fax (1-page PDF)", posts)):
        print(
            f"{label + ' requests/s':<36}{pair.ours_rps:>10.0f}{pair.bare_rps:>10.0f}"
            f"{pair.ratio:>8.2f}  >= 0.95"
        )
        print(f"{label + ' p99 ms':<36}{pair.ours_p99:>10.1f}{pair.bare_p99:>10.1f}")
    print(
        f"{'GET parse + app start, us (in process)':<36}{cost['bounded']:>10.2f}"
        f"{cost['stock']:>10.2f}{cost['bounded'] / cost['stock']:>8.2f}"
    )


if __name__ == "__main__":
    main()
