"""The HTTP connection's bounds, enforced in uvicorn's httptools protocol before any app code
runs: the size and count of a request's headers (431), the time to send them, the rate of a
body, the idle time of a connection, the number of open connections (at the cap a new one
displaces an idle or slow one, else is answered 503) and of requests on one connection.
`appliance.limits.http` configures them (docs/appliance.md); `faxbot serve` hands
`bounded_protocol(...)` to uvicorn as its `http` class.

httptools buffers a header value until it ends (a 64 MB `X-API-Key` is 64 MB in memory, grown
by copying), so a head is counted in the reads it arrives in, before the parser sees them, as
well as exactly by the parser's callbacks: a head over the limit is refused within one read
(at most 256 KiB) of the limit."""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import uuid
from typing import Any, ClassVar

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from faxbot.artifact import HttpLimits
from faxbot.server.error_codes import ErrorCode

log = logging.getLogger("faxbot.server")

# Every response carries these, the server's own refusals and errors included: nothing here
# is for a cache to keep, and a browser must not guess a type. Handed to uvicorn as its
# default headers, so the app's answers, uvicorn's 400/500 and the refusals below share them.
RESPONSE_HEADERS: tuple[tuple[str, str], ...] = (
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
)
RATE_CHECK_SECONDS = 1.0  # how often a body's rate is measured once its grace has passed
REFUSAL_LOG_SECONDS = 10.0  # a flood of refusals is one log line per kind this often
FD_RESERVE = 256  # open files beyond the connections: database, logs, documents, plugins


