"""The audit log (on under the hipaa profile): one JSON object per line, appended, each answering
who (`key_id`), what (`action`, `subject`), when (`at`), where (`replica`: the appliance
process that did it, faxbot.replica) and with which `outcome`. Each replica writes its own
file, so each file is one ordered stream (docs/deploy.md, "Shipping the audit log").

What a line can hold is decided here, not by callers' care. There is no free-text field;
`action` and `outcome` are closed sets; every id is checked against a pattern that a phone
number, a token or a sentence cannot match (at most 7 decimal digits, unless it is a 32 or 64
digit lowercase hex id such as a job id); `detail` is one small typed struct per action,
checked when it is built; a recipient number enters only through `mask_number`. A bad value
raises ValueError at the call, so a wiring mistake fails in tests rather than writing a number
into the log. Messages never quote the refused value: it may be the very number kept out.

Durability: `record` returns once its line is written and fsynced. Lines recorded while a
write is under way join the next one: one `os.write` of whole lines (atomic on an O_APPEND
regular file) and one fsync per batch, in one dedicated thread, in the order `record` was
called (group commit, as in `faxbot.store.writer`). A failed write or fsync makes the log
unavailable for good: after a failed fsync Linux may drop the unwritten pages and report the
next fsync as a success, so only a restart (a new `open`) may write again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import stat
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import msgspec

from faxbot.replica import PATTERN as _REPLICA


class Action(StrEnum):
    APPLIANCE_STARTED = "appliance_started"
    APPLIANCE_STOPPED = "appliance_stopped"  # with started: the span the log covers
    FAX_SEND = "fax_send"  # POST /fax
    FAX_HANDOVER = "fax_handover"  # the document left for the outbound provider (a disclosure)
    FAX_STATUS_READ = "fax_status_read"
    FAX_LIST_READ = "fax_list_read"
    INBOUND_LIST_READ = "inbound_list_read"
    INBOUND_READ = "inbound_read"
    DOCUMENT_DOWNLOAD = "document_download"
    WEBHOOK_EVENT = "webhook_event"  # a provider's webhook: each event applied, or refused
    FAX_RECEIVED = "fax_received"  # a received fax was stored (subject: its inbound id)
    CONFIG_READ = "config_read"  # who looked at the appliance's security settings


class Outcome(StrEnum):
    OK = "ok"
    DENIED = "denied"  # 401, 403
    NOT_FOUND = "not_found"
    REJECTED = "rejected"  # bad input, a forged webhook
    ERROR = "error"


class AuditUnavailable(Exception):
    """The audit log cannot be opened or written; under hipaa, whatever was to be audited must
    not happen (the appliance does not start, the request is not served)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"audit log {path}: {reason}")
        self.path = path
        self.reason = reason


MAX_DIGITS = 7  # shorter than any full phone number the masking below could be asked to hide
_MAX_COUNT = 10**MAX_DIGITS - 1
_HEX_ID = re.compile(r"[0-9a-f]{32}|[0-9a-f]{64}")  # job ids (faxbot.ids), digests
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")  # subjects, request ids
_KEY_ID = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")  # api_keys[].id in the fragment schema
_PLUGIN_ID = re.compile(r"[a-z][a-z0-9_]{1,39}")  # the plugin manifest schema's id
_WORD = re.compile(r"[a-z][a-z0-9_.]{0,39}")  # profile, webhook event kind
_FINGERPRINT = re.compile(r"sha256:[0-9a-f]{64}")
_E164 = re.compile(r"\+[1-9][0-9]{5,18}")  # what phonenumbers formats as E.164 (6-19 digits)
_MASKED = re.compile(r"\+[1-9]\*{7}(?:[0-9]{2})?")
_STARS = "*" * 7  # a fixed count, so the mask does not tell the number's length either
_TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def mask_number(number: str) -> str:
    """A recipient as the audit log may hold it: the '+', the first digit and, when at least
    five digits stay hidden, the last two: `+12025550143` -> `+1*******43`, `+4930123` ->
    `+4*******`. Raises ValueError for anything but an E.164 number."""
    if not isinstance(number, str) or not _E164.fullmatch(number):
        raise ValueError("mask_number takes an E.164 number (+ and 6 to 19 digits)")
    digits = number[1:]
    return "+" + digits[0] + _STARS + (digits[-2:] if len(digits) >= 8 else "")


