"""Graceful shutdown: what SIGTERM (or SIGINT, Ctrl-C) does to a running `faxbot serve`.

1. The drain begins: readiness answers 503 at once, so a load balancer stops sending.
2. After `appliance.shutdown_delay_seconds` (0 by default; a balancer that only learns from
   its probes needs a few seconds) the listening socket closes: a new connection is refused.
   uvicorn's own graceful shutdown does the rest of the HTTP side: idle keep-alive
   connections close, a request in progress is answered, then its connection closes.
3. Requests still running after `appliance.shutdown_grace_seconds` are cut (their
   connections closed); how many is logged. A second SIGTERM or SIGINT during the drain cuts
   them at once.
4. The appliance stops (the lifespan's end: sweeps, dispatcher, plugins, the audit log's
   `appliance_stopped` line, the database writer) and the process exits 0, cut requests or
   not: it did what it was asked. The signal is not raised again after the stop (uvicorn's
   habit), which would turn a clean stop into exit 143.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from types import FrameType

import uvicorn

from faxbot.server.lifecycle import Appliance

log = logging.getLogger("faxbot.server")
GRACE_BACKSTOP_SECONDS = 5  # uvicorn's own timeout, past the grace period, should a cut hang


class DrainingServer(uvicorn.Server):
    """uvicorn's server with the appliance's drain: readiness first, an optional delay before
    the socket closes, and the grace period's cut with its count."""

    def __init__(
        self, config: uvicorn.Config, appliance: Appliance, *, grace: float, delay: float
    ) -> None:
        super().__init__(config)
        self.appliance = appliance
        self.grace = grace
        self.delay = delay
        self._loop: asyncio.AbstractEventLoop | None = None
        self.cut = 0  # requests cut short by the drain

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # A signal handler: it may run between any two bytecodes of the loop's own code, so it
        # only sets flags and hands the rest to the loop (call_soon_threadsafe is safe here).
        loop = self._loop
        if loop is None or not self.started:  # still starting: stop as uvicorn would
            self.should_exit = True
            return
        if self.appliance.draining:
            loop.call_soon_threadsafe(self._cut, f"a second {signal.Signals(sig).name}")
            self.should_exit = True
            return
        self.appliance.draining = True
        loop.call_soon_threadsafe(self._begin, signal.Signals(sig).name)

    def _begin(self, name: str) -> None:
        log.info(
            "drain begun",
            extra={
                "event": "drain_begun",
                "signal": name,
                "delay_seconds": self.delay,
                "grace_seconds": self.grace,
            },
        )
        if self.delay > 0:
            assert self._loop is not None
            self._loop.call_later(self.delay, self._close)
        else:
            self._close()

    def _close(self) -> None:
        self.should_exit = True  # uvicorn's main loop sees it within 0.1 s and shuts down

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()
        began = loop.time()
        cutting = loop.call_later(self.grace, self._cut, "the grace period ended")
        try:
            await super().shutdown(sockets)  # the HTTP drain, then the lifespan's stop
        finally:
            cutting.cancel()
        log.info(
            "drain ended",
            extra={
                "event": "drain_ended",
                "seconds": round(loop.time() - began, 3),
                "requests_cut": self.cut,
            },
        )

    def _cut(self, reason: str) -> None:
        """Cut the requests still running: their tasks cancelled, their connections closed
        (uvicorn waits for both to be gone, then stops the appliance)."""
        running = list(self.server_state.tasks)
        if not running and not self.server_state.connections:
            return
        self.cut += len(running)
        log.warning(
            f"{len(running)} request(s) still running cut short: {reason}",
            extra={"event": "requests_cut", "count": len(running), "reason": reason},
        )
        for task in running:
            task.cancel("cut by the drain")
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.close()
