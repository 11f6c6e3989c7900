"""The plugin's Asterisk Manager Interface session, through panoramisk 1.4.

panoramisk's quirks, and what this module does about them (docs/transports.md):
- `Manager(...)` takes keywords only; `connect()` returns once TCP is up, before any login.
  This module logs in itself on every connection and knows whether the login was refused
  (panoramisk's own login keeps no reason), so `open` can fail with a clear one.
- An action sent just before the link drops, with no reply yet, is sent again by panoramisk
  after the reconnect unless its name is "forgettable". A second Originate would be a second
  fax, so Originate and the lookups are forgettable: an Originate lost in a drop is followed
  up instead (the call's result in Asterisk's database, else the call timeout).
- A future whose reply never comes is never resolved: every wait here has a timeout.
- panoramisk reconnects at a fixed interval; this module doubles it after each failed
  attempt (backoff, up to `max_backoff`) and goes back to the first after a login."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from panoramisk import Manager  # type: ignore[import-untyped]

ANSWER_SECONDS = 10.0  # for the replies of Login, DBGet, DBDel and Originate's first reply
# Asterisk's OriginateResponse Reason: the channel's last control frame.
ORIGINATE_REASONS = {
    "0": "the call could not be placed (no such number, or the trunk refused it)",
    "1": "the far end hung up before answering",
    "3": "no answer",
    "5": "busy",
    "8": "congestion (the trunk or the network is busy)",
}


class AmiError(Exception):
    """The AMI session failed; the message never holds the secret."""


class LoginRefused(AmiError):
    pass


@dataclass(frozen=True)
class AmiSettings:
    host: str
    port: int
    username: str
    secret: str
    first_backoff: float = 0.5
    max_backoff: float = 30.0
    ping_seconds: float = 10.0


@dataclass(frozen=True)
class Originated:
    """Asterisk's word on an Originate: `placed` when the far end answered (the dialplan now
    sends the fax), else why not."""

    placed: bool
    reason: str = ""


class _BackoffManager(Manager):  # type: ignore[misc]  # panoramisk is untyped
    """panoramisk's Manager, reconnecting with backoff, and never after `close`."""

    def __init__(
        self,
        *,
        first_backoff: float,
        max_backoff: float,
        on_connect_failed: Callable[[BaseException], None],
        **config: Any,
    ) -> None:
        super().__init__(**config)
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.reconnect_timeout = first_backoff
        self.on_connect_failed = on_connect_failed
        self.closing = False

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        if not f.cancelled() and f.exception() is not None:
            self.on_connect_failed(f.exception())  # type: ignore[arg-type]
        super().connection_made(f)

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        if self.closing:
            return None
        # panoramisk schedules the next attempt with reconnect_timeout after this one fails
        self.reconnect_timeout = min(self.reconnect_timeout * 2, self.max_backoff)
        return super().connect(*args, **kwargs)


