"""The plugin's record of its calls, kept in one JSON file under the appliance's data_dir
(`sip/calls.json`): what `get_status` answers after an appliance restart and what `find_sent`
looks up after a crash. Every change is on disk before it is acted on (written to a temporary
file, fsync'd, renamed over the old one, the folder fsync'd), so a call is recorded before
its Originate is sent and its result before the core can read it.

A call goes waiting (handed over, no channel yet) -> calling (Originate sent) -> ended
(SUCCESS or FAILED). Ended calls are kept a day, then forgotten: the core has read them."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal

State = Literal["waiting", "calling", "ended"]
KEEP_ENDED_SECONDS = 86_400.0


@dataclass(frozen=True)
class Call:
    sid: str
    job_id: str
    to: str
    tiff: str  # the file name in the spool, never a path
    state: State = "waiting"
    handed_over_at: float = 0.0
    originated_at: float | None = None
    status: Literal["SUCCESS", "FAILED"] | None = None
    pages: int | None = None
    error: str | None = None
    ended_at: float | None = None


class CallBook:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._calls: dict[str, Call] = {}
        self._lock = asyncio.Lock()  # one write at a time, in the order they were asked

    def load(self) -> None:
        """Read the record (at start; a missing file is an empty record)."""
        try:
            raw = json.loads(self._path.read_text("utf-8"))
        except FileNotFoundError:
            return
        self._calls = {c["sid"]: Call(**c) for c in raw["calls"]}

    def get(self, sid: str) -> Call | None:
        return self._calls.get(sid)

    def by_job(self, job_id: str) -> Call | None:
        for call in self._calls.values():
            if call.job_id == job_id:
                return call
        return None

    def in_state(self, state: State) -> Iterator[Call]:
        """Calls in `state`, oldest hand-over first."""
        yield from sorted(
            (c for c in self._calls.values() if c.state == state), key=lambda c: c.handed_over_at
        )

    async def put(self, call: Call) -> None:
        """Record `call` (new or changed); durable when it returns."""
        async with self._lock:
            await self._write(call)

    async def end(
        self,
        call: Call,
        status: Literal["SUCCESS", "FAILED"],
        *,
        pages: int | None = None,
        error: str | None = None,
    ) -> Call | None:
        """Record the call's result, once: None when it had ended already (a result that
        arrives twice, or after the call timed out, changes nothing)."""
        async with self._lock:
            current = self._calls.get(call.sid)
            if current is None or current.state == "ended":
                return None
            ended = replace(
                current,
                state="ended",
                status=status,
                pages=pages,
                error=error,
                ended_at=time.time(),
            )
            await self._write(ended)
            return ended

    async def _write(self, call: Call) -> None:
        now = time.time()
        calls = {
            sid: c
            for sid, c in {**self._calls, call.sid: call}.items()
            if c.state != "ended" or (c.ended_at or now) > now - KEEP_ENDED_SECONDS
        }
        document = {"version": 1, "calls": [asdict(c) for c in calls.values()]}
        await asyncio.to_thread(_write_durably, self._path, document)
        self._calls = calls


def _write_durably(path: Path, document: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        data = json.dumps(document, sort_keys=True).encode()
        while data:
            data = data[os.write(fd, data) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    temporary.replace(path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
