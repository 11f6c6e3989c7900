"""A small Asterisk for tests: an asyncio AMI server on loopback that speaks the Manager
protocol as PROTOCOLS.md and Asterisk's docs describe it (greeting, Login, FullyBooted, Ping,
Originate with Async and its OriginateResponse, the dialplan's UserEvent FaxResult, DBGet /
DBDel on its database, Logoff), and plays the dialplan of docs/examples/sip/extensions.conf:
an answered call "sends" FAXFILE (it must be a readable fax TIFF: its pages are counted),
then the `h` extension stores the result under faxbot/<JOBID> and raises FaxResult.

It runs its own event loop in a thread, so tests drive it synchronously while a real
`faxbot serve` talks to it. Fault switches: `refuse_login`, numbers that are `busy` or do
not answer (`no_answer`), numbers that answer but never report (`silent`), `hold` (calls
wait for `release`), `drop()` / `restore()` of the link, and counters of calls at once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

GREETING = b"Asterisk Call Manager/5.0.3\r\n"
# OriginateResponse Reason codes (the last control frame of the channel)
BUSY, NO_ANSWER, ANSWERED = "5", "3", "4"


@dataclass
class Call:
    action_id: str
    channel: str
    number: str
    variables: dict[str, str]
    session: Session
    released: asyncio.Event = field(default_factory=asyncio.Event)


class Session:
    """One AMI client connection."""

    def __init__(self, fake: AmiFake, writer: asyncio.StreamWriter) -> None:
        self.fake = fake
        self.writer = writer
        self.logged_in = False

    def send(self, *pairs: tuple[str, str]) -> None:
        if self.writer.is_closing():
            return
        self.writer.write("".join(f"{k}: {v}\r\n" for k, v in pairs).encode() + b"\r\n")


class AmiFake:
    def __init__(
        self,
        *,
        username: str = "faxbot",
        secret: str = "fake-ami-secret-0123",  # noqa: S107  # the fake's own
        answer_after: float = 0.02,
        fax_seconds: float = 0.05,
    ) -> None:
        self.username = username
        self.secret = secret
        self.answer_after = answer_after
        self.fax_seconds = fax_seconds
        self.refuse_login = False
        self.busy: set[str] = set()
        self.no_answer: set[str] = set()
        self.silent: set[str] = set()
        self.hold = False
        self.originates: list[dict[str, str]] = []  # every Originate received, in order
        self.logins = 0
        self.refused_logins = 0
        self.active = 0
        self.most_active = 0
        self.results: list[dict[str, str]] = []  # every FaxResult raised
        self.database: dict[tuple[str, str], str] = {}
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._sessions: set[Session] = set()
        self._calls: dict[str, Call] = {}  # by JOBID, while up
        self._received = 0
        self._tasks: set[asyncio.Task[None]] = set()  # calls under way
        self.last_received = ""  # the file name of the last fax received

    # -- life ------------------------------------------------------------------------------

    def __enter__(self) -> AmiFake:
        self._thread.start()
        self._run(self._listen())
        return self

    def __exit__(self, *exc: object) -> None:
        self._run(self._close())
        self._run(self._hang_up())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def _run(self, work: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(work, self._loop)
        return future.result(10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _hang_up(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for session in list(self._sessions):
            session.writer.close()

    # -- fault switches --------------------------------------------------------------------

    def drop(self) -> None:
        """Cut every AMI connection and refuse new ones (Asterisk restarting, a network cut);
        calls go on, as they would in Asterisk."""
        self._run(self._close())

    def restore(self) -> None:
        """Listen again, on the same port."""
        self._run(self._listen())

    def release(self, job_id: str) -> None:
        """Let a held call send its fax and hang up."""

        async def go() -> None:
            self._calls[job_id].released.set()

        self._run(go())

    def held(self) -> list[str]:
        """JOBIDs of the calls up now."""

        async def read() -> list[str]:
            return sorted(self._calls)

        result: list[str] = self._run(read())
        return result

    @property
    def connected(self) -> int:
        return sum(1 for s in self._sessions if s.logged_in)

    # -- the protocol ----------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(self, writer)
        self._sessions.add(session)
        writer.write(GREETING)
        try:
            while True:
                message = await _read_message(reader)
                if message is None:
                    return
                self._handle(session, message)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._sessions.discard(session)
            session.logged_in = False
            writer.close()

    def _handle(self, session: Session, message: list[tuple[str, str]]) -> None:
        headers = {k.lower(): v for k, v in message}
        action = headers.get("action", "").lower()
        action_id = ("ActionID", headers.get("actionid", ""))
        if action == "login":
            if (
                self.refuse_login
                or headers.get("username") != self.username
                or headers.get("secret") != self.secret
            ):
                self.refused_logins += 1
                session.send(("Response", "Error"), action_id, ("Message", "Authentication failed"))
                return
            self.logins += 1
            session.logged_in = True
            session.send(("Response", "Success"), action_id, ("Message", "Authentication accepted"))
            session.send(
                ("Event", "FullyBooted"), ("Privilege", "system,all"), ("Status", "Fully Booted")
            )
            return
        if action == "logoff":
            session.send(
                ("Response", "Goodbye"), action_id, ("Message", "Thanks for all the fish.")
            )
            session.writer.close()
            return
        if not session.logged_in:
            session.send(("Response", "Error"), action_id, ("Message", "Permission denied"))
            return
        if action == "ping":
            session.send(
                ("Response", "Success"),
                action_id,
                ("Ping", "Pong"),
                ("Timestamp", f"{time.time():.6f}"),
            )
        elif action == "originate":
            self._originate(session, message, headers)
        elif action == "dbget":
            value = self.database.get((headers.get("family", ""), headers.get("key", "")))
            if value is None:
                session.send(
                    ("Response", "Error"), action_id, ("Message", "Database entry not found")
                )
                return
            session.send(
                ("Response", "Success"),
                action_id,
                ("EventList", "start"),
                ("Message", "Result will follow"),
            )
            session.send(
                ("Event", "DBGetResponse"),
                action_id,
                ("Family", headers["family"]),
                ("Key", headers["key"]),
                ("Val", value),
            )
            session.send(
                ("Event", "DBGetComplete"), action_id, ("EventList", "Complete"), ("ListItems", "1")
            )
        elif action == "dbdel":
            found = self.database.pop((headers.get("family", ""), headers.get("key", "")), None)
            if found is None:
                session.send(
                    ("Response", "Error"), action_id, ("Message", "Database entry not found")
                )
            else:
                session.send(
                    ("Response", "Success"), action_id, ("Message", "Key deleted successfully")
                )
        else:
            session.send(("Response", "Error"), action_id, ("Message", "Invalid/unknown command"))

    def _originate(
        self, session: Session, message: list[tuple[str, str]], headers: dict[str, str]
    ) -> None:
        variables = dict(v.split("=", 1) for k, v in message if k.lower() == "variable")
        action_id = headers.get("actionid", "")
        self.originates.append({**headers, **variables})
        if headers.get("async", "").lower() != "true":
            # a synchronous Originate answers only when the call is answered; panoramisk
            # then misreads the reply (PROTOCOLS.md), so the plugin must never send one
            session.send(
                ("Response", "Error"),
                ("ActionID", action_id),
                ("Message", "this fake answers Async originates only"),
            )
            return
        session.send(
            ("Response", "Success"),
            ("ActionID", action_id),
            ("Message", "Originate successfully queued"),
        )
        channel = headers.get("channel", "")
        number = channel.split("/", 1)[-1].split("@", 1)[0]
        call = Call(action_id, channel, number, variables, session)
        task = self._loop.create_task(self._call(call))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _call(self, call: Call) -> None:
        await asyncio.sleep(self.answer_after)
        reason = (
            BUSY
            if call.number in self.busy
            else NO_ANSWER
            if call.number in self.no_answer
            else ANSWERED
        )
        response = "Success" if reason == ANSWERED else "Failure"
        # OriginateResponse goes to the session that asked (if it is still there)
        call.session.send(
            ("Event", "OriginateResponse"),
            ("ActionID", call.action_id),
            ("Response", response),
            ("Channel", call.channel),
            ("Context", "faxbot-outbound"),
            ("Exten", "send"),
            ("Reason", reason),
            ("Uniqueid", f"{time.time():.6f}"),
        )
        if reason != ANSWERED:
            return
        job_id = call.variables.get("JOBID", "")
        self._calls[job_id] = call
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            if call.number in self.silent:
                await asyncio.Event().wait()  # answered, then nothing, ever
            if self.hold:
                await call.released.wait()
            await asyncio.sleep(self.fax_seconds)
            status, pages, error = self._send_fax(call.variables.get("FAXFILE", ""))
        finally:
            self.active -= 1
            self._calls.pop(job_id, None)
        # the `h` extension: store the result, then raise the UserEvent to every session
        self.database[("faxbot", job_id)] = f"{status}|{pages}|{error}"
        result = {"JOBID": job_id, "FAXSTATUS": status, "FAXPAGES": pages, "FAXERROR": error}
        self.results.append(result)
        for session in list(self._sessions):
            if session.logged_in:
                session.send(
                    ("Event", "UserEvent"),
                    ("Privilege", "user,all"),
                    ("UserEvent", "FaxResult"),
                    *result.items(),
                )

    def _send_fax(self, faxfile: str) -> tuple[str, str, str]:
        """SendFAX: a readable TIFF of fax pages goes out; anything else fails as Asterisk's
        res_fax does, with FAXERROR."""
        try:
            with Image.open(Path(faxfile)) as image:
                pages = getattr(image, "n_frames", 1)
                width = image.size[0]
        except (OSError, ValueError):
            return "FAILURE", "0", "FILE_ERROR"
        if width != 1728:
            return "FAILURE", "0", "INVALID_PAGE_WIDTH"
        return "SUCCESS", str(pages), ""

    # -- the inbound dialplan --------------------------------------------------------------

    def receive_fax(
        self, folder: Path, tiff: bytes, *, caller: str, did: str, url: str, token: str
    ) -> httpx.Response:
        """What extensions.conf's faxbot-inbound does: ReceiveFAX writes the TIFF as
        <UNIQUEID>_<caller>_<DID>.tif into the spool's inbound/ folder; at hangup CURL()
        posts its name, the status and the numbers (filtered to digits and +) with the
        bearer token."""
        self._received += 1
        digits = set("0123456789")
        numbers = "_".join("".join(c for c in n if c in digits) for n in (caller, did))
        name = f"{int(time.time())}.{self._received}_{numbers}.tif"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(tiff)
        self.last_received = name
        keep = set("0123456789+")
        form = {
            "file": name,
            "status": "SUCCESS",
            "from": "".join(c for c in caller if c in keep),
            "to": "".join(c for c in did if c in keep),
        }
        return httpx.post(url, data=form, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def calls(self) -> Iterator[dict[str, str]]:
        return iter(list(self.originates))


async def _read_message(reader: asyncio.StreamReader) -> list[tuple[str, str]] | None:
    """One message: `Key: Value` lines up to an empty line (repeated keys kept)."""
    pairs: list[tuple[str, str]] = []
    while True:
        line = await reader.readline()
        if not line:
            return None
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        if not text:
            if pairs:
                return pairs
            continue
        key, _, value = text.partition(":")
        pairs.append((key.strip(), value.strip()))
