"""The test transport: an outbound plugin that sends nothing. A fax succeeds `delay_seconds`
after hand-over, or fails when its number is in `fail_numbers`.

It plays a provider: every hand-over is appended to a ledger file under the appliance's
data_dir, the provider's own record, and is on disk (fsync'd) before `send` returns.
`find_sent` reads it, so a hand-over cut short by a crash is recovered exactly like with a real
provider, and tests count sends there. The provider sid carries the hand-over time and the
outcome, so status checks need no state and give the same answer after an appliance restart.
With `read_documents`, it also reads each document through the storage, as a provider takes
the file, and records its SHA-256: tests compare it with what was sent."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

from faxbot.plugins.contract import (
    Deps,
    FaxStatus,
    FindsSent,
    Health,
    HealthCheck,
    Manifest,
    OutboundFax,
    OutboundTransport,
    Plugin,
    SendReceipt,
    StatusUpdate,
    TransportError,
    load_manifest,
)

FAILED_MESSAGE = "test transport: the number is in fail_numbers"
LEDGER = "test-transport-ledger.jsonl"


def read_ledger(data_dir: Path) -> list[dict[str, Any]]:
    """Every hand-over the test transport received, oldest first."""
    path = data_dir / LEDGER
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class TestTransport(Plugin, OutboundTransport, FindsSent, HealthCheck):
    __test__ = False  # not a pytest test class
    manifest: ClassVar[Manifest] = load_manifest(__name__)

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._delay = 1.0
        self._fail_numbers: frozenset[str] = frozenset()
        self._read_documents = False
        self._data_dir: Path | None = None
        self._ledger: Ledger | None = None

    async def start(self, settings: Mapping[str, Any], deps: Deps) -> None:
        self._delay = float(settings["delay_seconds"])
        self._fail_numbers = frozenset(settings["fail_numbers"])
        self._read_documents = bool(settings["read_documents"])
        await asyncio.to_thread(deps.data_dir.mkdir, parents=True, exist_ok=True)
        self._data_dir = deps.data_dir
        fd = await asyncio.to_thread(
            os.open, deps.data_dir / LEDGER, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600
        )
        self._ledger = Ledger(fd)

    async def stop(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None

    async def send(self, fax: OutboundFax) -> SendReceipt:
        if self._ledger is None:
            raise TransportError("test transport used before start()", retryable=True)
        outcome = "F" if fax.to in self._fail_numbers else "S"
        handed_over_ms = int(self._clock() * 1000)
        sid = f"test-{handed_over_ms}-{outcome}-{fax.job_id}"
        entry: dict[str, object] = {
            "job_id": fax.job_id,
            "to": fax.to,
            "pages": fax.pages,
            "provider_sid": sid,
        }
        if self._read_documents:  # as a provider would: tests see what it received
            digest = hashlib.sha256()
            async for chunk in fax.document.chunks():
                digest.update(chunk)
            entry["document_sha256"] = digest.hexdigest()
        await self._ledger.append((json.dumps(entry, sort_keys=True) + "\n").encode())
        return SendReceipt(provider_sid=sid)

    async def find_sent(self, job_id: str) -> SendReceipt | None:
        if self._data_dir is None:
            raise TransportError("test transport used before start()", retryable=True)
        entries = await asyncio.to_thread(read_ledger, self._data_dir)
        for entry in entries:
            if entry["job_id"] == job_id:
                return SendReceipt(provider_sid=entry["provider_sid"])
        return None

    async def get_status(self, provider_sid: str) -> StatusUpdate:
        try:
            _, handed_over_ms, outcome, _job = provider_sid.split("-", 3)
            started = int(handed_over_ms) / 1000
        except ValueError:
            raise TransportError(
                f"not a test transport sid: {provider_sid!r}", retryable=False
            ) from None
        if self._clock() - started < self._delay:
            return StatusUpdate(FaxStatus.IN_PROGRESS)
        if outcome == "F":
            return StatusUpdate(FaxStatus.FAILED, error=FAILED_MESSAGE)
        return StatusUpdate(FaxStatus.SUCCESS)

    async def health(self) -> Health:
        return Health(ok=True, detail="test transport: nothing to reach")


class Ledger:
    """The ledger file, appended and fsync'd before `append` returns. Lines handed over while a
    write is under way share the next write and fsync, as a provider's database shares a
    commit (docs/performance.md has what an fsync per fax cost the appliance's bench)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._waiting: list[tuple[bytes, asyncio.Future[None]]] = []
        self._writing = False

    async def append(self, line: bytes) -> None:
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((line, done))
        if not self._writing:
            self._writing = True
            asyncio.get_running_loop().create_task(self._write())
        await done

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    lines = b"".join(line for line, _ in batch)
                    await asyncio.to_thread(_write_and_sync, self._fd, lines)
                except OSError as exc:
                    for _, done in batch:
                        done.set_exception(TransportError(f"ledger: {exc}", retryable=False))
                else:
                    for _, done in batch:
                        done.set_result(None)
        finally:
            self._writing = False

    def close(self) -> None:
        os.close(self._fd)


def _write_and_sync(fd: int, data: bytes) -> None:
    # One write to a file opened O_APPEND: lines of concurrent appliances never interleave.
    while data:
        data = data[os.write(fd, data) :]
    os.fsync(fd)
