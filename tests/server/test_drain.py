"""SIGTERM drains a real `faxbot serve`: an upload in flight is answered 202 and its job is
durable, a new connection is refused, readiness answers 503 from the drain's start, the
appliance stops (its audit line written) and the process exits 0; a request still running at
the grace period's end, or at a second signal, is cut and counted, and the exit is still 0."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest
from faxbot.audit import read_audit

from tests.server.conftest import Appliance, build, one_page_pdf

TO = "+12025550143"
BOUNDARY = "faxbot-drain-test"


def upload(to: str = TO) -> tuple[bytes, bytes]:
    """The head and body of a POST /fax with a one-page PDF, as raw HTTP/1.1."""
    body = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="to"\r\n\r\n{to}\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + one_page_pdf()
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    return body, (
        "POST /fax HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(body)}\r\n"
    ).encode()


def start_upload(appliance: Appliance) -> tuple[socket.socket, bytes]:
    """A connection that sent the head and half the body of an upload: a request in progress.
    The rest of the body, to send later."""
    body, head = upload()
    conn = socket.create_connection(("127.0.0.1", appliance.port), timeout=30)
    token = appliance.tokens["admin"]
    conn.sendall(head + f"X-API-Key: {token}\r\n\r\n".encode() + body[: len(body) // 2])
    time.sleep(0.3)  # the server has read the head: the request is running
    return conn, body[len(body) // 2 :]


def response(conn: socket.socket) -> tuple[int, dict[str, object]]:
    """The status and JSON body of the one response on `conn` (the server closes it after)."""
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        size, _, rest = body.partition(b"\r\n")
        body = rest[: int(size, 16)]
    return status, json.loads(body)


def refused(appliance: Appliance) -> bool:
    try:
        socket.create_connection(("127.0.0.1", appliance.port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def wait_until(condition: object, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"not so after {timeout} s")


def exit_code(appliance: Appliance, timeout: float = 30) -> int:
    assert appliance.process is not None
    code = appliance.process.wait(timeout)
    appliance.process = None
    return code


def events(appliance: Appliance, name: str) -> list[dict[str, object]]:
    found = []
    for line in appliance.log.read_text().splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and entry.get("event") == name:
            found.append(entry)
    return found


AUDITED = "appliance:\n  audit_log: true\n"


def test_an_upload_in_flight_is_answered_and_its_job_kept_while_new_connections_are_refused(
    tmp_path: Path,
) -> None:
    appliance = build(tmp_path, delay=0, extra=AUDITED)
    appliance.start()
    conn, rest = start_upload(appliance)
    assert appliance.process is not None
    pid = appliance.process.pid
    appliance.process.send_signal(signal.SIGTERM)
    wait_until(lambda: refused(appliance))  # the listening socket is closed
    conn.sendall(rest)  # the upload goes on after the drain began
    status, job = response(conn)
    conn.close()
    assert status == 202, job
    assert exit_code(appliance) == 0

    [ended] = events(appliance, "drain_ended")
    assert ended["requests_cut"] == 0
    audit = read_audit(appliance.data_dir / "audit" / "audit.jsonl")
    assert audit[-1]["action"] == "appliance_stopped"
    # no FAXBOT_REPLICA_ID: the single appliance's path, its lines named <host>-<pid>
    [replica] = {entry["replica"] for entry in audit}
    assert replica.endswith(f"-{pid}")
    sends = [entry["subject"] for entry in audit if entry["action"] == "fax_send"]
    assert sends == [job["id"]]

    appliance.start()  # the job was durable before its 202: the next start sends it
    try:
        assert appliance.wait_for(str(job["id"]))["status"] == "SUCCESS"
    finally:
        appliance.stop()


def test_readiness_answers_503_from_the_drain_s_start(tmp_path: Path) -> None:
    extra = "appliance:\n  shutdown_delay_seconds: 1.5\n"
    appliance = build(tmp_path, delay=0, extra=extra)
    appliance.start()
    assert httpx.get(f"{appliance.url}/health/ready").status_code == 200
    assert appliance.process is not None
    appliance.process.send_signal(signal.SIGTERM)
    wait_until(lambda: httpx.get(f"{appliance.url}/health/ready").status_code == 503, 1)
    ready = httpx.get(f"{appliance.url}/health/ready")  # the delay: still answering
    assert ready.status_code == 503
    assert ready.json()["checks"]["shutdown"] == {
        "ok": False,
        "reason": "draining: the appliance is stopping",
    }
    with appliance.client() as client:  # and still serving, for the balancer's sake
        assert client.get("/fax").status_code == 200
    wait_until(lambda: refused(appliance), 5)
    assert exit_code(appliance) == 0


def test_a_request_past_the_grace_period_is_cut_and_the_exit_is_clean(tmp_path: Path) -> None:
    extra = AUDITED + "  shutdown_grace_seconds: 1\n"
    appliance = build(tmp_path, delay=0, extra=extra)
    appliance.start()
    conn, _ = start_upload(appliance)  # never finished
    assert appliance.process is not None
    began = time.monotonic()
    appliance.process.send_signal(signal.SIGTERM)
    assert exit_code(appliance) == 0
    assert 1 <= time.monotonic() - began < 8
    assert conn.recv(65536) == b""  # cut: closed without an answer
    conn.close()

    [cut] = events(appliance, "requests_cut")
    assert cut["count"] == 1
    assert cut["reason"] == "the grace period ended"
    [ended] = events(appliance, "drain_ended")
    assert ended["requests_cut"] == 1
    audit = read_audit(appliance.data_dir / "audit" / "audit.jsonl")
    assert audit[-1]["action"] == "appliance_stopped"


@pytest.mark.parametrize("second", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_second_signal_cuts_the_drain_short_and_still_stops_cleanly(
    tmp_path: Path, second: signal.Signals
) -> None:
    appliance = build(tmp_path, delay=0, extra=AUDITED)  # the default grace: 20 s
    appliance.start()
    conn, _ = start_upload(appliance)
    assert appliance.process is not None
    began = time.monotonic()
    appliance.process.send_signal(signal.SIGTERM)
    wait_until(lambda: refused(appliance))
    appliance.process.send_signal(second)
    assert exit_code(appliance) == 0
    assert time.monotonic() - began < 10  # well inside the 20 s grace
    assert conn.recv(65536) == b""
    conn.close()

    [cut] = events(appliance, "requests_cut")
    assert cut == {**cut, "count": 1, "reason": f"a second {second.name}"}
    audit = read_audit(appliance.data_dir / "audit" / "audit.jsonl")
    assert audit[-1]["action"] == "appliance_stopped"


def test_sigterm_while_idle_exits_zero(tmp_path: Path) -> None:
    appliance = build(tmp_path, delay=0)
    appliance.start()
    assert appliance.process is not None
    appliance.process.send_signal(signal.SIGTERM)
    assert exit_code(appliance) == 0
    assert events(appliance, "drain_ended")[0]["requests_cut"] == 0
