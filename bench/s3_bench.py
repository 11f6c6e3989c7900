"""S3 puts per second: the s3 plugin's `put` (`S3Storage`, as the appliance calls it, one
client for its life and botocore's pool of 10 connections) against the raw aiobotocore client
(`put_object`, a pool as large as the concurrency), on one moto server on loopback (as
tests/s3_server.py runs it, its output to /dev/null), documents of `--size` bytes, `--concurrency`
puts at once, the two sides taking turns for `--rounds`. Prints puts/s of each round and the
ratio plugin / raw (the median of the rounds').
Run: .venv/bin/python bench/s3_bench.py [--puts 400] [--concurrency 32] [--size 20000] [--rounds 3]

Target: none (a figure: what the plugin costs over the client it wraps; on moto the server is
the limit, so the ratio says the plugin adds no queue or round trip of its own).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import httpx
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from appliance_bench import free_port

REGION = "us-east-1"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench-key-id",
    "AWS_SECRET_ACCESS_KEY": "bench-secret-key",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def moto_server() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, **CREDENTIALS},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # never a pipe: a full one stops the server
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(f"{endpoint}/moto-api/data.json", timeout=2)
            return server, endpoint
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("moto server did not start")


async def timed(puts: int, concurrency: int, put: Callable[[int], Awaitable[Any]]) -> float:
    """Puts per second of `puts` calls of `put`, `concurrency` at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        async with gate:
            await put(n)

    began = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(puts)))
    return puts / (time.perf_counter() - began)


async def one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def rounds(endpoint: str, bucket: str, args: argparse.Namespace) -> list[tuple[float, float]]:
    from faxbot_plugin_s3 import S3Storage

    body = secrets.token_bytes(args.size)
    storage = S3Storage()
    settings = {
        "bucket": bucket,
        "prefix": "documents/",
        "region": REGION,
        "endpoint_url": endpoint,
        "addressing_style": "path",
        "part_size_mib": 8,
        "connect_timeout_seconds": 5,
        "read_timeout_seconds": 30,
    }
    deps = SimpleNamespace(profile="dev", logger=logging.getLogger("bench"))
    await storage.start(settings, deps)  # type: ignore[arg-type]
    config = AioConfig(s3={"addressing_style": "path"}, max_pool_connections=args.concurrency)
    results: list[tuple[float, float]] = []
    try:
        async with get_session().create_client(
            "s3", endpoint_url=endpoint, region_name=REGION, config=config
        ) as raw:
            for n in range(args.rounds):

                async def by_plugin(i: int, n: int = n) -> None:
                    await storage.put(f"p{n}-{i}", one_chunk(body))

                async def by_client(i: int, n: int = n) -> None:
                    await raw.put_object(Bucket=bucket, Key=f"documents/r{n}-{i}", Body=body)

                plugin = await timed(args.puts, args.concurrency, by_plugin)
                client = await timed(args.puts, args.concurrency, by_client)
                results.append((plugin, client))
                print(
                    f"round {n + 1}: plugin {plugin:.0f} puts/s, raw client {client:.0f} puts/s, "
                    f"ratio {plugin / client:.2f}",
                    flush=True,
                )
    finally:
        await storage.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--puts", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.update(CREDENTIALS)
    server, endpoint = moto_server()
    try:
        bucket = f"bench-{secrets.token_hex(4)}"
        httpx.put(f"{endpoint}/{bucket}", timeout=10).raise_for_status()
        results = asyncio.run(rounds(endpoint, bucket, args))
    finally:
        server.terminate()
        server.wait(30)
    ratio = statistics.median(plugin / client for plugin, client in results)
    print(
        f"{args.puts} puts of {args.size} B, {args.concurrency} at once: plugin / raw client "
        f"{ratio:.2f} (median of {len(results)} rounds)"
    )


if __name__ == "__main__":
    main()
