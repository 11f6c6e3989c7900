"""The audit log: the line of each action, what a line refuses to hold, masking, durability,
concurrency, reopening after a crash, and failures to open or write."""

from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from faxbot.audit import (
    Action,
    AuditLog,
    AuditUnavailable,
    ConfigDetail,
    DocumentDetail,
    ListDetail,
    Outcome,
    SendDetail,
    StartedDetail,
    WebhookDetail,
    mask_number,
    read_audit,
)
from hypothesis import given, settings
from hypothesis import strategies as st

T = TypeVar("T")
JOB = "9f86d081884c7d659a2feaa0c55ad015"  # the shape of faxbot.ids.new_id()
REQUEST = "0c55ad0159f86d081884c7d659a2feaa"
FINGERPRINT = "sha256:" + "5e" * 32
PHONE = "+12025550143"
REPLICA = "replica-a"


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(scenario(), 10)

    return asyncio.run(bounded())


def record_once(path: Path, action: Action, outcome: Outcome, **fields: Any) -> None:
    async def scenario() -> None:
        log = await AuditLog.open(path, replica=REPLICA)
        try:
            await log.record(action, outcome, **fields)
        finally:
            await log.close()

    run(scenario)


# One example per action: the record call and the line it must write (without `at`).
EXAMPLES: list[tuple[Action, Outcome, dict[str, Any], dict[str, Any]]] = [
    (
        Action.APPLIANCE_STARTED,
        Outcome.OK,
        {"detail": StartedDetail(fingerprint=FINGERPRINT, profile="hipaa")},
        {
            "key_id": None,
            "subject": None,
            "request_id": None,
            "detail": {"fingerprint": FINGERPRINT, "profile": "hipaa"},
        },
    ),
    (Action.APPLIANCE_STOPPED, Outcome.OK, {}, {"key_id": None, "subject": None}),
    (
        Action.FAX_SEND,
        Outcome.OK,
        {
            "key_id": "ci-sender",
            "subject": JOB,
            "request_id": REQUEST,
            "detail": SendDetail(pages=3, plugin="phaxio", to=mask_number(PHONE)),
        },
        {"detail": {"pages": 3, "plugin": "phaxio", "to": "+1*******43"}},
    ),
    (
        Action.FAX_HANDOVER,
        Outcome.ERROR,
        {"subject": JOB, "detail": DocumentDetail(pages=3, plugin="sinch")},
        {"key_id": None, "detail": {"pages": 3, "plugin": "sinch"}},
    ),
    (Action.FAX_STATUS_READ, Outcome.NOT_FOUND, {"key_id": "ci"}, {"subject": None}),
    (
        Action.FAX_LIST_READ,
        Outcome.OK,
        {"key_id": "ci", "detail": ListDetail(count=25)},
        {"detail": {"count": 25}},
    ),
    (Action.INBOUND_LIST_READ, Outcome.DENIED, {}, {"key_id": None, "detail": {"count": None}}),
    (
        Action.INBOUND_READ,
        Outcome.OK,
        {"key_id": "clinic.reader", "subject": "inb_7Qx2", "detail": DocumentDetail(pages=2)},
        {"detail": {"pages": 2, "plugin": None}},
    ),
    (
        Action.DOCUMENT_DOWNLOAD,
        Outcome.OK,
        {"key_id": "clinic.reader", "subject": JOB},
        {"detail": {"pages": None, "plugin": None}},
    ),
    (
        Action.WEBHOOK_EVENT,
        Outcome.REJECTED,
        {"detail": WebhookDetail(plugin="phaxio", event="fax_completed")},
        {"key_id": None, "subject": None, "detail": {"plugin": "phaxio", "event": "fax_completed"}},
    ),
    (
        Action.FAX_RECEIVED,
        Outcome.OK,
        {"subject": JOB, "detail": DocumentDetail(pages=3, plugin="phaxio")},
        {"key_id": None, "detail": {"pages": 3, "plugin": "phaxio"}},
    ),
    (
        Action.CONFIG_READ,
        Outcome.OK,
        {"key_id": "admin", "detail": ConfigDetail(plugin="phaxio")},
        {"detail": {"plugin": "phaxio"}},
    ),
]


def test_every_action_has_an_example() -> None:
    assert {action for action, *_ in EXAMPLES} == set(Action)


