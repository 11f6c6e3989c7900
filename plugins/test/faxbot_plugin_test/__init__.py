"""The test transport: a plugin that sends nothing and receives what tests post to it. A fax
succeeds `delay_seconds` after hand-over, or fails when its number is in `fail_numbers`; a
number in `outcome_unknown_numbers` is taken (written to the ledger) but `send` raises
OutcomeUnknown, as a provider whose answer was lost.

Its receiving half (slot inbound, capability ingest_webhook; webhook.py has the format): a
JSON body signed with HMAC-SHA256 under `webhook_secret` carries status reports and received
faxes. A received fax's PDF comes in the body, or lies in the provider's inbox
(data_dir/test-transport-inbox/<provider_sid>.pdf), where `get_inbound_pdf` reads it and
`delete_copy` deletes it. With `document_link_seconds` (and the appliance's public_url), each
send asks the appliance for a document link and records it in the ledger as `content_url`, as
a provider that fetches the document itself would be given one.

It plays a provider: every hand-over is appended to a ledger file, the provider's own record,
and is on disk (fsync'd) before `send` returns. The ledger is data_dir/test-transport-
ledger.jsonl unless `ledger_path` names another file: replicas on one machine given the same
one share it as they would share one provider (each line is one O_APPEND write, so lines of
several processes never interleave), and `find_sent` sees the sends of every replica.
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
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from faxbot.plugins.contract import (
    DeletesCopies,
    Deps,
    DocumentLinks,
    FaxStatus,
    FindsSent,
    Health,
    HealthCheck,
    InboundTransport,
    Manifest,
    OutboundFax,
    OutboundTransport,
    OutcomeUnknown,
    Plugin,
    ReceivedFax,
    SendReceipt,
    StatusUpdate,
    TransportError,
    TransportEvent,
    WebhookReceiver,
    WebhookRequest,
    load_manifest,
)

from faxbot_plugin_test.webhook import read_events, verify

FAILED_MESSAGE = "test transport: the number is in fail_numbers"
UNKNOWN_MESSAGE = "test transport: the number is in outcome_unknown_numbers (answer lost)"
LEDGER = "test-transport-ledger.jsonl"
DELETED = "test-transport-deleted-copies.jsonl"  # every delete_copy, one sid a line
INBOX = "test-transport-inbox"  # the provider's copies of received faxes: <sid>.pdf
CHUNK = 64 * 1024


def read_ledger(data_dir: Path, path: Path | None = None) -> list[dict[str, Any]]:
    """Every hand-over the test transport received, oldest first: from `path` (its
    `ledger_path`) when given, else from the ledger in `data_dir`."""
    path = path or data_dir / LEDGER
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def read_deleted_copies(data_dir: Path) -> list[str]:
    """The provider sids whose copies `delete_copy` deleted, oldest first."""
    path = data_dir / DELETED
    if not path.exists():
        return []
    return [line for line in path.read_text().splitlines() if line]


class TestTransport(
    Plugin,
    OutboundTransport,
    FindsSent,
    InboundTransport,
    WebhookReceiver,
    DeletesCopies,
    HealthCheck,
):
    __test__ = False  # not a pytest test class
    manifest: ClassVar[Manifest] = load_manifest(__name__)

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._delay = 1.0
        self._fail_numbers: frozenset[str] = frozenset()
        self._unknown_numbers: frozenset[str] = frozenset()
        self._read_documents = False
        self._secrets: tuple[bytes, ...] = ()
        self._data_dir: Path | None = None
        self._ledger_path: Path | None = None
        self._ledger: Ledger | None = None
        self._links: DocumentLinks | None = None
        self._link_ttl: float | None = None

    async def start(self, settings: Mapping[str, Any], deps: Deps) -> None:
        self._delay = float(settings["delay_seconds"])
        self._fail_numbers = frozenset(settings["fail_numbers"])
        self._unknown_numbers = frozenset(settings.get("outcome_unknown_numbers", ()))
        self._read_documents = bool(settings["read_documents"])
        ttl = settings.get("document_link_seconds")
        self._link_ttl = None if ttl is None else float(ttl)
        self._links = deps.document_links
        self._secrets = tuple(
            str(settings[name]).encode()
            for name in ("webhook_secret", "webhook_previous_secret")
            if settings.get(name)
        )
        await asyncio.to_thread(deps.data_dir.mkdir, parents=True, exist_ok=True)
        self._data_dir = deps.data_dir
        given = settings.get("ledger_path")
        self._ledger_path = Path(given) if given else deps.data_dir / LEDGER
        fd = await asyncio.to_thread(
            os.open, self._ledger_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600
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
        if self._link_ttl is not None and self._links is not None:  # as Phaxio's content_url
            entry["content_url"] = await self._links.link(fax.document, self._link_ttl)
        await self._ledger.append((json.dumps(entry, sort_keys=True) + "\n").encode())
        if fax.to in self._unknown_numbers:  # taken, but the answer never came back
            raise OutcomeUnknown(UNKNOWN_MESSAGE)
        return SendReceipt(provider_sid=sid)

    async def find_sent(self, job_id: str) -> SendReceipt | None:
        if self._data_dir is None:
            raise TransportError("test transport used before start()", retryable=True)
        entries = await asyncio.to_thread(read_ledger, self._data_dir, self._ledger_path)
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

    # -- the receiving half ----------------------------------------------------------------

    async def ingest_webhook(self, request: WebhookRequest) -> Sequence[TransportEvent]:
        verify(request, self._secrets)
        return read_events(request.body)

    def _inbox(self) -> Path:
        if self._data_dir is None:
            raise TransportError("test transport used before start()", retryable=True)
        return self._data_dir / INBOX

    async def list_inbound(self, since: float | None) -> Sequence[ReceivedFax]:
        inbox = self._inbox()

        def listed() -> list[ReceivedFax]:
            found = []
            for path in sorted(inbox.glob("*.pdf")) if inbox.is_dir() else []:
                at = path.stat().st_mtime
                if since is None or at >= since:
                    found.append(ReceivedFax(path.stem, None, None, None, at))
            return sorted(found, key=lambda fax: fax.received_at)

        return await asyncio.to_thread(listed)

    async def get_inbound_pdf(self, provider_sid: str) -> AsyncIterator[bytes]:
        path = self._inbox() / f"{_safe(provider_sid)}.pdf"
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise TransportError(
                f"test transport: no received fax {provider_sid!r}", retryable=False
            ) from None
        return _chunked(data)

    async def delete_copy(self, provider_sid: str) -> None:
        inbox = self._inbox()

        def delete() -> None:
            (inbox / f"{_safe(provider_sid)}.pdf").unlink(missing_ok=True)
            with (inbox.parent / DELETED).open("a") as deleted:
                deleted.write(provider_sid + "\n")

        await asyncio.to_thread(delete)


def _safe(provider_sid: str) -> str:
    """A provider sid as a file name: nothing that leaves the inbox."""
    if not provider_sid or not all(c.isalnum() or c in "-_." for c in provider_sid):
        raise TransportError(f"not a test transport sid: {provider_sid!r}", retryable=False)
    return provider_sid


async def _chunked(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


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