def _check_text(field: str, value: object, pattern: re.Pattern[str], shape: str) -> None:
    if not isinstance(value, str) or not (
        _HEX_ID.fullmatch(value)
        or (pattern.fullmatch(value) and sum(c.isdigit() for c in value) <= MAX_DIGITS)
    ):
        raise ValueError(
            f"audit {field} must be {shape} with at most {MAX_DIGITS} digits, or a 32 or 64 "
            "digit lowercase hex id (a phone number or free text cannot be audited)"
        )


def _check_optional(
    field: str, value: object, pattern: re.Pattern[str], shape: str = "an id"
) -> None:
    if value is not None:
        _check_text(field, value, pattern, shape)


def _check_count(field: str, value: object) -> None:
    # bool is an int; a number this large could be a phone number written as an int
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_COUNT
    ):
        raise ValueError(f"audit {field} must be an int from 0 to {_MAX_COUNT}")


class Detail(msgspec.Struct, frozen=True, kw_only=True):
    """Action-specific facts; each action takes one subclass (see `_RULES`)."""


class _NoDetail(Detail, frozen=True, kw_only=True):
    pass


class StartedDetail(Detail, frozen=True, kw_only=True):
    fingerprint: str  # the artifact's, "sha256:<hex>"
    profile: str

    def __post_init__(self) -> None:
        if not isinstance(self.fingerprint, str) or not _FINGERPRINT.fullmatch(self.fingerprint):
            raise ValueError("audit detail.fingerprint must be sha256:<64 lowercase hex>")
        _check_text("detail.profile", self.profile, _WORD, "a word")


class SendDetail(Detail, frozen=True, kw_only=True):
    pages: int | None = None
    plugin: str | None = None
    to: str | None = None  # only from mask_number

    def __post_init__(self) -> None:
        _check_count("detail.pages", self.pages)
        _check_optional("detail.plugin", self.plugin, _PLUGIN_ID, "a plugin id")
        if self.to is not None and not (isinstance(self.to, str) and _MASKED.fullmatch(self.to)):
            raise ValueError("audit detail.to must come from mask_number")


class DocumentDetail(Detail, frozen=True, kw_only=True):
    pages: int | None = None
    plugin: str | None = None

    def __post_init__(self) -> None:
        _check_count("detail.pages", self.pages)
        _check_optional("detail.plugin", self.plugin, _PLUGIN_ID, "a plugin id")


class ListDetail(Detail, frozen=True, kw_only=True):
    count: int | None = None  # items returned

    def __post_init__(self) -> None:
        _check_count("detail.count", self.count)


class WebhookDetail(Detail, frozen=True, kw_only=True):
    plugin: str
    event: str | None = None  # the provider's event kind, when it could be read

    def __post_init__(self) -> None:
        _check_text("detail.plugin", self.plugin, _PLUGIN_ID, "a plugin id")
        _check_optional("detail.event", self.event, _WORD, "a word")


class ConfigDetail(Detail, frozen=True, kw_only=True):
    plugin: str | None = None  # one plugin's settings; None: the whole config

    def __post_init__(self) -> None:
        _check_optional("detail.plugin", self.plugin, _PLUGIN_ID, "a plugin id")


class _Rule(NamedTuple):
    detail: type[Detail]
    by_key: bool  # done for an API key: key_id is required when the outcome is ok
    subject: bool | None  # True: required when ok; None: optional; False: never


_RULES: dict[Action, _Rule] = {
    Action.APPLIANCE_STARTED: _Rule(StartedDetail, by_key=False, subject=False),
    Action.APPLIANCE_STOPPED: _Rule(_NoDetail, by_key=False, subject=False),
    Action.FAX_SEND: _Rule(SendDetail, by_key=True, subject=True),
    Action.FAX_HANDOVER: _Rule(DocumentDetail, by_key=False, subject=True),
    Action.FAX_STATUS_READ: _Rule(_NoDetail, by_key=True, subject=True),
    Action.FAX_LIST_READ: _Rule(ListDetail, by_key=True, subject=False),
    Action.INBOUND_LIST_READ: _Rule(ListDetail, by_key=True, subject=False),
    Action.INBOUND_READ: _Rule(DocumentDetail, by_key=True, subject=True),
    Action.DOCUMENT_DOWNLOAD: _Rule(DocumentDetail, by_key=True, subject=True),
    Action.WEBHOOK_EVENT: _Rule(WebhookDetail, by_key=False, subject=None),
    Action.FAX_RECEIVED: _Rule(DocumentDetail, by_key=False, subject=True),
    Action.CONFIG_READ: _Rule(ConfigDetail, by_key=True, subject=False),
}


