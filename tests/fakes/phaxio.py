"""A Phaxio of our own: a real HTTP server on loopback, in a thread, speaking Phaxio's API v2.1
as ../shared/PROTOCOLS.md and Phaxio's public docs describe it (not as our plugin uses it).

It takes faxes (`POST /faxes`, multipart with a `file`, or a `content_url` it fetches), answers
their status (`GET /faxes/{id}`), lists them (`GET /faxes` with direction, status, tag and time
filters, paged, newest first), serves and deletes their files, and calls each fax's
`callback_url` back with a multipart body signed by its own implementation of
`X-Phaxio-Signature`. Fault switches: turn the next sends away with 429/503, accept a send and
never answer it, fail faxes to chosen numbers with a chosen error, add latency to every call,
deliver each callback twice, lose callbacks (status by polling only), and deliver a received
fax. `accepted` counts the faxes it took, so a test can assert there is exactly one."""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import secrets
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from tests.fakes.tls import self_signed, server_context

PREFIX = "/v2.1/"


def phaxio_signature(
    token: str, url: str, fields: Mapping[str, str], files: Mapping[str, bytes]
) -> str:
    """Phaxio's algorithm, written from its docs: HMAC-SHA1 keyed with the callback token over
    the URL, then name+value of each field by name, then name+sha1hex of each file by name."""
    text = url + "".join(k + fields[k] for k in sorted(fields))
    text += "".join(k + hashlib.sha1(files[k]).hexdigest() for k in sorted(files))  # noqa: S324
    return hmac.new(token.encode(), text.encode(), hashlib.sha1).hexdigest()