class _Refusal(Exception):
    """Raised in a parser callback to stop parsing and answer `code` instead."""

    def __init__(self, code: ErrorCode, message: str, details: dict[str, int]) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class _RefusalLog:
    """The first refusal of a kind is logged, then at most one line per interval with how
    many there were: an attack must not turn into a flood of log lines."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._count: dict[str, int] = {}

    def refused(self, kind: str, now: float) -> None:
        self._count[kind] = self._count.get(kind, 0) + 1
        last = self._last.get(kind)
        if last is not None and now - last < REFUSAL_LOG_SECONDS:
            return
        log.warning(
            "connection refused",
            extra={"event": "connection_refused", "reason": kind, "count": self._count[kind]},
        )
        self._last[kind], self._count[kind] = now, 0


class BoundedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the appliance's bounds (`limits`, set by
    `bounded_protocol`). One instance per connection."""

    limits: ClassVar[HttpLimits]
    refusals: ClassVar[_RefusalLog]
    # The server's connections with no request in progress (just opened, kept alive, or
    # sending a head), longest in that state first: at the cap, the first one gives way.
    waiting: ClassVar[dict[BoundedHttpProtocol, None]]
    # The server's connections sending a request body (measured against the minimum rate).
    receiving: ClassVar[dict[BoundedHttpProtocol, None]]

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._refused = False
        self._requests = 0
        # The head of the request being read: exact bytes and count from the parser, and the
        # bytes of whole reads that arrived while it was incomplete.
        self._in_head = False
        self._began_in_read = False
        self._head_bytes = 0
        self._head_read_bytes = 0
        self._header_count = 0
        self._head_timer: asyncio.TimerHandle | None = None
        # The body being read: since when it is measured, and how much came since.
        self._in_body = False
        self._body_since = 0.0
        self._body_bytes = 0
        self._body_timer: asyncio.TimerHandle | None = None

    # Connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections and not self._evict_one():
            self._refuse(
                ErrorCode.TOO_MANY_CONNECTIONS,
                "the appliance has as many connections open as it allows; retry shortly",
                {"max_connections": self.limits.max_connections},
                headers=((b"retry-after", b"1"),),
            )
            return
        # A connection that never sends a byte is closed like an idle keep-alive one.
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )
        self.waiting[self] = None

    def connection_lost(self, exc: Exception | None) -> None:
        self.waiting.pop(self, None)
        self.receiving.pop(self, None)
        self._cancel_timers()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing() or self._in_body:
            return
        if self.cycle is None or self.cycle.response_complete:
            self.waiting[self] = None  # kept alive, no request in progress

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._unset_keepalive_if_required()
        self._began_in_read = False
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            refusal = exc.__context__
            if isinstance(refusal, _Refusal):  # raised by a callback below
                self._refuse(refusal.code, refusal.message, refusal.details)
            else:
                self.logger.warning("Invalid HTTP request received.")
                self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserUpgrade:
            self._unsupported_upgrade_warning()  # no WebSocket protocol is configured
        if self._in_head and self._head_timer is None:
            # Armed at the end of the read the head began in, only for a head that did not
            # arrive in one read (the common case costs no timer).
            self._head_timer = self.loop.call_later(
                self.limits.header_timeout_seconds, self._head_too_slow
            )
        if self._in_head and not self._began_in_read:
            # A whole read of an unfinished head (the part of a read a head began in is only
            # known to be at most that read, and is counted by the parser when it ends).
            self._head_read_bytes += len(data)
            if self._head_read_bytes > self.limits.max_header_bytes:
                self._refuse(*self._headers_too_large())
                return
        if self._in_body and self._body_timer is None:
            self._body_since, self._body_bytes = self.loop.time(), 0
            self._body_timer = self.loop.call_later(
                self.limits.body_grace_seconds, self._check_body_rate
            )
            self.receiving[self] = None

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._began_in_read = True, True
        self._head_bytes = self._head_read_bytes = self._header_count = 0

    def on_url(self, url: bytes) -> None:
        self._head_bytes += len(url)
        if self._head_bytes > self.limits.max_header_bytes:
            raise _Refusal(*self._headers_too_large())
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        # Inline, not through helpers: this runs for every header of every request.
        self._header_count += 1
        self._head_bytes += len(name) + len(value) + 4  # ": " and CRLF
        if self._header_count > self.limits.max_headers:
            raise _Refusal(
                ErrorCode.HEADERS_TOO_LARGE,
                f"the request has more than {self.limits.max_headers} headers "
                "(appliance.limits.http.max_headers)",
                {"max_headers": self.limits.max_headers},
            )
        if self._head_bytes > self.limits.max_header_bytes:
            raise _Refusal(*self._headers_too_large())
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self.waiting.pop(self, None)
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        self._in_body = True
        super().on_headers_complete()
        self._requests += 1
        if self._requests >= self.limits.max_requests_per_connection:
            self.cycle.keep_alive = False  # this response closes the connection

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._in_body = False
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
            self.receiving.pop(self, None)
        super().on_message_complete()
        if self.cycle.response_complete and not self.transport.is_closing():
            self.waiting[self] = None  # answered before its body ended

    # Bounds

    def _headers_too_large(self) -> tuple[ErrorCode, str, dict[str, int]]:
        limit = self.limits.max_header_bytes
        return (
            ErrorCode.HEADERS_TOO_LARGE,
            f"the request line and headers are larger than {limit} bytes "
            "(appliance.limits.http.max_header_bytes)",
            {"max_header_bytes": limit},
        )

    def _evict_one(self) -> bool:
        """Close the connection that has waited longest without a request in progress (an
        idle one or one still sending its head), else the slowest body under the minimum
        rate even within its grace, so that clients that trickle or idle cannot keep new
        ones out; False when every connection has a request in progress at a fair rate."""
        victim = next(iter(self.waiting), None)
        if victim is None:
            victim = self._slowest_body()
        if victim is None:
            return False
        self.waiting.pop(victim, None)
        self.receiving.pop(victim, None)
        victim._close("evicted")
        return True

    def _slowest_body(self) -> BoundedHttpProtocol | None:
        """The body with the lowest rate under the minimum, among those measured for at least
        RATE_CHECK_SECONDS that the appliance is reading (a scan: only at the cap)."""
        now = self.loop.time()
        slowest, lowest = None, float(self.limits.body_min_bytes_per_second)
        for other in self.receiving:
            elapsed = now - other._body_since
            if elapsed < RATE_CHECK_SECONDS or other.flow.read_paused:
                continue
            if other.cycle.waiting_for_100_continue:
                continue
            rate = other._body_bytes / elapsed
            if rate < lowest:
                slowest, lowest = other, rate
        return slowest

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.flow.read_paused:  # a pipelined request waits for the one before it
            self._head_timer = self.loop.call_later(
                self.limits.header_timeout_seconds, self._head_too_slow
            )
            return
        self._close("header_timeout")

    def _check_body_rate(self) -> None:
        self._body_timer = None
        if not self._in_body or self.transport.is_closing():
            return
        now = self.loop.time()
        if self.flow.read_paused or self.cycle.waiting_for_100_continue:
            # The appliance is not reading, or has not asked for the body yet: the client is
            # not to blame, and its rate is measured afresh.
            self._body_since, self._body_bytes = now, 0
        elif now - self._body_since < self.limits.body_grace_seconds:
            pass  # measured afresh after a pause: a new grace
        elif self._body_bytes < self.limits.body_min_bytes_per_second * (now - self._body_since):
            self._close("body_too_slow")
            return
        self._body_timer = self.loop.call_later(RATE_CHECK_SECONDS, self._check_body_rate)

    def _close(self, reason: str) -> None:
        """Close a connection that broke a time bound (no answer: the request is unfinished,
        and a client that trickles would not read one)."""
        self.refusals.refused(reason, self.loop.time())
        self._cancel_timers()
        if not self.transport.is_closing():
            self.transport.close()

    def _refuse(
        self,
        code: ErrorCode,
        message: str,
        details: dict[str, int],
        headers: tuple[tuple[bytes, bytes], ...] = (),
    ) -> None:
        """Answer `code` with an error body and close, reading nothing more: what the client
        still sends is not read (the kernel resets the connection once it is closed)."""
        self.refusals.refused(code.value, self.loop.time())
        self._refused = True
        self._cancel_timers()
        request_id = uuid.uuid4().hex
        body = json.dumps(
            {
                "error": message,
                "detail": message,
                "code": code.value,
                "details": details,
                "request_id": request_id,
            }
        ).encode()
        lines = [STATUS_LINE[code.status]]
        for name, value in (
            *self.server_state.default_headers,
            *headers,
            (b"x-request-id", request_id.encode("ascii")),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode("ascii")),
            (b"connection", b"close"),
        ):
            lines.append(b"%s: %s\r\n" % (name, value))
        lines.extend((b"\r\n", body))
        self.transport.pause_reading()
        self.transport.write(b"".join(lines))
        self.transport.close()

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None
        self._unset_keepalive_if_required()


def bounded_protocol(limits: HttpLimits) -> type[BoundedHttpProtocol]:
    """The protocol class for uvicorn's `http=`, bound to `limits`."""

    class Bounded(BoundedHttpProtocol):
        pass

    Bounded.limits = limits
    Bounded.refusals = _RefusalLog()
    Bounded.waiting = {}
    Bounded.receiving = {}
    return Bounded


def reserve_file_descriptors(limits: HttpLimits) -> None:
    """Raise the soft limit of open files to hold `max_connections` (up to the hard limit),
    so the cap, not the file descriptors, is what turns clients away; warn when it cannot."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = limits.max_connections + FD_RESERVE
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < needed:
        log.warning(
            "open-file limit below max_connections",
            extra={
                "event": "file_limit_low",
                "max_connections": limits.max_connections,
                "open_file_limit": target,
            },
        )


__all__ = [
    "RESPONSE_HEADERS",
    "BoundedHttpProtocol",
    "bounded_protocol",
    "reserve_file_descriptors",
]