class _Line(msgspec.Struct, frozen=True, kw_only=True):
    at: str
    replica: str
    action: Action
    key_id: str | None
    outcome: Outcome
    subject: str | None
    request_id: str | None
    detail: Detail


def _line(
    replica: str,
    action: Action,
    outcome: Outcome,
    key_id: str | None,
    subject: str | None,
    request_id: str | None,
    detail: Detail | None,
) -> _Line:
    """The checked line; raises ValueError naming what is wrong, never the value."""
    try:
        action, outcome = Action(action), Outcome(outcome)
    except (ValueError, TypeError):
        raise ValueError("audit action and outcome must be an Action and an Outcome") from None
    rule = _RULES[action]
    if detail is None:
        try:
            detail = rule.detail()
        except TypeError:
            raise ValueError(f"audit {action.value} needs a {rule.detail.__name__}") from None
    elif type(detail) is not rule.detail:
        raise ValueError(f"audit {action.value} takes a {rule.detail.__name__} detail")
    if rule.by_key:
        _check_optional("key_id", key_id, _KEY_ID, "an API key id")
        if outcome is Outcome.OK and key_id is None:
            raise ValueError(f"audit {action.value} ok needs the key_id that did it")
    elif key_id is not None:
        raise ValueError(f"audit {action.value} is not done by an API key: key_id must be None")
    if rule.subject is False and subject is not None:
        raise ValueError(f"audit {action.value} has no subject")
    if rule.subject and outcome is Outcome.OK and subject is None:
        raise ValueError(f"audit {action.value} ok needs its subject")
    _check_optional("subject", subject, _ID)
    _check_optional("request_id", request_id, _ID)
    at = datetime.now(UTC).isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"
    return _Line(
        at=at,
        replica=replica,
        action=action,
        key_id=key_id,
        outcome=outcome,
        subject=subject,
        request_id=request_id,
        detail=detail,
    )


_Batch = list[tuple[bytes, "asyncio.Future[None]"]]


