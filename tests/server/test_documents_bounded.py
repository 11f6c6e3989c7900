"""Documents cost bounded memory and never stall the event loop, against a real `faxbot serve`:
a huge text is refused for its pages before anything is drawn and the server's memory stays
where it was; text is drawn by render workers, whose death fails only the text they drew and
whose saturation is answered 503 with a code."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import Appliance, build

pytestmark = pytest.mark.slow
TO = "+12025550143"
MAX_PAGES = 1000
LONG_TEXT = "".join(f"line {n}\n" for n in range(25_000)).encode()  # ~420 pages, ~260 kB


@pytest.fixture
def appliance(tmp_path: Path) -> Iterator[Appliance]:
    running = build(
        tmp_path,
        extra=(
            f"appliance:\n  limits:\n    max_pages: {MAX_PAGES}\n"
            "    render_workers: 1\n    render_queue: 0\n"
        ),
    )
    with running.running():
        yield running


def post_text(client: httpx.Client, text: bytes) -> httpx.Response:
    return client.post("/fax", data={"to": TO}, files={"file": ("t.txt", text, "text/plain")})


def resident_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for process {pid}")


def render_workers(server: int) -> list[int]:
    """The server's children that are text render workers."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue  # gone meanwhile
        if parent == server and b"faxbot.documents.renderers" in command:
            found.append(int(stat.parent.name))
    return found


def bytes_read(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    return 0


def idle_worker(client: httpx.Client, server: int) -> tuple[int, int]:
    """The one render worker, started by a short text, and what it has read so far."""
    assert post_text(client, b"warm up\n").status_code == 202
    [worker] = render_workers(server)
    return worker, bytes_read(worker)


def wait_until_drawing(worker: int, already_read: int, upload_size: int) -> None:
    """Until the render worker has read a request of `upload_size` bytes."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if bytes_read(worker) >= already_read + upload_size:
            return
        time.sleep(0.01)
    raise AssertionError("the render worker did not read the text")


def in_background(work: object) -> tuple[threading.Thread, list[httpx.Response]]:
    answers: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: answers.append(work()))  # type: ignore[operator]
    thread.start()
    return thread, answers


def test_nine_megabytes_of_form_feeds_are_refused_with_the_memory_unchanged(
    tmp_path: Path,
) -> None:
    running = build(tmp_path)  # the default limits: 100 pages, 10 MiB uploads
    running.start()
    try:
        assert running.process is not None
        server = running.process.pid
        with running.client() as client:
            idle = resident_kb(server)
            for _ in range(4):
                answer = post_text(client, b"\f" * 9_000_000)
                assert answer.status_code == 422, answer.text
                assert answer.json()["code"] == "too_many_pages"
                assert "more than 100 pages" in answer.json()["detail"]
            after = resident_kb(server)
        assert after < idle * 1.5 + 20_000, (idle, after)  # was 58 MB -> 705 MB
        assert render_workers(server) == []  # refused before any render worker was needed
    finally:
        running.stop()


def test_a_text_fax_is_drawn_by_a_worker_and_sent(appliance: Appliance) -> None:
    with appliance.client() as client:
        answer = post_text(client, "Hello, Καλημέρα\n".encode())
        assert answer.status_code == 202, answer.text
        assert answer.json()["pages"] == 1
    assert appliance.wait_for(answer.json()["id"])["status"] == "SUCCESS"


def test_a_worker_killed_while_drawing_fails_only_that_fax(appliance: Appliance) -> None:
    assert appliance.process is not None
    with appliance.client() as client:
        worker, already_read = idle_worker(client, appliance.process.pid)
        thread, answers = in_background(lambda: post_text(client, LONG_TEXT))
        wait_until_drawing(worker, already_read, len(LONG_TEXT))
        os.kill(worker, signal.SIGKILL)  # a child of the server this test started
        thread.join(60)
        [failed] = answers
        assert failed.status_code == 500, failed.text
        assert failed.json()["code"] == "render_failed"
        assert "send it again" in failed.json()["detail"]
        again = post_text(client, b"after the crash\n")
        assert again.status_code == 202, again.text
        listed = client.get("/fax").json()
    assert len(listed["items"]) == 2  # the warm-up and the one after: none for the lost text
    assert listed["items"][0]["id"] == again.json()["id"]
    assert render_workers(appliance.process.pid) != [worker]  # replaced


def test_a_text_past_the_queue_is_answered_503_with_retry_after(appliance: Appliance) -> None:
    assert appliance.process is not None
    with appliance.client() as client, appliance.client() as other:
        worker, already_read = idle_worker(client, appliance.process.pid)
        thread, answers = in_background(lambda: post_text(client, LONG_TEXT))
        wait_until_drawing(worker, already_read, len(LONG_TEXT))
        busy = post_text(other, b"a short text\n")
        thread.join(60)
    assert busy.status_code == 503, busy.text
    assert busy.json()["code"] == "renderer_busy"
    assert busy.headers["Retry-After"] == "1"
    assert answers[0].status_code == 202, answers[0].text
    assert answers[0].json()["pages"] > 400