@pytest.mark.parametrize(("action", "outcome", "fields", "expected"), EXAMPLES)
def test_each_action_writes_who_what_when_and_outcome(
    tmp_path: Path,
    action: Action,
    outcome: Outcome,
    fields: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    path = tmp_path / "audit.jsonl"
    before = datetime.now(UTC)
    record_once(path, action, outcome, **fields)
    after = datetime.now(UTC)

    [line] = path.read_text(encoding="utf-8").splitlines()
    entry = json.loads(line)
    assert list(entry) == [
        "at",
        "replica",
        "action",
        "key_id",
        "outcome",
        "subject",
        "request_id",
        "detail",
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["at"])
    at = datetime.fromisoformat(entry["at"])
    assert at.utcoffset() == timedelta(0)
    assert before - timedelta(milliseconds=1) <= at <= after
    assert entry["replica"] == REPLICA
    assert entry["action"] == action.value
    assert entry["outcome"] == outcome.value
    for name in ("key_id", "subject", "request_id"):
        assert entry[name] == fields.get(name)
    want = {key: value for key, value in expected.items() if key != "detail"}
    assert {key: entry[key] for key in want} == want
    assert entry["detail"] == expected.get("detail", {})
    assert read_audit(path) == [entry]


def test_mask_keeps_the_first_digit_and_the_last_two_only_when_five_stay_hidden() -> None:
    assert mask_number("+12025550143") == "+1*******43"
    assert mask_number("+442071838750") == "+4*******50"
    assert mask_number("+49301234") == "+4*******34"  # 8 digits: 5 hidden
    assert mask_number("+4930123") == "+4*******"  # 7 digits: the last two would leave 4


@pytest.mark.parametrize(
    "text", ["12025550143", "+1 202 555 0143", "+0123456789", "+12345", "+" + "1" * 20, "", "+"]
)
def test_mask_refuses_what_is_not_an_e164_number(text: str) -> None:
    with pytest.raises(ValueError, match=r"E\.164") as caught:
        mask_number(text)
    assert "0143" not in str(caught.value)


E164 = st.from_regex(r"\+[1-9][0-9]{5,18}", fullmatch=True)  # what the send route accepts


@settings(deadline=None, max_examples=20)  # each example opens a log: timing varies
@given(numbers=st.lists(E164, min_size=1, max_size=30, unique=True))
def test_no_full_phone_number_reaches_a_line(
    tmp_path_factory: pytest.TempPathFactory, numbers: list[str]
) -> None:
    path = tmp_path_factory.mktemp("audit") / "audit.jsonl"

    async def send(log: AuditLog, number: str) -> None:
        detail = SendDetail(pages=1, plugin="phaxio", to=mask_number(number))
        await log.record(Action.FAX_SEND, Outcome.OK, key_id="ci", subject=JOB, detail=detail)

    async def misplace(log: AuditLog, named: str, **fields: Any) -> None:
        with pytest.raises(ValueError, match=named):
            await log.record(Action.FAX_SEND, Outcome.OK, **{"key_id": "ci", **fields})

    async def scenario() -> None:
        log = await AuditLog.open(path, replica=REPLICA)
        try:
            await asyncio.gather(*(send(log, number) for number in numbers))
            # The number itself, wherever a caller might put it, is refused; so are its
            # digits alone from 8 digits on (ids may hold up to 7: see MAX_DIGITS).
            for number in numbers:
                await misplace(log, "subject", subject=number)
                await misplace(log, "request_id", subject=JOB, request_id=number)
                if len(number) > 8:
                    await misplace(log, "subject", subject=number[1:])
                    await misplace(log, "request_id", subject=JOB, request_id=number[1:])
                    await misplace(log, "key_id", key_id=number[1:], subject=JOB)
        finally:
            await log.close()

    run(scenario)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(numbers)
    for number, line in zip(numbers, lines, strict=True):
        digits = number[1:]
        masked = json.loads(line)["detail"]["to"]
        assert len(digits) - sum(c.isdigit() for c in masked) >= 5  # at least 5 stay hidden
        assert digits not in line
        assert digits not in re.sub(r"\D", "", line.split('"detail"')[1])  # not even split up
        with pytest.raises(ValueError, match="mask_number"):
            SendDetail(to=number)


SEND, OK = Action.FAX_SEND, Outcome.OK
# (case, action, outcome, the record call's fields, a word the error must name). Fields are
# built inside the call, so a detail that refuses its values at construction counts too.
REFUSED: list[tuple[str, Action, Outcome, Callable[[], dict[str, Any]], str]] = [
    ("number as subject", SEND, OK, lambda: {"key_id": "ci", "subject": PHONE}, "subject"),
    ("digits as subject", SEND, OK, lambda: {"key_id": "ci", "subject": PHONE[1:]}, "subject"),
    ("dashed digits", SEND, OK, lambda: {"key_id": "ci", "subject": "1-202-555-0143"}, "subject"),
    ("free text", SEND, OK, lambda: {"key_id": "ci", "subject": "fax to Dr Smith"}, "subject"),
    ("long subject", SEND, OK, lambda: {"key_id": "ci", "subject": "a" * 65}, "subject"),
    ("int subject", SEND, OK, lambda: {"key_id": "ci", "subject": 12025550143}, "subject"),
    ("token as key_id", SEND, OK, lambda: {"key_id": "fbk_Q2xpZW50U2VjcmV0"}, "key_id"),
    ("number as key_id", SEND, OK, lambda: {"key_id": PHONE[1:], "subject": JOB}, "key_id"),
    (
        "number as request_id",
        SEND,
        OK,
        lambda: {"key_id": "ci", "subject": JOB, "request_id": PHONE},
        "request",
    ),
    ("negative pages", SEND, OK, lambda: {"detail": SendDetail(pages=-1)}, "pages"),
    ("bool pages", SEND, OK, lambda: {"detail": SendDetail(pages=True)}, "pages"),
    ("number as pages", SEND, OK, lambda: {"detail": SendDetail(pages=12025550)}, "pages"),
    ("text pages", SEND, OK, lambda: {"detail": SendDetail(pages="3")}, "pages"),  # type: ignore[arg-type]
    ("unmasked to", SEND, OK, lambda: {"detail": SendDetail(to=PHONE)}, "mask_number"),
    ("bad plugin id", SEND, OK, lambda: {"detail": SendDetail(plugin="Phaxio!")}, "plugin"),
    (
        "number as count",
        Action.FAX_LIST_READ,
        OK,
        lambda: {"detail": ListDetail(count=10**7)},
        "count",
    ),
    (
        "bad fingerprint",
        Action.APPLIANCE_STARTED,
        OK,
        lambda: {"detail": StartedDetail(fingerprint="5e" * 32, profile="hipaa")},
        "fingerprint",
    ),
    (
        "another action's detail",
        SEND,
        OK,
        lambda: {"key_id": "ci", "detail": ListDetail()},
        "SendDetail",
    ),
    ("a dict as detail", SEND, OK, lambda: {"key_id": "ci", "detail": {"pages": 1}}, "SendDetail"),
    ("started without detail", Action.APPLIANCE_STARTED, OK, dict, "StartedDetail"),
    ("ok without its key", SEND, OK, lambda: {"subject": JOB}, "key_id"),
    ("ok without its subject", Action.INBOUND_READ, OK, lambda: {"key_id": "ci"}, "subject"),
    (
        "a key on a webhook",
        Action.WEBHOOK_EVENT,
        Outcome.REJECTED,
        lambda: {"key_id": "ci", "detail": WebhookDetail(plugin="phaxio")},
        "key_id",
    ),
    (
        "a subject on a list",
        Action.FAX_LIST_READ,
        OK,
        lambda: {"key_id": "ci", "subject": JOB},
        "subject",
    ),
    ("an unknown action", "fax_delete", OK, dict, "Action"),  # type: ignore[list-item]
    ("an unknown outcome", SEND, "maybe", dict, "Outcome"),  # type: ignore[list-item]
]


@pytest.mark.parametrize(
    ("case", "action", "outcome", "fields", "named"), REFUSED, ids=[c for c, *_ in REFUSED]
)
def test_a_value_the_log_must_not_hold_is_refused_and_not_quoted(
    tmp_path: Path,
    case: str,
    action: Action,
    outcome: Outcome,
    fields: Callable[[], dict[str, Any]],
    named: str,
) -> None:
    path = tmp_path / "audit.jsonl"

    async def scenario() -> str:
        log = await AuditLog.open(path, replica=REPLICA)
        try:
            with pytest.raises(ValueError) as caught:
                await log.record(action, outcome, **fields())
            return str(caught.value)
        finally:
            await log.close()

    message = run(scenario)
    assert named in message
    for secret in ("0143", "Smith", "fbk_", "aaaa"):
        assert secret not in message
    assert path.read_bytes() == b""


async def fax_read(log: AuditLog, subject: str) -> None:
    await log.record(Action.FAX_STATUS_READ, Outcome.OK, key_id="ci", subject=subject)


def test_200_concurrent_records_give_200_whole_lines_in_call_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.jsonl"
    subjects = [f"job-{i}" for i in range(200)]
    fsyncs: list[int] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        fsyncs.append(fd)
        real_fsync(fd)

    async def scenario() -> None:
        log = await AuditLog.open(path, replica=REPLICA)
        monkeypatch.setattr(os, "fsync", counting_fsync)
        try:
            await asyncio.gather(*(asyncio.create_task(fax_read(log, s)) for s in subjects))
        finally:
            await log.close()

    run(scenario)
    raw = path.read_bytes()
    assert raw.endswith(b"\n") and raw.count(b"\n") == 200
    assert [entry["subject"] for entry in read_audit(path)] == subjects
    assert 1 <= len(fsyncs) < 200  # records that wait for a write share the next fsync


def test_a_line_is_on_disk_and_fsynced_when_record_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.jsonl"
    synced_sizes: list[int] = []
    real_fsync = os.fsync

    def watching_fsync(fd: int) -> None:
        real_fsync(fd)
        synced_sizes.append(os.fstat(fd).st_size)

    async def scenario() -> None:
        log = await AuditLog.open(path, replica=REPLICA)
        monkeypatch.setattr(os, "fsync", watching_fsync)
        try:
            for i in range(3):
                await fax_read(log, f"job-{i}")
                size = path.stat().st_size
                assert path.read_bytes().count(b"\n") == i + 1  # before close: not buffered
                assert synced_sizes[-1] == size
        finally:
            await log.close()

    run(scenario)


def test_a_cancelled_caller_neither_loses_nor_blocks_the_others(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"

    async def scenario() -> None:
        log = await AuditLog.open(path, replica=REPLICA)
        try:
            tasks = [asyncio.create_task(fax_read(log, f"job-{i}")) for i in range(5)]
            await asyncio.sleep(0)  # all five are queued
            tasks[2].cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            assert [r is None for r in results] == [True, True, False, True, True]
            await fax_read(log, "job-5")
        finally:
            await log.close()

    run(scenario)
    assert [e["subject"] for e in read_audit(path)] == [f"job-{i}" for i in range(6)]


def test_reopening_appends_and_never_truncates(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    record_once(path, Action.APPLIANCE_STOPPED, Outcome.OK)
    first = path.read_bytes()
    record_once(path, Action.APPLIANCE_STOPPED, Outcome.ERROR)
    assert path.read_bytes().startswith(first)
    assert [e["outcome"] for e in read_audit(path)] == ["ok", "error"]


def test_a_line_a_crash_cut_short_does_not_swallow_the_next(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    record_once(path, Action.APPLIANCE_STOPPED, Outcome.OK)
    whole = path.read_bytes()
    path.write_bytes(whole + whole[:30])  # a crash in the middle of the second line
    record_once(path, Action.APPLIANCE_STOPPED, Outcome.ERROR)

    lines = path.read_bytes().split(b"\n")
    assert lines[0] + b"\n" == whole
    assert lines[1] == whole[:30]
    assert json.loads(lines[2])["outcome"] == "error"
    assert lines[3:] == [b""]
    with pytest.raises(ValueError, match=r"audit\.jsonl:2: not an audit record"):
        read_audit(path)  # the cut line is shown, not skipped


def test_a_new_file_is_0600_in_a_new_directory_0700(tmp_path: Path) -> None:
    path = tmp_path / "var" / "audit" / "audit.jsonl"
    record_once(path, Action.APPLIANCE_STOPPED, Outcome.OK)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def open_error(path: Path) -> AuditUnavailable:
    async def scenario() -> AuditLog:
        return await AuditLog.open(path, replica=REPLICA)

    with pytest.raises(AuditUnavailable) as caught:
        run(scenario)
    return caught.value


# Tests run as root, which writes into read-only directories; these paths fail for root too.
def test_open_under_a_regular_file_names_the_path_and_the_reason(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file, not a directory")
    path = tmp_path / "data" / "audit.jsonl"
    error = open_error(path)
    assert error.path == path
    assert str(error) == f"audit log {path}: cannot open: Not a directory"


def test_open_where_the_directory_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file, not a directory")
    path = tmp_path / "data" / "audit" / "audit.jsonl"
    assert str(open_error(path)) == (
        f"audit log {path}: cannot create its directory: Not a directory"
    )


def test_open_of_a_directory(tmp_path: Path) -> None:
    assert str(open_error(tmp_path)) == f"audit log {tmp_path}: cannot open: Is a directory"


def test_open_of_something_other_than_a_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.fifo"
    os.mkfifo(path)
    assert str(open_error(path)) == f"audit log {path}: cannot open: not a regular file"


def test_a_failed_write_fails_the_record_and_every_later_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.jsonl"

    def failing_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    async def scenario() -> None:
        log = await AuditLog.open(path, replica=REPLICA)
        try:
            await fax_read(log, "job-0")
            with monkeypatch.context() as patch:
                patch.setattr(os, "fsync", failing_fsync)
                outcomes = await asyncio.gather(
                    fax_read(log, "job-1"), fax_read(log, "job-2"), return_exceptions=True
                )
            for outcome in outcomes:
                assert isinstance(outcome, AuditUnavailable)
                assert str(outcome) == f"audit log {path}: cannot write: Input/output error"
            # The disk "recovered", but a failed fsync may have lost pages: stay failed.
            with pytest.raises(AuditUnavailable, match="cannot write: Input/output error"):
                await fax_read(log, "job-3")
        finally:
            await log.close()

    run(scenario)


def test_close_writes_what_was_recorded_before_and_then_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.jsonl"
    in_fsync, release = threading.Event(), threading.Event()
    real_fsync = os.fsync

    def held_fsync(fd: int) -> None:
        in_fsync.set()
        release.wait(5)
        real_fsync(fd)

    async def scenario() -> None:
        log = await AuditLog.open(path, replica=REPLICA)
        monkeypatch.setattr(os, "fsync", held_fsync)
        first = asyncio.create_task(fax_read(log, "job-0"))
        await asyncio.to_thread(in_fsync.wait, 5)  # job-0's batch is being written
        second = asyncio.create_task(fax_read(log, "job-1"))  # the next batch
        await asyncio.sleep(0)
        closing = asyncio.gather(log.close(), log.close())
        await asyncio.sleep(0.01)
        release.set()
        await closing
        await log.close()  # idempotent
        await first
        await second
        with pytest.raises(AuditUnavailable, match="closed"):
            await fax_read(log, "job-2")

    run(scenario)
    assert [e["subject"] for e in read_audit(path)] == ["job-0", "job-1"]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b"not json\n", "malformed"),
        (b"[1, 2]\n", "Expected `object`"),
        (b"\n", "truncated"),
        (b'{"at": "2026-01-01T00:00:00.000Z", "action": "fax_delete"}\n', "Invalid enum"),
    ],
)
def test_read_audit_names_the_line_that_is_not_a_record(
    tmp_path: Path, line: bytes, problem: str
) -> None:
    path = tmp_path / "audit.jsonl"
    record_once(path, Action.APPLIANCE_STOPPED, Outcome.OK)
    with path.open("ab") as file:
        file.write(line)
    with pytest.raises(ValueError, match=rf"audit\.jsonl:2: not an audit record: .*{problem}"):
        read_audit(path)


def test_a_line_names_its_replica_and_a_malformed_replica_id_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    record_once(path, Action.APPLIANCE_STOPPED, Outcome.OK)
    assert [entry["replica"] for entry in read_audit(path)] == [REPLICA]

    async def open_with(replica: str) -> None:
        await AuditLog.open(tmp_path / "other.jsonl", replica=replica)

    for bad in ("", "a b", "../etc", "x" * 64):
        with pytest.raises(ValueError, match="replica id"):
            run(lambda bad=bad: open_with(bad))  # type: ignore[misc]
    assert not (tmp_path / "other.jsonl").exists()


def test_read_audit_takes_lines_written_before_replicas_had_streams(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(
        b'{"at":"2026-01-01T00:00:00.000Z","action":"appliance_stopped","key_id":null,'
        b'"outcome":"ok","subject":null,"request_id":null,"detail":{}}\n'
    )
    record_once(path, Action.APPLIANCE_STOPPED, Outcome.OK)
    assert [entry.get("replica") for entry in read_audit(path)] == [None, REPLICA]
