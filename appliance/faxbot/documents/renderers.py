"""Text is drawn in a small pool of worker processes, never on the event loop.

Drawing a page of text costs ~25 ms of CPU in fpdf2 (font subsetting); on the event loop that
stalls every other request, and in a thread it holds the GIL as much. Each worker is a
`python -m faxbot.documents.renderers` child that parses the font once and then draws one text
at a time, told what to draw over its stdin and answering over its stdout (length-prefixed
MessagePack frames). A worker retires after RENDERS_PER_WORKER texts, or as soon as its
resident memory passes MAX_WORKER_RSS, so the memory a large text took is given back to the
system with the process; a new worker takes its place.

At most `size` texts are drawn at once and at most `queue` more wait for a worker; past that
`render` raises RenderersBusy at once (the client is told to retry) rather than letting waiting
requests pile up. A worker that dies while drawing (killed, out of memory) fails only the text
it was drawing, with RenderFailed, and is replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import msgspec

from faxbot.documents.kinds import DocumentError

RENDERS_PER_WORKER = 200
MAX_WORKER_RSS = 160 * 1024 * 1024  # a fresh worker holding the parsed font is ~62 MB
RENDER_TIMEOUT_SECONDS = 120.0  # a text of the most pages draws in a few seconds
MODULE = "faxbot.documents.renderers"
WORKER_NICENESS = 10
# What a worker inherits of the environment: enough to run Python, none of the appliance's
# secrets (database passwords, provider tokens are passed to it through the environment).
INHERITED = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONPATH", "TMPDIR", "HOME")


def pool_size(configured: int) -> int:
    """The number of workers for `appliance.limits.render_workers`: as configured, or for 0 one
    per two CPUs (at least 1, at most 4), leaving the event loop a CPU of its own."""
    if configured > 0:
        return configured
    return max(1, min(4, (os.cpu_count() or 1) // 2))


class _Lost(Exception):
    """The other end of a worker's pipes is gone."""


def _send(pipe: IO[bytes], message: tuple[Any, ...]) -> None:
    frame = msgspec.msgpack.encode(message)
    pipe.write(len(frame).to_bytes(8, "big"))
    pipe.write(frame)
    pipe.flush()


def _receive(pipe: IO[bytes]) -> tuple[Any, ...]:
    size = int.from_bytes(_read_exactly(pipe, 8), "big")
    message = msgspec.msgpack.decode(_read_exactly(pipe, size))
    if not isinstance(message, list):
        raise _Lost("not a message")
    return tuple(message)


def _read_exactly(pipe: IO[bytes], size: int) -> bytes:
    data = pipe.read(size)
    if data is None or len(data) != size:
        raise _Lost("the pipe ended")
    return data


class RenderUnavailable(Exception):
    """A text could not be drawn now, through no fault of the text; the message says why."""


class RenderersBusy(RenderUnavailable):
    """Every worker is drawing and the queue of texts waiting for one is full."""


class RenderFailed(RenderUnavailable):
    """The worker drawing the text stopped, or no worker could be started."""


@dataclass
class _Reply:
    status: str  # "ok", "refused" (DocumentError), "failed" (anything else)
    payload: bytes | str
    retire: bool