class AuditLog:
    """Open with `await AuditLog.open(path, replica=...)`; use from the appliance's event loop."""

    def __init__(self, path: Path, fd: int, thread: ThreadPoolExecutor, replica: str) -> None:
        self.path = path
        self.replica = replica
        self._fd: int | None = fd
        self._thread = thread
        self._encoder = msgspec.json.Encoder()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queued: _Batch = []
        self._busy = False  # a batch is being written
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False
        self._closing: asyncio.Future[None] | None = None
        self._failure: str | None = None  # why the log stopped writing

    @classmethod
    async def open(cls, path: Path | str, *, replica: str) -> AuditLog:
        """Open (create: file 0600, a missing directory 0700) the log for appending, its lines
        marked as written by `replica` (faxbot.replica.replica_id()); raises AuditUnavailable
        naming the path and the OS's reason, ValueError for a malformed replica id."""
        if not isinstance(replica, str) or _REPLICA.fullmatch(replica) is None:
            raise ValueError("audit replica must be a replica id (faxbot.replica)")
        path = Path(path)
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="faxbot-audit")
        try:
            fd = await asyncio.get_running_loop().run_in_executor(thread, _open_for_append, path)
        except BaseException:
            thread.shutdown(wait=False)
            raise
        return cls(path, fd, thread, replica)

    async def record(
        self,
        action: Action,
        outcome: Outcome,
        *,
        key_id: str | None = None,
        subject: str | None = None,
        request_id: str | None = None,
        detail: Detail | None = None,
    ) -> None:
        """Append one line; returns once it is on disk. Raises ValueError for a value the log
        must not hold, AuditUnavailable when the log cannot write it."""
        line = _line(self.replica, action, outcome, key_id, subject, request_id, detail)
        if self._closed:
            raise AuditUnavailable(self.path, "closed")
        if self._failure is not None:
            raise AuditUnavailable(self.path, self._failure)
        loop = self._loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._queued.append((self._encoder.encode(line) + b"\n", future))
        if not self._busy:
            self._busy = True
            self._idle.clear()
            # Not at once: the other records of this turn of the loop join the batch.
            loop.call_soon(self._next_batch)
        await future

    async def close(self) -> None:
        """Write what was recorded before, then close the file. Idempotent; a caller that is
        cancelled does not stop the closing."""
        self._closed = True  # from now on, record refuses
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        await self._idle.wait()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._close_fd)
        self._thread.shutdown(wait=False)  # its one task has ended

    def _close_fd(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def _next_batch(self) -> None:
        """On the loop: hand everything queued to the thread as one write, or go idle. A
        record whose caller was cancelled is still written: it happened."""
        batch, self._queued = self._queued, []
        if not batch:
            self._busy = False
            self._idle.set()
            return
        if self._failure is not None:
            self._settle(batch, self._failure)
            return
        self._thread.submit(self._write_batch, batch)

    def _write_batch(self, batch: _Batch) -> None:
        """In the thread, the only one that writes or closes the fd, so no write meets a
        closed fd; then answers the loop in one call."""
        failure: str | None = None
        try:
            if self._fd is None:
                failure = "closed"
            else:
                _write_all(self._fd, b"".join(data for data, _ in batch))
                os.fsync(self._fd)
        except OSError as exc:
            failure = f"cannot write: {_reason(exc)}"
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
            self._loop.call_soon_threadsafe(self._settle, batch, failure)

    def _settle(self, batch: _Batch, failure: str | None) -> None:
        """On the loop: answer the batch's callers, then start the next batch."""
        if failure is not None:
            self._failure = failure
        for _, future in batch:
            if future.done():  # its caller was cancelled
                continue
            if failure is None:
                future.set_result(None)
            else:
                future.set_exception(AuditUnavailable(self.path, failure))
        self._next_batch()


def _open_for_append(path: Path) -> int:
    """Blocking. The fd is O_APPEND: every write lands at the end, whatever else holds the file."""
    what = "cannot create its directory"
    try:
        created_dir = not path.parent.exists()
        if created_dir:
            path.parent.mkdir(mode=0o700, parents=True)
        what = "cannot open"
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC  # read: the last byte
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        raise AuditUnavailable(path, f"{what}: {_reason(exc)}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # O_APPEND writes are atomic only on regular files
            raise AuditUnavailable(path, "cannot open: not a regular file")
        what = "cannot write"
        # A crash can leave a line cut short; the next line must not be glued onto it.
        if info.st_size and os.pread(fd, 1, info.st_size - 1) != b"\n":
            _write_all(fd, b"\n")
        os.fsync(fd)
        if created_dir or info.st_size == 0:  # the file's name must survive a crash too
            _fsync_dir(path.parent)
    except OSError as exc:
        os.close(fd)
        raise AuditUnavailable(path, f"{what}: {_reason(exc)}") from exc
    except BaseException:
        os.close(fd)
        raise
    return fd


def _write_all(fd: int, data: bytes) -> None:
    # A short write (disk nearly full) continues where it stopped; this is the only writer.
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


class _Shape(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    at: Annotated[str, msgspec.Meta(pattern=f"^{_TIMESTAMP}$")]
    # Lines written before streams per replica have none; every later line has one.
    replica: Annotated[str, msgspec.Meta(pattern=f"^{_REPLICA.pattern}$")] | None = None
    action: Action
    key_id: str | None
    outcome: Outcome
    subject: str | None
    request_id: str | None
    detail: dict[str, int | str | None]


def read_audit(path: Path | str) -> list[dict[str, Any]]:
    """Every line of an audit log, in order. A line that is not an audit record (a line a
    crash cut short included) raises ValueError naming its line number: nothing is skipped."""
    entries: list[dict[str, Any]] = []
    with Path(path).open("rb") as file:
        for number, line in enumerate(file, start=1):
            try:
                entry = msgspec.json.decode(line)
                msgspec.convert(entry, _Shape)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise ValueError(f"{path}:{number}: not an audit record: {exc}") from None
            entries.append(entry)
    return entries


__all__ = [
    "Action",
    "AuditLog",
    "AuditUnavailable",
    "ConfigDetail",
    "Detail",
    "DocumentDetail",
    "ListDetail",
    "Outcome",
    "SendDetail",
    "StartedDetail",
    "WebhookDetail",
    "mask_number",
    "read_audit",
]
