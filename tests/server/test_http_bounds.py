"""The HTTP connection's bounds (`appliance.limits.http`) against a real `faxbot serve` on
loopback, with raw sockets where an HTTP client would refuse to misbehave: huge or too many
headers (431, without the server reading them whole), trickled headers and bodies, idle
connections, the connection cap (503), the requests per connection, and the headers every
response carries. The bounds are configured short; each outcome is awaited with a generous
bound, never timed."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from tests.server.conftest import Appliance, build

pytestmark = pytest.mark.slow

MAX_HEADER_BYTES = 8192
MAX_HEADERS = 30
SHORT = 1  # every time bound of the first appliance, in seconds
GENEROUS = 30.0  # how long a test waits for an outcome before it fails
CAP = 12  # the second appliance's max_connections


def limits(**http: int) -> str:
    lines = "".join(f"      {name}: {value}\n" for name, value in http.items())
    return f"appliance:\n  limits:\n    http:\n{lines}"


@pytest.fixture(scope="module")
def appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    """Short time bounds, small header bounds, three requests per connection."""
    running = build(
        tmp_path_factory.mktemp("bounds"),
        extra=limits(
            max_header_bytes=MAX_HEADER_BYTES,
            max_headers=MAX_HEADERS,
            header_timeout_seconds=SHORT,
            body_grace_seconds=SHORT,
            body_min_bytes_per_second=1024,
            idle_timeout_seconds=SHORT,
            max_requests_per_connection=3,
        ),
    )
    with running.running():
        yield running


@pytest.fixture(scope="module")
def slow_bodies(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    """Few connections and a long grace for a body, under a high minimum rate."""
    running = build(
        tmp_path_factory.mktemp("slow-bodies"),
        extra=limits(
            max_connections=CAP,
            body_grace_seconds=60,
            body_min_bytes_per_second=1000,
            header_timeout_seconds=60,
            idle_timeout_seconds=60,
        ),
    )
    with running.running():
        yield running


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    """Few connections, and time bounds long enough that slow clients hold theirs."""
    running = build(
        tmp_path_factory.mktemp("capped"),
        extra=limits(
            max_connections=CAP,
            header_timeout_seconds=60,
            idle_timeout_seconds=60,
            body_grace_seconds=60,
            body_min_bytes_per_second=1,
        ),
    )
    with running.running():
        yield running


def connect(appliance: Appliance) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", appliance.port), timeout=GENEROUS)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response (status, headers, body with Content-Length) from `sock`."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(status_line.split()[1]), headers, body


def closed_by_server(sock: socket.socket, trickle: bytes = b"", every: float = 0.2) -> bool:
    """Whether the server closes `sock` within GENEROUS seconds while the client sends
    `trickle` a byte at a time every `every` seconds (nothing when empty), reading and
    dropping what the server says."""
    sock.settimeout(every)
    deadline = time.monotonic() + GENEROUS
    position = 0
    while time.monotonic() < deadline:
        if trickle:
            try:
                sock.sendall(trickle[position % len(trickle) : position % len(trickle) + 1])
            except OSError:
                return True
            position += 1
        try:
            if sock.recv(65536) == b"":
                return True
        except TimeoutError:
            continue
        except OSError:
            return True
    return False


def get(path: str, *headers: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: appliance", *headers, "", ""]
    return "\r\n".join(lines).encode()


def peak_rss_bytes(appliance: Appliance) -> int:
    assert appliance.process is not None
    status = Path(f"/proc/{appliance.process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def assert_error(status: int, headers: dict[str, str], body: bytes, code: str) -> None:
    error = json.loads(body)
    assert (status, error["code"]) == (
        {"headers_too_large": 431, "too_many_connections": 503}[code],
        code,
    )
    assert error["request_id"] == headers["x-request-id"]
    assert headers["connection"] == "close"
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"


# Defect 1: header size and count


def test_four_64_mb_headers_are_refused_without_being_read(appliance: Appliance) -> None:
    """Four clients each send an X-API-Key of 64 MB: each is answered 431 (or reset) long
    before the server has read it, the server's peak memory does not grow by one such header,
    and /health/live answers meanwhile."""
    huge = 64 * 1024 * 1024
    peak_before = peak_rss_bytes(appliance)
    outcomes: list[tuple[int, bytes]] = []

    def attack() -> None:
        with connect(appliance) as sock:
            sent = 0
            head = get("/fax", "X-API-Key: ")[:-4]  # the request line, Host, the header's start
            sock.sendall(head)
            chunk = b"a" * (1024 * 1024)
            try:
                while sent < huge:
                    sock.sendall(chunk)
                    sent += len(chunk)
            except OSError:
                pass
            try:
                answer = sock.recv(4096)
            except OSError:
                answer = b""
            outcomes.append((sent, answer))

    attackers = [threading.Thread(target=attack) for _ in range(4)]
    for thread in attackers:
        thread.start()
    with httpx.Client(base_url=appliance.url, timeout=GENEROUS) as client:
        while any(thread.is_alive() for thread in attackers):
            assert client.get("/health/live").status_code == 200
            time.sleep(0.05)
    for thread in attackers:
        thread.join()
    assert len(outcomes) == 4
    for sent, answer in outcomes:
        assert sent < huge  # the server stopped reading: the client could not send it all
        assert answer == b"" or answer.startswith(b"HTTP/1.1 431 ")
    assert peak_rss_bytes(appliance) - peak_before < huge


def test_headers_over_the_size_limit_are_answered_431(appliance: Appliance) -> None:
    with connect(appliance) as sock:
        sock.sendall(get("/health/live", f"X-Padding: {'p' * MAX_HEADER_BYTES}"))
        assert_error(*read_response(sock), "headers_too_large")
        assert closed_by_server(sock)


def test_too_many_headers_are_answered_431(appliance: Appliance) -> None:
    with connect(appliance) as sock:
        sock.sendall(get("/health/live", *(f"X-H{i}: {i}" for i in range(MAX_HEADERS + 1))))
        assert_error(*read_response(sock), "headers_too_large")
    with connect(appliance) as sock:  # at the limit: served
        sock.sendall(get("/health/live", *(f"X-H{i}: {i}" for i in range(MAX_HEADERS - 1))))
        assert read_response(sock)[0] == 200


# Defect 2: slow and idle clients, the connection cap


def test_trickled_headers_are_closed_after_the_header_timeout(appliance: Appliance) -> None:
    with connect(appliance) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: appliance\r\n")
        assert closed_by_server(sock, trickle=b"X-Slow: a\r\n")


def test_a_trickled_body_is_closed(appliance: Appliance) -> None:
    """A POST /fax with a valid key whose body comes a byte at a time."""
    head = (
        "POST /fax HTTP/1.1\r\nHost: appliance\r\n"
        f"X-API-Key: {appliance.tokens['admin']}\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n"
    )
    with connect(appliance) as sock:
        sock.sendall(head.encode())
        assert closed_by_server(sock, trickle=b"--b\r\n", every=0.5)


def test_idle_connections_are_closed(appliance: Appliance) -> None:
    with connect(appliance) as sock:  # never sends a byte
        assert closed_by_server(sock)
    with connect(appliance) as sock:  # kept alive after a response
        sock.sendall(get("/health/live"))
        status, headers, _ = read_response(sock)
        assert status == 200
        assert headers.get("connection") != "close"
        assert closed_by_server(sock)


def test_a_connection_serves_at_most_max_requests_per_connection(appliance: Appliance) -> None:
    with connect(appliance) as sock:
        for _ in range(2):
            sock.sendall(get("/health/live"))
            status, headers, _ = read_response(sock)
            assert (status, headers.get("connection")) == (200, None)
        sock.sendall(get("/health/live"))
        status, headers, _ = read_response(sock)
        assert (status, headers["connection"]) == (200, "close")
        assert sock.recv(1) == b""


def test_at_the_cap_a_new_client_displaces_the_longest_waiting_trickler(
    capped: Appliance,
) -> None:
    with ExitStack() as stack:
        tricklers = []
        for _ in range(CAP):
            trickler = stack.enter_context(connect(capped))
            trickler.sendall(b"GET /health/live HTTP/1.1\r\nHost: appliance\r\n")
            tricklers.append(trickler)
        with connect(capped) as client:
            client.sendall(get("/health/live"))
            assert read_response(client)[0] == 200
        assert closed_by_server(tricklers[0])


def test_at_the_cap_a_new_client_displaces_the_slowest_body(slow_bodies: Appliance) -> None:
    """Every connection is sending a POST /fax body far under the minimum rate, still within
    its grace: a new client is served, and one of them is closed for it."""
    head = (
        "POST /fax HTTP/1.1\r\nHost: appliance\r\n"
        f"X-API-Key: {slow_bodies.tokens['admin']}\r\nExpect: 100-continue\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 4096\r\n\r\n"
    )
    with ExitStack() as stack:
        senders = []
        for _ in range(CAP):
            sender = stack.enter_context(connect(slow_bodies))
            sender.sendall(head.encode())
            assert sender.recv(64).startswith(b"HTTP/1.1 100 ")
            sender.sendall(b"--b\r\n")
            senders.append(sender)
        time.sleep(1.5)  # a body's rate is judged once it has been measured for a second
        with connect(slow_bodies) as client:
            client.sendall(get("/health/live"))
            assert read_response(client)[0] == 200
        deadline = time.monotonic() + GENEROUS
        while not any(_closed_now(sender) for sender in senders):
            assert time.monotonic() < deadline, "no slow body gave way"
            time.sleep(0.1)


def _closed_now(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(65536) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_over_the_cap_with_every_request_in_progress_new_clients_get_503(
    capped: Appliance,
) -> None:
    """Every connection is sending a POST /fax body (the server asked for it: 100 Continue):
    a new client is answered 503 while they are served; once they are gone, new clients are
    served again."""
    length = 4096
    first_part = b"--b\r\n" + b"x" * 2000
    head = (
        "POST /fax HTTP/1.1\r\nHost: appliance\r\n"
        f"X-API-Key: {capped.tokens['admin']}\r\nExpect: 100-continue\r\n"
        f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {length}\r\n\r\n"
    )
    with ExitStack() as stack:
        senders = []
        for _ in range(CAP):
            sender = stack.enter_context(connect(capped))
            sender.sendall(head.encode())
            assert sender.recv(64).startswith(b"HTTP/1.1 100 ")  # the body is being read
            sender.sendall(first_part)  # well over the minimum rate
            senders.append(sender)
        answered = 0
        for _ in range(3):
            with connect(capped) as extra:
                try:
                    extra.sendall(get("/health/live"))
                    status, headers, body = read_response(extra)
                except OSError:  # closed before the client read the answer
                    continue
                assert_error(status, headers, body, "too_many_connections")
                assert headers["retry-after"] == "1"
                answered += 1
        assert answered >= 1  # the 503 is read, at least when the request came after it
        senders[0].sendall(b"x" * (length - len(first_part)))  # one finishes: it is answered
        status, _, body = read_response(senders[0])
        assert 400 <= status < 500
        assert json.loads(body)["code"]
    deadline = time.monotonic() + GENEROUS
    while True:  # the senders are gone: new clients are served again
        try:
            if httpx.get(f"{capped.url}/health/live", timeout=GENEROUS).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "new clients are not served again"
        time.sleep(0.1)


# Defect 9: the spec needs a key, and every response's headers


def test_the_spec_needs_a_key_of_any_scope(appliance: Appliance) -> None:
    response = httpx.get(f"{appliance.url}/openapi.json")
    assert (response.status_code, response.json()["code"]) == (401, "missing_api_key")
    with appliance.client("reader") as client:  # fax:read only
        response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.content == (REPO / "docs" / "openapi.json").read_bytes()


@pytest.mark.parametrize(
    ("path", "key", "status"),
    [
        ("/health/live", "", 200),
        ("/health/ready", "", 200),
        ("/health", "", 200),
        ("/openapi.json", "admin", 200),
        ("/openapi.json", "", 401),
        ("/config", "admin", 200),
        ("/fax", "", 401),
        ("/no/such/route", "admin", 404),
    ],
)
def test_every_response_says_no_store_and_nosniff(
    appliance: Appliance, path: str, key: str, status: int
) -> None:
    with appliance.client(key) as client:
        response = client.get(path)
    assert response.status_code == status
    assert response.headers.get_list("cache-control") == ["no-store"]
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]


def test_a_malformed_request_is_answered_with_the_same_headers(appliance: Appliance) -> None:
    with connect(appliance) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        status, headers, _ = read_response(sock)
    assert status == 400
    assert (headers["cache-control"], headers["x-content-type-options"]) == ("no-store", "nosniff")