class _Worker:
    """One child process and its pipes; `call` blocks (it runs in a thread)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        assert process.stdin is not None and process.stdout is not None
        self._to: IO[bytes] = process.stdin
        self._from: IO[bytes] = process.stdout

    @classmethod
    def start(cls, renders: int, rss: int) -> _Worker:
        """A started worker that retires after `renders` texts or past `rss` bytes."""
        env = {name: os.environ[name] for name in INHERITED if name in os.environ}
        process = subprocess.Popen(
            [sys.executable, "-m", MODULE, str(renders), str(rss)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            close_fds=True,
        )
        worker = cls(process)
        try:
            hello = _receive(worker._from)
        except (_Lost, msgspec.DecodeError, OSError):
            worker.kill()
            raise RenderFailed(
                f"a text render worker exited while starting (exit status "
                f"{process.wait()}); see the appliance log"
            ) from None
        if hello != ("ready", process.pid):
            worker.kill()
            raise RenderFailed("a text render worker answered nonsense while starting")
        return worker

    @property
    def pid(self) -> int:
        return self.process.pid

    def call(self, source: bytes | Path, paper: str) -> _Reply:
        request = (source, None) if isinstance(source, bytes) else (None, os.fsdecode(source))
        try:
            _send(self._to, (*request, paper))
            status, payload, retire = _receive(self._from)
        except (_Lost, OSError, msgspec.DecodeError, ValueError):
            raise RenderFailed("the text render worker stopped while drawing") from None
        return _Reply(status, payload, retire)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self._to, self._from):
            with contextlib.suppress(OSError):
                pipe.close()

    def close(self) -> None:
        """Ask the worker to exit (end of its stdin) and wait; kill it if it does not."""
        with contextlib.suppress(OSError):
            self._to.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        self.kill()


class TextRenderers:
    """The pool: started and stopped with the appliance (`start`, `stop`), used by `render`.
    Workers are started when texts need them, up to `size`: an appliance that is sent only
    PDFs runs none, and one that retired its workers after a burst holds no memory for it."""

    def __init__(
        self,
        size: int,
        queue: int,
        logger: logging.Logger,
        *,
        renders_per_worker: int = RENDERS_PER_WORKER,
        max_worker_rss: int = MAX_WORKER_RSS,
    ) -> None:
        if size < 1 or queue < 0:
            raise ValueError(f"a pool needs at least one worker and a queue >= 0: {size}, {queue}")
        self.size = size
        self.queue = queue
        self._retire_after = (renders_per_worker, max_worker_rss)
        self._log = logger
        # Idle workers; None tells a waiting render that a worker could not be started.
        self._idle: asyncio.Queue[_Worker | None] | None = None
        self._workers: set[_Worker] = set()
        self._starting = 0  # workers being started
        self._waiting = 0  # renders waiting for an idle worker
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._idle = asyncio.Queue()

    async def stop(self) -> None:
        """Stop every worker, after the ones being started came up (a start cannot be cut
        short without leaving a process behind)."""
        idle, self._idle = self._idle, None
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        workers, self._workers = list(self._workers), set()
        await asyncio.gather(*(asyncio.to_thread(worker.close) for worker in workers))
        while idle is not None and self._waiting and idle.empty():
            idle.put_nowait(None)  # renders still waiting are told there is no worker
            await asyncio.sleep(0)

    @property
    def pids(self) -> list[int]:
        """The workers' process ids."""
        return sorted(worker.pid for worker in self._workers)

    async def render(self, source: bytes | Path, paper: str) -> bytes:
        """The PDF drawn from the judged and counted text `source` (its bytes, or its file).
        Raises RenderUnavailable (busy, failed), DocumentError from the text itself."""
        idle = self._idle
        if idle is None:
            raise RenderFailed("the text renderers are not running (the appliance is stopping)")
        if idle.empty():
            if len(self._workers) + self._starting < self.size:
                self._start_worker()
            elif self._waiting >= self.queue:
                raise RenderersBusy(
                    f"all {self.size} text render workers are busy and {self._waiting} texts "
                    "are waiting (appliance.limits.render_queue); retry in a moment"
                )
        self._waiting += 1
        try:
            worker = await idle.get()
        finally:
            self._waiting -= 1
        if worker is None:
            raise RenderFailed("no text render worker could be started; see the appliance log")
        try:
            reply = await asyncio.wait_for(
                asyncio.to_thread(worker.call, source, paper), RENDER_TIMEOUT_SECONDS
            )
        except (RenderFailed, TimeoutError, asyncio.CancelledError) as exc:
            self._retire(worker, "lost" if isinstance(exc, RenderFailed) else "cut short")
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise RenderFailed(
                "the text render worker stopped while drawing this document (it is replaced); "
                "nothing was queued: send it again"
            ) from None
        if reply.retire:
            self._retire(worker, "recycled")
        else:
            idle.put_nowait(worker)
        if isinstance(reply.payload, bytes):
            return reply.payload
        if reply.status == "refused":
            raise DocumentError(reply.payload)
        raise RuntimeError(f"rendering the text failed in the worker: {reply.payload}")

    def _retire(self, worker: _Worker, why: str) -> None:
        self._workers.discard(worker)
        level = logging.INFO if why == "recycled" else logging.WARNING
        self._log.log(
            level,
            f"text render worker {why}",
            extra={"event": "render_worker_retired", "pid": worker.pid, "reason": why},
        )
        self._track(asyncio.to_thread(worker.kill))
        if self._idle is not None and self._waiting > self._starting:
            self._start_worker()  # texts are waiting for the one that left

    def _start_worker(self) -> None:
        self._starting += 1
        self._track(self._start_one())

    def _track(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _start_one(self) -> None:
        try:
            worker = await asyncio.to_thread(_Worker.start, *self._retire_after)
        except (RenderFailed, OSError) as exc:
            self._log.error(
                f"cannot start a text render worker: {exc}",
                extra={"event": "render_worker_failed"},
            )
            if self._idle is not None and not self._workers:
                self._idle.put_nowait(None)  # fail one waiting render rather than hang it
            return
        finally:
            self._starting -= 1
        if self._idle is None:  # stopped meanwhile
            await asyncio.to_thread(worker.close)
            return
        self._workers.add(worker)
        self._idle.put_nowait(worker)
        self._log.info(
            "text render worker started",
            extra={"event": "render_worker_started", "pid": worker.pid},
        )


def _resident_bytes() -> int:
    try:
        statm = Path("/proc/self/statm").read_bytes()
        return int(statm.split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # not Linux: the peak, which only grows
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def _serve(requests: IO[bytes], replies: IO[bytes], limits: Mapping[str, int]) -> None:
    from faxbot.documents.text import Typesetter, render_upload

    try:
        typesetter: Typesetter | None = Typesetter()  # the font, parsed once
    except DocumentError:
        typesetter = None  # no font: each render says which package to install
    _send(replies, ("ready", os.getpid()))
    done = 0
    while True:
        try:
            data, path, paper = _receive(requests)
        except _Lost:
            return  # the appliance closed the pipe: it is stopping, or gone
        source = data if isinstance(data, bytes) else Path(path)
        reply: tuple[str, bytes | str]
        try:
            reply = ("ok", render_upload(source, paper=paper, typesetter=typesetter))
        except DocumentError as exc:
            reply = ("refused", str(exc))
        except Exception as exc:  # the parent reports it; the worker goes on
            # Only the type: a message could quote the document, which a log must not hold.
            reply = ("failed", type(exc).__name__)
        done += 1
        retire = done >= limits["renders"] or _resident_bytes() > limits["rss"]
        try:
            _send(replies, (*reply, retire))
        except OSError:
            return  # the appliance is gone (killed): nobody to answer
        if retire:
            return


def main() -> None:
    """A worker's life: answer on the real stdout, which nothing else may write to."""
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print goes to the appliance's log, not into the replies
    # Drawing yields the CPU to the appliance's event loop: a burst of texts slows texts
    # (and fills the queue, answered 503), not every other request.
    os.nice(WORKER_NICENESS)
    # Ctrl-C in a terminal reaches the whole process group: the appliance stops its workers
    # itself (it closes their stdin), so a worker does not die mid-text with a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    renders, rss = (int(value) for value in sys.argv[1:3])
    limits = {"renders": renders, "rss": rss}
    _serve(sys.stdin.buffer, replies, limits)


if __name__ == "__main__":
    main()