def multipart(fields: Mapping[str, str], files: Mapping[str, bytes]) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts += [
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{k}.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + v
        + b"\r\n"
        for k, v in files.items()
    ]
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _now_rfc3339(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")


def _parse_time(value: str) -> float:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


@dataclass
class FakeFax:
    id: int
    direction: str  # sent | received
    created_at: float
    completes_at: float
    number: str  # the recipient (sent) or the sender (received)
    our_number: str | None = None  # received: the number it arrived on
    tags: dict[str, str] = field(default_factory=dict)
    file: bytes | None = None
    callback_url: str | None = None
    header_text: str | None = None
    caller_id: str | None = None
    content_url: str | None = None
    error: tuple[str, str] | None = None  # (error_type, error_message) when it fails
    num_pages: int = 1
    file_deleted: bool = False
    held: bool = False  # in progress, whatever the time, until released
    partial: bool = False  # with error: ends partialsuccess (a batch reached in part)

    def status(self, now: float, final: bool = False) -> str:
        """Its status at `now`; `final`: as if it were not held."""
        if (self.held and not final) or now < self.completes_at:
            return (
                "queued"
                if now < self.created_at + (self.completes_at - self.created_at) / 2
                else "inprogress"
            )
        if self.error:
            return "partialsuccess" if self.partial else "failure"
        return "success"

    def as_json(self, now: float, final: bool = False) -> dict[str, Any]:
        status = self.status(now, final)
        done = status in ("success", "failure", "partialsuccess")
        body: dict[str, Any] = {
            "id": self.id,
            "direction": self.direction,
            "num_pages": self.num_pages,
            "status": status,
            "is_test": False,
            "created_at": _now_rfc3339(self.created_at),
            "completed_at": _now_rfc3339(self.completes_at) if done else None,
            "tags": dict(self.tags),
            "cost": 7,
            "error_type": self.error[0] if done and self.error else None,
            "error_message": self.error[1] if done and self.error else None,
            "error_id": 34 if done and self.error else None,
        }
        if self.direction == "sent":
            body["caller_id"] = self.caller_id
            body["from_number"] = None
            body["to_number"] = None
            body["recipients"] = [
                {
                    "phone_number": self.number,
                    "status": status,
                    "retry_count": 0,
                    "error_type": body["error_type"],
                    "error_message": body["error_message"],
                }
            ]
        else:
            body["from_number"] = self.number
            body["to_number"] = self.our_number
            body["caller_id"] = None
        return body


class PhaxioFake:
    def __init__(
        self,
        *,
        api_key: str = "fake-api-key",
        api_secret: str = "fake-api-secret",  # noqa: S107 - a fake's own credentials
        callback_token: str = "fake-callback-token",  # noqa: S107
        complete_after: float = 0.05,
        deliver_via: Mapping[str, str] | None = None,
        tls_dir: Path | None = None,
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.callback_token = callback_token
        self.complete_after = complete_after
        # A reverse proxy in front of the appliance: a callback URL starting with a key goes to
        # the value instead, signed for the URL as registered (an https public_url, say).
        self.deliver_via = dict(deliver_via or {})
        # fault switches
        self.latency = 0.0
        self.fail_numbers: dict[str, tuple[str, str]] = {}  # number -> (error type, message)
        self.partial_numbers: set[str] = set()  # of fail_numbers: partialsuccess, not failure
        self.duplicate_callbacks = False
        self.lose_callbacks = False
        self.inflight_callbacks = False  # also a transmitting_page event before completion
        # Faxes taken while set stay in progress (polling says so, no callback) until
        # release(): their end comes only by the callback release() posts.
        self.hold = False
        # what happened
        self.faxes: dict[int, FakeFax] = {}
        self.callbacks: list[tuple[str, int]] = []  # (url, status code) of each delivery
        self.content_fetches: list[tuple[str, int]] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of each API call
        self._refuse: list[int] = []
        self._unsuccessful = 0
        self._hang = 0
        self._ids = itertools.count(323034811)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._schedule: list[tuple[float, int, Any]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._pool = ThreadPoolExecutor(8, thread_name_prefix="phaxio-fake-callback")
        self._http = httpx.Client(timeout=30)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.ca_file: Path | None = None  # with tls_dir: the certificate to trust, PEM
        self._scheme = "http"
        if tls_dir is not None:
            self.ca_file, key_file = self_signed(tls_dir, "phaxio-fake")
            context = server_context(self.ca_file, key_file)
            self._server.socket = context.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
            self._scheme = "https"
        self._threads: list[threading.Thread] = []

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"{self._scheme}://127.0.0.1:{self._server.server_address[1]}{PREFIX}"

    def start(self) -> PhaxioFake:
        for target in (self._server.serve_forever, self._run_schedule):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        self._server.shutdown()
        self._server.server_close()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._http.close()
        for thread in self._threads:
            thread.join(10)

    def __enter__(self) -> PhaxioFake:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- switches and views -----------------------------------------------------------------

    def refuse_next(self, count: int, status: int = 429) -> None:
        """Turn the next `count` sends away with `status` (429 or 503), before acceptance."""
        with self._lock:
            self._refuse += [status] * count

    def unsuccessful_next(self, count: int = 1) -> None:
        """Answer the next `count` sends 200 with `success: false` (taking nothing)."""
        with self._lock:
            self._unsuccessful += count

    def hang_next(self, count: int = 1) -> None:
        """Accept the next `count` sends, then never answer them (the client times out)."""
        with self._lock:
            self._hang += count

    @property
    def accepted(self) -> int:
        """Faxes taken for sending."""
        with self._lock:
            return sum(1 for f in self.faxes.values() if f.direction == "sent")

    def sent(self) -> list[FakeFax]:
        with self._lock:
            return [f for f in self.faxes.values() if f.direction == "sent"]

    def deliver_inbound(
        self, callback_url: str, pdf: bytes, sender: str, recipient: str, pages: int = 1
    ) -> int:
        """A fax arrives for `recipient`: stored, and posted to `callback_url` with its PDF.
        Returns its id once the callback was delivered (or lost)."""
        now = time.time()
        with self._lock:
            fax = FakeFax(
                next(self._ids),
                "received",
                now,
                now,
                sender,
                our_number=recipient,
                file=pdf,
                callback_url=callback_url,
                num_pages=pages,
            )
            self.faxes[fax.id] = fax
        self._deliver(fax, "fax_completed")
        return fax.id

    def release(self, fax_id: int) -> int:
        """End a held fax by its callback alone: the callback (final status) is posted first,
        and only once it was answered does polling see the end too. Its HTTP status."""
        fax = self.faxes[fax_id]
        fax.completes_at = time.time()
        status = self._deliver(fax, "fax_completed", final=True)
        fax.held = False
        return status

    def callback(self, fax_id: int, event_type: str = "fax_completed") -> int:
        """Deliver a fax's callback again now (a replay); its HTTP status."""
        return self._deliver(self.faxes[fax_id], event_type)

    def signed_callback(
        self, fax_id: int, event_type: str = "fax_completed", final: bool = False
    ) -> tuple[str, bytes, dict[str, str]]:
        """The callback of `fax_id` as it would be posted: (url, body, headers)."""
        fax = self.faxes[fax_id]
        assert fax.callback_url is not None
        fields, files = self._callback_parts(fax, event_type, final)
        body, content_type = multipart(fields, files)
        signature = phaxio_signature(self.callback_token, fax.callback_url, fields, files)
        return (
            fax.callback_url,
            body,
            {"Content-Type": content_type, "X-Phaxio-Signature": signature},
        )

    # -- callbacks --------------------------------------------------------------------------

    def _callback_parts(
        self, fax: FakeFax, event_type: str, final: bool = False
    ) -> tuple[dict[str, str], dict[str, bytes]]:
        now = max(time.time(), fax.completes_at) if event_type == "fax_completed" else time.time()
        body = fax.as_json(now, final)
        fields = {
            "success": "true" if body["status"] == "success" else "false",
            "is_test": "false",
            "direction": fax.direction,
            "event_type": event_type,
            "fax": json.dumps(body),
        }
        files = {"file": fax.file} if fax.direction == "received" and fax.file is not None else {}
        return fields, files

    def _deliver(self, fax: FakeFax, event_type: str, final: bool = False) -> int:
        if fax.callback_url is None or self.lose_callbacks:
            return 0
        url, body, headers = self.signed_callback(fax.id, event_type, final)
        url = self._routed(url)
        status = 0
        for _ in range(2 if self.duplicate_callbacks else 1):
            try:
                status = self._http.post(url, content=body, headers=headers).status_code
            except httpx.HTTPError:
                status = -1
            with self._lock:
                self.callbacks.append((url, status))
        return status

    def _routed(self, url: str) -> str:
        for prefix, target in self.deliver_via.items():
            if url.startswith(prefix):
                return target + url[len(prefix) :]
        return url

    def _later(self, at: float, task: Any) -> None:
        with self._wake:
            heapq.heappush(self._schedule, (at, next(self._order), task))
            self._wake.notify()

    def _run_schedule(self) -> None:
        while not self._stopping.is_set():
            with self._wake:
                while not self._stopping.is_set() and (
                    not self._schedule or self._schedule[0][0] > time.time()
                ):
                    wait = self._schedule[0][0] - time.time() if self._schedule else None
                    self._wake.wait(wait)
                if self._stopping.is_set():
                    return
                _, _, task = heapq.heappop(self._schedule)
            try:
                self._pool.submit(task)
            except RuntimeError:  # shut down
                return

    # -- the API ----------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._api(self, "GET")

            def do_POST(self) -> None:
                fake._api(self, "POST")

            def do_DELETE(self) -> None:
                fake._api(self, "DELETE")

        return Handler

    def _api(self, request: BaseHTTPRequestHandler, method: str) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        parts = urlsplit(request.path)
        with self._lock:
            self.requests.append((method, parts.path))
        if self.latency:
            time.sleep(self.latency)
        if not self._authorized(request.headers.get("Authorization", "")):
            return _reply(request, 401, {"success": False, "message": "Invalid API credentials"})
        if not parts.path.startswith(PREFIX):
            return _reply(request, 404, {"success": False, "message": "Not found"})
        path = parts.path[len(PREFIX) :].strip("/").split("/")
        query = parse_qsl(parts.query, keep_blank_values=True)
        if method == "POST" and path == ["faxes"]:
            return self._send(request, body)
        if method == "GET" and path == ["faxes"]:
            return self._list(request, query)
        if method == "GET" and path == ["account", "status"]:
            return _reply(
                request,
                200,
                {
                    "success": True,
                    "message": "Account status retrieved successfully",
                    "data": {"balance": 1000},
                },
            )
        if len(path) >= 2 and path[0] == "faxes" and path[1].isdigit():
            fax = self.faxes.get(int(path[1]))
            if fax is None:
                return _reply(request, 404, {"success": False, "message": "Fax not found"})
            if method == "GET" and len(path) == 2:
                return _reply(
                    request,
                    200,
                    {
                        "success": True,
                        "message": "Retrieved fax successfully",
                        "data": fax.as_json(time.time()),
                    },
                )
            if path[2:] == ["file"] and method == "GET":
                if fax.file is None or fax.file_deleted:
                    return _reply(request, 404, {"success": False, "message": "File not found"})
                return _reply_bytes(request, 200, fax.file, "application/pdf")
            if path[2:] == ["file"] and method == "DELETE":
                with self._lock:
                    fax.file_deleted = True
                return _reply(
                    request, 200, {"success": True, "message": "Deleted files successfully!"}
                )
        return _reply(request, 404, {"success": False, "message": "Not found"})

    def _authorized(self, header: str) -> bool:
        expected = base64.b64encode(f"{self.api_key}:{self.api_secret}".encode()).decode()
        return hmac.compare_digest(header.encode(), f"Basic {expected}".encode())

    def _send(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        fields, files = _form(request.headers.get("Content-Type", ""), body)
        to = fields.get("to") or fields.get("to[]")
        if not to:
            return _reply(request, 422, {"success": False, "message": "The to field is required."})
        if len(fields.get("header_text", "")) > 50:
            return _reply(
                request,
                422,
                {
                    "success": False,
                    "message": "The header text may not be greater than 50 characters.",
                },
            )
        with self._lock:
            refused = self._refuse.pop(0) if self._refuse else None
            unsuccessful = self._unsuccessful > 0
            self._unsuccessful -= 1 if unsuccessful else 0
        if unsuccessful:
            return _reply(request, 200, {"success": False, "message": "Fax could not be queued"})
        if refused is not None:
            message = "Too many requests" if refused == 429 else "Service temporarily unavailable"
            return _reply(request, refused, {"success": False, "message": message})
        document = files.get("file") or files.get("file[]")
        content_url = fields.get("content_url")
        if content_url:
            try:
                fetched = self._http.get(self._routed(content_url))
                status = fetched.status_code
            except httpx.HTTPError:
                status = -1
            with self._lock:
                self.content_fetches.append((content_url, status))
            if status != 200:
                return _reply(
                    request, 422, {"success": False, "message": "Could not retrieve content_url"}
                )
            document = fetched.content
        if not document:
            return _reply(
                request,
                422,
                {"success": False, "message": "You must include a file or content_url."},
            )
        now = time.time()
        tags = {k[4:-1]: v for k, v in fields.items() if k.startswith("tag[") and k.endswith("]")}
        with self._lock:
            fax = FakeFax(
                next(self._ids),
                "sent",
                now,
                now + self.complete_after,
                to,
                tags=tags,
                file=document,
                callback_url=fields.get("callback_url"),
                header_text=fields.get("header_text"),
                caller_id=fields.get("caller_id"),
                content_url=content_url,
                error=self.fail_numbers.get(to),
                partial=to in self.partial_numbers,
                held=self.hold,
            )
            self.faxes[fax.id] = fax
            hang = self._hang > 0
            self._hang -= 1 if hang else 0
        if fax.held:
            pass  # its end waits for release()
        elif self.inflight_callbacks:
            self._later(
                now + self.complete_after / 2, lambda: self._deliver(fax, "transmitting_page")
            )
        if not fax.held:
            self._later(fax.completes_at, lambda: self._deliver(fax, "fax_completed"))
        if hang:  # accepted; the answer never comes (the connection closes at stop)
            self._stopping.wait()
            request.close_connection = True
            return None
        return _reply(
            request,
            200,
            {"success": True, "message": "Fax queued for sending", "data": {"id": fax.id}},
        )

    def _list(self, request: BaseHTTPRequestHandler, query: list[tuple[str, str]]) -> None:
        params = dict(query)
        now = time.time()
        after = (
            _parse_time(params["created_after"]) if "created_after" in params else now - 7 * 86400
        )
        before = _parse_time(params["created_before"]) if "created_before" in params else now
        tags = {k[4:-1]: v for k, v in query if k.startswith("tag[") and k.endswith("]")}
        with self._lock:
            found = [
                f
                for f in self.faxes.values()
                if after <= f.created_at <= before
                and params.get("direction") in (None, f.direction)
                and params.get("status") in (None, f.status(now))
                and all(f.tags.get(k) == v for k, v in tags.items())
            ]
        found.sort(key=lambda f: f.created_at, reverse=True)
        per_page = min(int(params.get("per_page", 20)), 1000)
        page = int(params.get("page", 1))
        chosen = found[(page - 1) * per_page : page * per_page]
        _reply(
            request,
            200,
            {
                "success": True,
                "message": "Retrieved faxes successfully",
                "data": [f.as_json(now) for f in chosen],
                "paging": {"total": len(found), "per_page": per_page, "page": page},
            },
        )


def _form(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    if content_type.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(body.decode(), keep_blank_values=True)), {}
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if not isinstance(name, str) or not isinstance(payload, bytes):
            continue
        if part.get_filename() is not None:
            files[name] = payload
        else:
            fields[name] = payload.decode()
    return fields, files


def _reply(request: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
    _reply_bytes(request, status, json.dumps(body).encode(), "application/json")


def _reply_bytes(
    request: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str
) -> None:
    request.send_response(status)
    request.send_header("Content-Type", content_type)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)
