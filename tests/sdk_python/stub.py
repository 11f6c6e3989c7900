"""Loopback servers for the SDK's retry tests: a scripted HTTP stub, and a TCP proxy in front
of a real appliance that loses the answer to the first POST."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


@dataclass
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering, for timeouts

    @classmethod
    def json(cls, status: int, body: object, headers: dict[str, str] | None = None) -> Answer:
        return cls(
            status,
            json.dumps(body).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )


@dataclass
class Received:
    at: float  # time.monotonic() when the request was read
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


JOB = {
    "id": "0f3c9a1e2b7d4c5a8e6f1a2b3c4d5e6f",
    "to": "+12025550143",
    "status": "queued",
    "pages": 1,
    "error": None,
    "backend": "test",
    "provider_sid": None,
    "created_at": "2024-05-01T12:00:00Z",
    "updated_at": "2024-05-01T12:00:00Z",
}


class StubServer:
    """Answers requests with `answers` in order (the last one repeats) and records them."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.received: list[Received] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                stub.received.append(
                    Received(
                        time.monotonic(),
                        self.command,
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                    )
                )
                answer = stub.answers[min(len(stub.received), len(stub.answers)) - 1]
                time.sleep(answer.delay)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = False  # server_close() waits for answers still due
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def _listen() -> socket.socket:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.02)  # a blocked accept() would not notice close() from another thread
    return listener


def _accepted(listener: socket.socket) -> socket.socket | None:
    """The next connection, or None once the listener is closed."""
    while listener.fileno() != -1:
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        except OSError:
            return None
        connection.settimeout(None)
        return connection
    return None


class HangUp:
    """Accepts connections and closes each at once, counting them: a server that dies."""

    def __init__(self) -> None:
        self.listener = _listen()
        self.accepted = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _serve(self) -> None:
        while (connection := _accepted(self.listener)) is not None:
            self.accepted += 1
            connection.close()

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.listener.close()
        self.thread.join(5)


def _read_head(sock: socket.socket, buffer: bytes = b"") -> bytes:
    """Read until the end of an HTTP head; what was read, head and any body bytes after it."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buffer += chunk
    return buffer


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
        target.shutdown(socket.SHUT_WR)
    except OSError:
        pass


class DroppingProxy:
    """Forwards loopback connections to `port`. The first POST is forwarded whole and answered
    by the appliance, but the answer is kept here (`swallowed`) and the client's connection is
    closed: the job exists, and the client sees a dropped connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.listener = _listen()
        self.posts: list[bytes] = []  # heads of POSTs that opened a connection
        self.swallowed: bytes | None = None
        self.threads: list[threading.Thread] = []
        self.accepting = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _accept(self) -> None:
        while (client := _accepted(self.listener)) is not None:
            thread = threading.Thread(target=self._connection, args=(client,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _connection(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.port))
        try:
            first = _read_head(client)
            if first.startswith(b"POST "):
                self.posts.append(first.split(b"\r\n\r\n", 1)[0])
            upstream.sendall(first)
            forward = threading.Thread(target=_pump, args=(client, upstream), daemon=True)
            forward.start()
            if first.startswith(b"POST ") and self.swallowed is None:
                answer = _read_head(upstream)
                head, _, body = answer.partition(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                while len(body) < length:
                    body += upstream.recv(65536)
                self.swallowed = head + b"\r\n\r\n" + body
                client.shutdown(socket.SHUT_RDWR)  # the answer never reaches the client
            else:
                _pump(upstream, client)
            forward.join(10)
        finally:
            client.close()
            upstream.close()

    def __enter__(self) -> Self:
        self.accepting.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.listener.close()
        self.accepting.join(5)
        for thread in self.threads:
            thread.join(10)


__all__ = ["JOB", "Answer", "DroppingProxy", "HangUp", "Received", "StubServer"]
