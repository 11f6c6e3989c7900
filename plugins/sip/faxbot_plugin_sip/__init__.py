"""The SIP transport: faxes over a SIP trunk behind Asterisk.

Sending: the PDF becomes a fax TIFF in the spool directory Asterisk shares (documents.py),
the call is recorded (calls.py), then placed with an AMI Originate carrying JOBID and FAXFILE
(ami.py); the dialplan runs SendFAX and, when the call hangs up, raises the UserEvent
FaxResult and stores the same result in Asterisk's database under faxbot/<JOBID>. The event
ends the call; after an AMI drop or an appliance restart the stored result is looked up
(DBGet) for calls still in flight; a call with no result `call_timeout_seconds` after dialing
ends FAILED. At most `max_concurrent_calls` calls are up at once; the rest wait their turn,
at most `queue_timeout_seconds`.

Receiving: the dialplan's ReceiveFAX writes a TIFF to the spool's `inbound/` folder and posts
its name to POST /webhooks/sip with the inbound token (inbound.py); the plugin turns the TIFF
into a PDF and hands it to the core, which stores it and then lets the plugin delete the TIFF.

The AMI link belongs to the instance whose settings have `ami` (the outbound slot); the
inbound slot takes only the inbound settings."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from faxbot.plugins.contract import (
    START_FAIL_SECONDS,
    DeletesCopies,
    Deps,
    FaxStatus,
    FindsSent,
    Health,
    HealthCheck,
    InboundTransport,
    Manifest,
    OutboundFax,
    OutboundTransport,
    Plugin,
    ReceivedFax,
    SendReceipt,
    SettingProblem,
    StatusUpdate,
    TransportError,
    TransportEvent,
    WebhookReceiver,
    WebhookRejected,
    WebhookRequest,
    load_manifest,
)

from faxbot_plugin_sip.ami import AmiError, AmiLink, AmiSettings
from faxbot_plugin_sip.calls import Call, CallBook
from faxbot_plugin_sip.documents import ConversionError, TiffOptions, pdf_to_tiff
from faxbot_plugin_sip.inbound import InboundSpool

RESULTS_FAMILY = "faxbot"  # AstDB family of the dialplan's stored results
SAFE_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


class SipTransport(
    Plugin,
    OutboundTransport,
    FindsSent,
    InboundTransport,
    WebhookReceiver,
    DeletesCopies,
    HealthCheck,
):
    manifest: ClassVar[Manifest] = load_manifest(__name__)

    def __init__(self) -> None:
        self._settings: Mapping[str, Any] = {}
        self._deps: Deps | None = None
        self._spool = Path()
        self._book: CallBook | None = None
        self._link: AmiLink | None = None
        self._lock_fd: int | None = None
        self._inbound: InboundSpool | None = None
        self._tiff = TiffOptions()
        self._conversions = asyncio.Semaphore(2)
        self._tasks: set[asyncio.Task[None]] = set()
        self._dialing = asyncio.Lock()

    def validate_config(self, settings: Mapping[str, Any]) -> Sequence[SettingProblem]:
        problems = []
        template = settings.get("channel_template", "")
        if "{to}" not in template:
            problems.append(SettingProblem(("channel_template",), "must contain {to}"))
        if "ami" not in settings and "inbound_token" not in settings:
            problems.append(
                SettingProblem(
                    (), "give `ami` (to send faxes), `inbound_token` (to receive), or both"
                )
            )
        return problems

    async def start(self, settings: Mapping[str, Any], deps: Deps) -> None:
        self._settings = settings
        self._deps = deps
        self._spool = deps.data_dir / settings["spool_dir"]  # an absolute spool_dir stays as is
        await asyncio.to_thread(self._spool.mkdir, parents=True, exist_ok=True)
        self._tiff = TiffOptions(
            resolution=settings["tiff_resolution"],
            paper=settings["paper_size"],
            max_pages=settings["max_pages"],
            timeout_seconds=settings["conversion_timeout_seconds"],
            ghostscript=settings["ghostscript"],
        )
        self._conversions = asyncio.Semaphore(settings["max_conversions"])
        if "inbound_token" in settings:
            self._inbound = InboundSpool(self._spool / "inbound", settings["inbound_token"])
            await asyncio.to_thread(self._inbound.folder.mkdir, exist_ok=True)
        if "ami" in settings:
            await self._start_calling(settings["ami"], deps)

    async def _start_calling(self, ami: Mapping[str, Any], deps: Deps) -> None:
        state = deps.data_dir / "sip"
        await asyncio.to_thread(state.mkdir, parents=True, exist_ok=True)
        self._lock_fd = os.open(state / "ami.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(
                "another instance of the sip plugin holds the AMI link for this data_dir "
                "(give only one slot the `ami` settings: the outbound one)"
            ) from None
        self._book = CallBook(state / "calls.json")
        await asyncio.to_thread(self._book.load)
        self._link = AmiLink(
            AmiSettings(
                host=ami["host"],
                port=int(ami.get("port", 5038)),
                username=ami["username"],
                secret=ami["secret"],
                max_backoff=float(self._settings["max_reconnect_seconds"]),
            ),
            deps.logger,
            on_login=self._after_login,
            on_event=self._event,
        )
        await self._link.open(timeout=START_FAIL_SECONDS * 0.7)
        self._spawn(self._watch_timeouts())

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._link is not None:
            await self._link.close()
            self._link = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- sending ---------------------------------------------------------------------------

    def _calls(self) -> tuple[CallBook, AmiLink]:
        if self._book is None or self._link is None:
            raise TransportError(
                "the sip plugin sends nothing without its `ami` settings", retryable=False
            )
        return self._book, self._link

    async def send(self, fax: OutboundFax) -> SendReceipt:
        book, _ = self._calls()
        known = book.by_job(fax.job_id)
        if known is not None:  # handed over before: never a second call
            return SendReceipt(provider_sid=known.sid)
        if fax.pages > self._tiff.max_pages:
            raise TransportError(
                f"the document has {fax.pages} pages; the sip plugin sends at most "
                f"{self._tiff.max_pages} (max_pages)",
                retryable=False,
            )
        name = _file_name(fax.job_id)
        pdf, tiff = self._spool / f"{name}.pdf", self._spool / f"{name}.tif"
        try:
            async with self._conversions:
                await asyncio.to_thread(pdf.write_bytes, await fax.document.read())
                await pdf_to_tiff(pdf, tiff, self._tiff)
        except ConversionError as exc:
            raise TransportError(
                f"the document could not be made a fax TIFF: {exc}", retryable=False
            ) from None
        finally:
            pdf.unlink(missing_ok=True)
        await asyncio.to_thread(os.chmod, tiff, 0o640)  # Asterisk reads it (group)
        call = Call(
            sid=f"sip-{name}",
            job_id=fax.job_id,
            to=fax.to,
            tiff=tiff.name,
            handed_over_at=time.time(),
        )
        await book.put(call)
        self._spawn(self._dial())
        return SendReceipt(provider_sid=call.sid)

    async def find_sent(self, job_id: str) -> SendReceipt | None:
        book, _ = self._calls()
        call = book.by_job(job_id)
        return SendReceipt(provider_sid=call.sid) if call is not None else None

    async def get_status(self, provider_sid: str) -> StatusUpdate:
        book, _ = self._calls()
        call = book.get(provider_sid)
        if call is None:
            raise TransportError(f"the sip plugin has no call {provider_sid!r}", retryable=False)
        if call.state != "ended" or call.status is None:
            return StatusUpdate(FaxStatus.IN_PROGRESS)
        return StatusUpdate(FaxStatus(call.status), pages=call.pages, error=call.error)

    async def _dial(self) -> None:
        """Place waiting calls while channels are free (one dialer at a time)."""
        book, link = self._calls()
        async with self._dialing:
            limit = int(self._settings["max_concurrent_calls"])
            while link.logged_in:
                waiting = next(book.in_state("waiting"), None)
                if waiting is None or sum(1 for _ in book.in_state("calling")) >= limit:
                    return
                calling = replace(waiting, state="calling", originated_at=time.time())
                await book.put(calling)  # recorded before the Originate goes out
                self._spawn(self._place(calling))

    async def _place(self, call: Call) -> None:
        book, link = self._calls()
        settings = self._settings
        try:
            answer = await link.originate(
                channel=settings["channel_template"].replace("{to}", call.to),
                context=settings["context"],
                exten=settings["exten"],
                variables={
                    "JOBID": call.job_id,
                    "FAXFILE": str(Path(settings["asterisk_spool_dir"] or self._spool) / call.tiff),
                },
                dial_timeout=float(settings["dial_timeout_seconds"]),
            )
        except AmiError:  # the link was down before the Originate was sent: wait again
            await book.put(replace(call, state="waiting", originated_at=None))
            return
        except TimeoutError:
            return  # sent, no word back (the link dropped): the follow-up or the timeout ends it
        if not answer.placed:
            await self._end(call, "FAILED", error=answer.reason)

    async def _end(
        self, call: Call, status: str, *, pages: int | None = None, error: str | None = None
    ) -> None:
        book, link = self._calls()
        ended = await book.end(
            call, "SUCCESS" if status == "SUCCESS" else "FAILED", pages=pages, error=error
        )
        if ended is None:
            return  # ended before: a repeated result changes nothing
        self._log_info("call ended", job_id=call.job_id, status=ended.status)
        await asyncio.to_thread((self._spool / call.tiff).unlink, missing_ok=True)
        if link.logged_in:
            # a stale entry is harmless: its job has ended
            with contextlib.suppress(AmiError, TimeoutError):
                await link.db_del(RESULTS_FAMILY, call.job_id)
        self._spawn(self._dial())

    def _event(self, message: Mapping[str, str]) -> None:
        if message.get("Event") != "UserEvent" or message.get("UserEvent") != "FaxResult":
            return
        book = self._book
        call = book.by_job(message.get("JOBID", "")) if book is not None else None
        if call is not None:
            self._spawn(
                self._finish(
                    call,
                    message.get("FAXSTATUS", ""),
                    message.get("FAXPAGES", ""),
                    message.get("FAXERROR", ""),
                )
            )

    async def _finish(self, call: Call, status: str, pages: str, error: str) -> None:
        count = int(pages) if pages.strip().isdigit() else None
        if status.strip().upper() == "SUCCESS":
            await self._end(call, "SUCCESS", pages=count)
        else:
            reason = error.strip() or "no reason given"
            await self._end(call, "FAILED", pages=count, error=f"the fax failed: {reason}")

    async def _after_login(self) -> None:
        """After every login (the first, and after a drop): calls in flight may have ended
        while no event could reach us; Asterisk's database has their result."""
        await self._follow_up()
        await self._dial()

    async def _follow_up(self) -> None:
        book, link = self._calls()
        for call in list(book.in_state("calling")):
            try:
                stored = await link.db_get(RESULTS_FAMILY, call.job_id)
            except (AmiError, TimeoutError):
                return
            if stored is not None:
                status, _, rest = stored.partition("|")
                pages, _, error = rest.partition("|")
                await self._finish(call, status, pages, error)

    async def _watch_timeouts(self) -> None:
        book, link = self._calls()
        call_timeout = float(self._settings["call_timeout_seconds"])
        queue_timeout = float(self._settings["queue_timeout_seconds"])
        while True:
            await asyncio.sleep(min(1.0, call_timeout / 4))
            now = time.time()
            late = [
                c for c in book.in_state("calling") if now - (c.originated_at or now) > call_timeout
            ]
            if late and link.logged_in:
                await self._follow_up()  # a result stored while its event was lost
            for call in late:
                await self._end(
                    call,
                    "FAILED",
                    error=f"no result from Asterisk within {call_timeout:g} s of dialing "
                    "(the call never reported)",
                )
            for call in list(book.in_state("waiting")):
                if now - call.handed_over_at > queue_timeout:
                    why = (
                        link.problem
                        or f"all {self._settings['max_concurrent_calls']} channels busy"
                    )
                    await self._end(
                        call, "FAILED", error=f"not dialed within {queue_timeout:g} s: {why}"
                    )

    # -- receiving -------------------------------------------------------------------------

    async def ingest_webhook(self, request: WebhookRequest) -> Sequence[TransportEvent]:
        if self._inbound is None:
            raise WebhookRejected("this sip plugin instance receives no faxes (no inbound_token)")
        async with self._conversions:
            return await self._inbound.ingest(request)

    async def list_inbound(self, since: float | None) -> Sequence[ReceivedFax]:
        inbound = self._receiving()
        settled = await asyncio.to_thread(inbound.settled, since, time.time())
        found = []
        for _, name in settled:
            try:
                async with self._conversions:
                    found.append(await inbound.received(name, None, None))
            except (FileNotFoundError, ConversionError):
                continue  # gone meanwhile (stored and deleted), or not a fax: skipped
        return found

    async def get_inbound_pdf(self, provider_sid: str) -> AsyncIterator[bytes]:
        inbound = self._receiving()
        try:
            name = await asyncio.to_thread(inbound.name_of, provider_sid)
            async with self._conversions:
                fax = await inbound.received(name, None, None)
        except (FileNotFoundError, ConversionError) as exc:
            raise TransportError(
                f"sip: no received fax {provider_sid!r} in the spool ({exc})", retryable=False
            ) from None
        return _one(fax.document or b"")

    def _receiving(self) -> InboundSpool:
        if self._inbound is None:
            raise TransportError(
                "the sip plugin receives nothing without inbound_token", retryable=False
            )
        return self._inbound

    async def delete_copy(self, provider_sid: str) -> None:
        if self._inbound is not None:
            await asyncio.to_thread(self._inbound.delete, provider_sid)

    # -- health ----------------------------------------------------------------------------

    async def health(self) -> Health:
        if self._link is None:
            return Health(ok=True, detail="sip: receiving only (no AMI link)")
        if self._link.logged_in:
            return Health(ok=True, detail=f"sip: AMI logged in at {self._link.where}")
        return Health(ok=False, detail=f"sip: {self._link.problem}")

    # -- helpers ---------------------------------------------------------------------------

    def _spawn(self, work: Any) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                if self._deps is not None:
                    self._deps.logger.exception("sip task failed", extra={"event": "sip_error"})

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _log_info(self, message: str, **fields: object) -> None:
        if self._deps is not None:
            self._deps.logger.info(message, extra={"event": "sip_call", **fields})


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _file_name(job_id: str) -> str:
    """The spool name of a job's files: its id when that is a plain name (the core's ids
    are), so Asterisk's logs and the spool say which job a file is."""
    if job_id and set(job_id) <= SAFE_NAME and not job_id.startswith((".", "-")):
        return job_id[:100]
    raise TransportError(f"job id {job_id!r} is not a plain name", retryable=False)