class AmiLink:
    """One AMI session: logged in, reconnecting, with `on_login` run after every login (the
    plugin's follow-up of calls in flight) and `on_event` for every event."""

    def __init__(
        self,
        settings: AmiSettings,
        logger: logging.Logger,
        on_login: Callable[[], Awaitable[None]],
        on_event: Callable[[Mapping[str, str]], None],
    ) -> None:
        self._settings = settings
        self._log = logger
        self._on_login = on_login
        self._on_event = on_event
        self._manager: _BackoffManager | None = None
        self._first_login: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.logged_in = False
        self.problem: str | None = "not connected yet"  # why the link is not usable now

    @property
    def where(self) -> str:
        return f"{self._settings.host}:{self._settings.port}"

    async def open(self, timeout: float) -> None:
        """Connect and log in, or raise why not (refused, unreachable) within `timeout`. The
        session then stays up on its own: reconnecting and logging in again after a drop."""
        loop = asyncio.get_running_loop()
        self._first_login = loop.create_future()
        settings = self._settings
        self._manager = _BackoffManager(
            host=settings.host,
            port=settings.port,
            loop=loop,
            log=self._log.getChild("panoramisk"),
            ping_delay=settings.ping_seconds,
            ping_interval=settings.ping_seconds,
            first_backoff=settings.first_backoff,
            max_backoff=settings.max_backoff,
            forgetable_actions=("ping", "login", "originate", "dbget", "dbdel"),
            on_connect=self._connected,
            on_disconnect=self._disconnected,
            on_connect_failed=self._unreachable,
        )
        self._manager.register_event("*", self._event)
        self._manager.connect()
        try:
            await asyncio.wait_for(asyncio.shield(self._first_login), timeout)
        except TimeoutError:
            raise AmiError(
                f"no AMI login at {self.where} within {timeout:g} s: {self.problem}"
            ) from None

    async def close(self) -> None:
        manager, self._manager = self._manager, None
        if manager is not None:
            manager.closing = True
            if manager.protocol is not None and not manager.protocol.closed and self.logged_in:
                # a polite goodbye; the socket closes either way
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(manager.send_action({"Action": "Logoff"}), 1.0)
            manager.close()
        self.logged_in = False
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- panoramisk's callbacks ----------------------------------------------------------

    def _connected(self, manager: Manager) -> None:
        self._spawn(self._login(manager))

    def _unreachable(self, exc: BaseException) -> None:
        self.problem = f"Asterisk's AMI at {self.where} is unreachable: {exc}"

    def _disconnected(self, manager: Manager, exc: object) -> None:
        if manager is not self._manager or not self.logged_in:
            return  # a login that failed said why already
        self.logged_in = False
        self.problem = f"the AMI link to {self.where} dropped; reconnecting"
        self._log.warning(
            "AMI link dropped", extra={"event": "ami_disconnected", "ami": self.where}
        )

    def _event(self, manager: Manager, message: Mapping[str, str]) -> None:
        self._on_event(message)

    # -- login -----------------------------------------------------------------------------

    async def _login(self, manager: _BackoffManager) -> None:
        settings = self._settings
        action = {
            "Action": "Login",
            "Username": settings.username,
            "Secret": settings.secret,
            "Events": "on",
        }
        try:
            reply = await asyncio.wait_for(manager.send_action(action), ANSWER_SECONDS)
        except TimeoutError:
            self.problem = f"Asterisk at {self.where} did not answer the AMI login"
            manager.protocol.close()
            manager.connection_lost(None)
            return
        if not reply.success:
            self.problem = (
                f"AMI login refused by {self.where} for user {settings.username!r}: "
                f"{reply.get('Message') or 'Authentication failed'} (check manager.conf and "
                "the secret)"
            )
            self._log.error(self.problem, extra={"event": "ami_login_refused", "ami": self.where})
            if self._first_login is not None and not self._first_login.done():
                self._first_login.set_exception(LoginRefused(self.problem))
            # try again later, slowly: the secret may be fixed on Asterisk's side
            manager.reconnect_timeout = manager.max_backoff
            manager.protocol.close()
            manager.connection_lost(None)
            return
        manager.reconnect_timeout = manager.first_backoff
        self.logged_in = True
        self.problem = None
        self._log.info("AMI logged in", extra={"event": "ami_logged_in", "ami": self.where})
        if self._first_login is not None and not self._first_login.done():
            self._first_login.set_result(None)
        await self._on_login()

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                self._log.exception("AMI task failed", extra={"event": "ami_error"})

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- actions ---------------------------------------------------------------------------

    def _usable(self) -> _BackoffManager:
        if self._manager is None or not self.logged_in:
            raise AmiError(self.problem or "the AMI link is down")
        return self._manager

    async def originate(
        self,
        *,
        channel: str,
        context: str,
        exten: str,
        variables: Mapping[str, str],
        dial_timeout: float,
    ) -> Originated:
        """Place a call with `Async: true`: returns when Asterisk reports the call answered or
        not (OriginateResponse). Raises AmiError when the link is down before it is sent, or
        TimeoutError when no word comes (the link dropped after sending: a follow-up case)."""
        manager = self._usable()
        action = {
            "Action": "Originate",
            "Channel": channel,
            "Context": context,
            "Exten": exten,
            "Priority": "1",
            "Timeout": str(int(dial_timeout * 1000)),
            "Variable": [f"{name}={value}" for name, value in variables.items()],
            "Async": "true",
        }
        replies = await asyncio.wait_for(manager.send_action(action), dial_timeout + ANSWER_SECONDS)
        return _originated(replies)

    async def db_get(self, family: str, key: str) -> str | None:
        """A value of Asterisk's database (AstDB), or None when it has none."""
        manager = self._usable()
        replies = await asyncio.wait_for(
            manager.send_action({"Action": "DBGet", "Family": family, "Key": key}), ANSWER_SECONDS
        )
        for message in replies if isinstance(replies, list) else [replies]:
            if message.get("Event") == "DBGetResponse":
                value: str = message.get("Val", "")
                return value
        return None

    async def db_del(self, family: str, key: str) -> None:
        manager = self._usable()
        await asyncio.wait_for(
            manager.send_action({"Action": "DBDel", "Family": family, "Key": key}), ANSWER_SECONDS
        )


def _originated(replies: Sequence[Mapping[str, str]] | Mapping[str, str]) -> Originated:
    if not isinstance(replies, list):  # one reply: Asterisk refused the action itself
        message = replies.get("Message") or "Originate refused"  # type: ignore[union-attr]
        return Originated(False, f"Asterisk refused the call: {message}")
    final = replies[-1]
    if final.get("Response") == "Success":
        return Originated(True)
    reason = ORIGINATE_REASONS.get(str(final.get("Reason", "")), "the call failed")
    return Originated(False, f"{reason} (Asterisk reason {final.get('Reason', '?')})")
