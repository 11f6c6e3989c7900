"""A Sinch of our own: a real HTTP server on loopback, in a thread, speaking the Sinch Fax API v3
as ../shared/PROTOCOLS.md and Sinch's public API reference describe it (not as our plugin uses
it).

- `POST /oauth2/token`: OAuth2 client credentials (Basic `keyId:keySecret`, form
  `grant_type=client_credentials`) -> `{"access_token", "token_type", "expires_in", "scope"}`.
  Tokens live `token_lifetime` seconds (switchable); `revoke` makes one answer 401 at once;
  `tokens_issued` counts them.
- Under `/v3/projects/{projectId}` (bearer token): `POST /faxes` (multipart `to`, `from`,
  `file`, `labels` as a JSON part, `callbackUrl`, `callbackUrlContentType`, `headerText`; or
  JSON with `files: [{"file": base64, "fileType": "PDF"}]`), `GET /faxes/{id}`,
  `GET /faxes` (filters `direction`, `status`, `createTime>`/`createTime<`, 1-based `page`,
  `pageSize`, newest first, `{"faxes", "page", "pageSize", "totalItems", "totalPages"}`),
  `GET /faxes/{id}/file.pdf`, `DELETE /faxes/{id}/file`. Errors are
  `{"code", "error", "message"}` with the HTTP status.
- Webhooks: `FAX_COMPLETED` to a fax's `callbackUrl` when it ends, with the Basic credentials
  of the URL's userinfo (the URL itself is called without them), as multipart (`event`,
  `eventTime`, `fax` as a JSON string, the PDF as part `file`) or JSON (`fax` an object, `file`
  base64) as `callbackUrlContentType` asks; `deliver_inbound` posts an `INCOMING_FAX`.

Fault switches: `refuse_next(n, status)` (429/503 before accepting), `hang_next(n)` (accept the
fax, never answer), `fail_numbers` (a FAILURE with a chosen errorType/errorCode/errorMessage),
`latency`, `duplicate_callbacks`, `lose_callbacks`. `accepted` counts the faxes it took. With
`tls_dir` it speaks https with a self-signed certificate (`ca_file`), and `deliver_via` maps a
public callback URL to the loopback address behind it, as a TLS-terminating proxy would."""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

import httpx

from tests.fakes.tls import self_signed, server_context

STATUSES = ("QUEUED", "IN_PROGRESS", "COMPLETED", "FAILURE")


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> float:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    """Form fields and file parts of a multipart/form-data body (a part with a filename, or a
    non-text content type other than JSON, is a file)."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if not isinstance(name, str):
            continue
        if part.get_filename() is not None:
            files[name] = payload
        else:
            fields[name] = payload.decode("utf-8")
    return fields, files


def multipart(fields: Mapping[str, str], files: Mapping[str, bytes]) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    chunks = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    chunks += [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{k}.pdf"\r\n'
        f"Content-Type: application/pdf\r\n\r\n".encode()
        + v
        + b"\r\n"
        for k, v in files.items()
    ]
    return b"".join(chunks) + f"--{boundary}--\r\n".encode(), (
        f"multipart/form-data; boundary={boundary}"
    )


@dataclass
class FakeFax:
    id: str
    direction: str  # OUTBOUND | INBOUND
    to: str
    sender: str | None
    created_at: float
    completes_at: float
    file: bytes | None
    labels: dict[str, str] = field(default_factory=dict)
    callback_url: str | None = None
    callback_content_type: str = "multipart/form-data"
    header_text: str | None = None
    error: tuple[str, int, str] | None = None  # errorType, errorCode, errorMessage
    pages: int = 1
    called_back: bool = False

    def status(self, now: float) -> str:
        if now < self.completes_at:
            halfway = self.created_at + (self.completes_at - self.created_at) / 2
            return "QUEUED" if now < halfway else "IN_PROGRESS"
        return "FAILURE" if self.error else "COMPLETED"

    def as_json(self, project_id: str, now: float) -> dict[str, Any]:
        status = self.status(now)
        body: dict[str, Any] = {
            "id": self.id,
            "direction": self.direction,
            "from": self.sender,
            "to": self.to,
            "numberOfPages": self.pages,
            "status": status,
            "createTime": iso(self.created_at),
            "labels": dict(self.labels),
            "hasFile": "true" if self.file is not None else "false",
            "projectId": project_id,
        }
        if status in ("COMPLETED", "FAILURE"):
            body["completedTime"] = iso(self.completes_at)
        if self.callback_url is not None:
            # Sinch masks the credentials of a callback URL when it is read back.
            parts = urlsplit(self.callback_url)
            masked = parts.hostname or ""
            if parts.port:
                masked += f":{parts.port}"
            body["callbackUrl"] = urlunsplit(parts._replace(netloc=f"****:****@{masked}"))
            body["callbackUrlContentType"] = self.callback_content_type
        if self.header_text is not None:
            body["headerText"] = self.header_text
        if status == "FAILURE" and self.error:
            body["errorType"], body["errorCode"], body["errorMessage"] = self.error
        return body


@dataclass
class Callback:
    url: str
    event: str
    status: int | None  # what the receiver answered (None: no answer)
    answer: bytes = b""


class FakeSinch:
    def __init__(
        self,
        project_id: str = "proj-7e3a",
        key_id: str = "fake-key-id",
        key_secret: str | None = None,
        completes_after: float = 0.3,
        tls_dir: Path | None = None,
    ) -> None:
        self.project_id = project_id
        self.key_id = key_id
        self.key_secret = key_secret or secrets.token_urlsafe(16)
        self.completes_after = completes_after
        self.token_lifetime = 3600.0
        self.latency = 0.0
        self.duplicate_callbacks = False
        self.lose_callbacks = False
        self.fail_numbers: dict[str, tuple[str, int, str]] = {}
        self.faxes: dict[str, FakeFax] = {}
        self.tokens_issued = 0
        self.deleted_files: list[str] = []
        self.callbacks: list[Callback] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every API call
        self.rejected_tokens = 0  # API calls answered 401
        self._tokens: dict[str, float] = {}  # token -> expiry
        self._refusals: list[int] = []
        self._hangs = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._timers: list[threading.Timer] = []
        self.deliver_via: dict[str, str] = {}  # public URL -> where it really is (a proxy)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._scheme = "http"
        self.ca_file: Path | None = None  # with tls_dir: the certificate to trust (PEM)
        if tls_dir is not None:
            self.ca_file, key_file = self_signed(tls_dir, "sinch-fake")
            context = server_context(self.ca_file, key_file)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self._scheme = "https"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- the switches ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The Fax API's base URL (what `api_base_url` takes)."""
        return f"{self._scheme}://127.0.0.1:{self._server.server_address[1]}"

    @property
    def token_url(self) -> str:
        return f"{self.url}/oauth2/token"

    @property
    def accepted(self) -> int:
        """Faxes taken for sending."""
        with self._lock:
            return sum(1 for f in self.faxes.values() if f.direction == "OUTBOUND")

    def outbound(self) -> list[FakeFax]:
        with self._lock:
            return [f for f in self.faxes.values() if f.direction == "OUTBOUND"]

    def refuse_next(self, count: int, status: int = 429) -> None:
        """Answer the next `count` sends with `status` (429 or 503), taking nothing."""
        with self._lock:
            self._refusals.extend([status] * count)

    def hang_next(self, count: int = 1) -> None:
        """Take the next `count` faxes, then never answer those requests."""
        with self._lock:
            self._hangs += count

    def revoke(self, token: str | None = None) -> None:
        """Make `token` (default: every token issued so far) answer 401 from now on."""
        with self._lock:
            for known in list(self._tokens):
                if token is None or known == token:
                    self._tokens[known] = 0.0

    def deliver_inbound(
        self,
        url: str,
        document: bytes,
        *,
        sender: str = "+14155550100",
        to: str = "+12025550123",
        content_type: str = "multipart/form-data",
        pages: int = 1,
    ) -> tuple[str, int]:
        """A fax arrives: stored, and `INCOMING_FAX` posted to `url` (credentials in its
        userinfo). Returns the fax id and what the receiver answered."""
        now = time.time()
        fax = FakeFax(
            id=self._new_id(),
            direction="INBOUND",
            to=to,
            sender=sender,
            created_at=now,
            completes_at=now,
            file=document,
            pages=pages,
        )
        with self._lock:
            self.faxes[fax.id] = fax
        status = self._post_event(url, "INCOMING_FAX", fax, content_type)
        return fax.id, status or 0

    def add_inbound(self, document: bytes, *, at: float, sender: str = "+14155550100") -> str:
        """A received fax whose webhook was lost: only the list and file endpoints know it."""
        fax = FakeFax(
            id=self._new_id(),
            direction="INBOUND",
            to="+12025550123",
            sender=sender,
            created_at=at,
            completes_at=at,
            file=document,
        )
        with self._lock:
            self.faxes[fax.id] = fax
        return fax.id

    # -- running ---------------------------------------------------------------------------

    @contextmanager
    def running(self) -> Iterator[FakeSinch]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stopping.set()
            for timer in self._timers:
                timer.cancel()
            self._server.shutdown()
            self._server.server_close()

    def _new_id(self) -> str:
        return f"01F{next(self._ids):05d}{secrets.token_hex(4).upper()}"

    # -- webhooks --------------------------------------------------------------------------

    def _schedule_callback(self, fax: FakeFax) -> None:
        if fax.callback_url is None:
            return
        delay = max(fax.completes_at - time.time(), 0.0)
        timer = threading.Timer(delay, self._complete, (fax,))
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def _complete(self, fax: FakeFax) -> None:
        if self.lose_callbacks or self._stopping.is_set() or fax.callback_url is None:
            return
        for _ in range(2 if self.duplicate_callbacks else 1):
            self._post_event(fax.callback_url, "FAX_COMPLETED", fax, fax.callback_content_type)

    def _post_event(self, url: str, event: str, fax: FakeFax, content_type: str) -> int | None:
        parts = urlsplit(url)
        auth = None
        if parts.username is not None:
            auth = httpx.BasicAuth(unquote(parts.username), unquote(parts.password or ""))
        bare = urlunsplit(
            parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else ""))
        )
        target = bare
        for public, real in self.deliver_via.items():  # a TLS-terminating proxy in front
            if bare.startswith(public):
                target = real + bare[len(public) :]
        fax_json = fax.as_json(self.project_id, time.time())
        event_time = iso(time.time())
        if content_type == "application/json":
            payload: dict[str, Any] = {"event": event, "eventTime": event_time, "fax": fax_json}
            if fax.file is not None:
                payload["file"] = base64.b64encode(fax.file).decode()
                payload["fileType"] = "PDF"
            body, type_header = json.dumps(payload).encode(), "application/json"
        else:
            files = {"file": fax.file} if fax.file is not None else {}
            body, type_header = multipart(
                {"event": event, "eventTime": event_time, "fax": json.dumps(fax_json)}, files
            )
        try:
            answer = httpx.post(
                target,
                content=body,
                headers={"Content-Type": type_header},
                auth=auth,
                timeout=60,  # Sinch waits 60 s for the 200
            )
            status: int | None = answer.status_code
            content = answer.content
        except httpx.HTTPError:
            status, content = None, b""
        with self._lock:
            self.callbacks.append(Callback(bare, event, status, content))
        return status

    # -- the HTTP side ---------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                fake._serve(self, "POST")

            def do_GET(self) -> None:
                fake._serve(self, "GET")

            def do_DELETE(self) -> None:
                fake._serve(self, "DELETE")

        return Handler

    def _serve(self, request: BaseHTTPRequestHandler, method: str) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        if self.latency:
            time.sleep(self.latency)
        parts = urlsplit(request.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        path = parts.path
        if method == "POST" and path == "/oauth2/token":
            return self._token(request, body)
        prefix = f"/v3/projects/{self.project_id}/faxes"
        if not path.startswith("/v3/projects/"):
            return _error(request, 404, "Not Found", "no such endpoint")
        with self._lock:
            self.requests.append((method, path))
        if not self._authorized(request):
            with self._lock:
                self.rejected_tokens += 1
            return _error(request, 401, "Unauthorized", "invalid or expired access token")
        if not (path == prefix or path.startswith(prefix + "/")):
            return _error(request, 404, "Not Found", "project not found")
        rest = path[len(prefix) :].strip("/").split("/") if path != prefix else []
        if method == "POST" and not rest:
            return self._send(request, body)
        if method == "GET" and not rest:
            return self._list(request, query)
        fax = self.faxes.get(rest[0]) if rest else None
        if fax is None:
            return _error(request, 404, "Not Found", "fax not found")
        now = time.time()
        if method == "GET" and len(rest) == 1:
            return _json(request, 200, fax.as_json(self.project_id, now))
        if method == "GET" and rest[1:] == ["file.pdf"]:
            if fax.file is None:
                return _error(request, 404, "Not Found", "the fax has no file")
            return _reply(request, 200, fax.file, "application/pdf")
        if method == "DELETE" and rest[1:] == ["file"]:
            with self._lock:
                fax.file = None
                self.deleted_files.append(fax.id)
            return _json(request, 200, {})
        return _error(request, 404, "Not Found", "no such endpoint")

    def _token(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        expected = "Basic " + base64.b64encode(f"{self.key_id}:{self.key_secret}".encode()).decode()
        form = dict(parse_qsl(body.decode()))
        if request.headers.get("Authorization") != expected:
            return _json(request, 401, {"error": "invalid_client"})
        if form.get("grant_type") != "client_credentials":
            return _json(request, 400, {"error": "unsupported_grant_type"})
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.tokens_issued += 1
            lifetime = self.token_lifetime
            self._tokens[token] = time.time() + lifetime
        answer = {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": lifetime,
            "scope": "",
        }
        return _json(request, 200, answer)

    def _authorized(self, request: BaseHTTPRequestHandler) -> bool:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        with self._lock:
            return scheme.lower() == "bearer" and self._tokens.get(token, 0.0) > time.time()

    def _send(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        with self._lock:
            refusal = self._refusals.pop(0) if self._refusals else None
        if refusal is not None:
            phrase = "Too Many Requests" if refusal == 429 else "Service Unavailable"
            return _error(request, refusal, phrase, "try again later")
        content_type = request.headers.get("Content-Type", "")
        labels: Any = {}
        if content_type.startswith("multipart/form-data"):
            fields, files = parse_multipart(content_type, body)
            document = files.get("file")
            if "labels" in fields:
                try:
                    labels = json.loads(fields["labels"])
                except ValueError:
                    return _error(request, 400, "Bad Request", "labels must be a JSON object")
        elif content_type.startswith("application/json"):
            data = json.loads(body)
            fields = {k: v for k, v in data.items() if isinstance(v, str)}
            encoded = [f.get("file") for f in data.get("files") or []]
            document = base64.b64decode(encoded[0]) if encoded else None
            labels = data.get("labels") or {}
        else:
            return _error(request, 415, "Unsupported Media Type", "multipart or JSON only")
        to = fields.get("to", "")
        if not to.startswith("+") or not to[1:].isdigit():
            return _error(request, 400, "Bad Request", "to must be an E.164 number")
        if document is None and not fields.get("contentUrl"):
            return _error(request, 400, "Bad Request", "a file or contentUrl is required")
        if len(fields.get("headerText", "")) > 50:
            return _error(request, 400, "Bad Request", "headerText is longer than 50 characters")
        if not isinstance(labels, dict):
            return _error(request, 400, "Bad Request", "labels must be a JSON object")
        now = time.time()
        fax = FakeFax(
            id=self._new_id(),
            direction="OUTBOUND",
            to=to,
            sender=fields.get("from"),
            created_at=now,
            completes_at=now + self.completes_after,
            file=document,
            labels={str(k): str(v) for k, v in labels.items()},
            callback_url=fields.get("callbackUrl"),
            callback_content_type=fields.get("callbackUrlContentType", "multipart/form-data"),
            header_text=fields.get("headerText"),
            error=self.fail_numbers.get(to),
        )
        with self._lock:
            self.faxes[fax.id] = fax
            hang = self._hangs > 0
            self._hangs -= 1 if hang else 0
        self._schedule_callback(fax)
        if hang:
            self._stopping.wait()  # taken, never answered
            return None
        return _json(request, 200, fax.as_json(self.project_id, now))

    def _list(self, request: BaseHTTPRequestHandler, query: Mapping[str, str]) -> None:
        now = time.time()
        with self._lock:
            faxes = sorted(self.faxes.values(), key=lambda f: (f.created_at, f.id), reverse=True)
        if "direction" in query:
            faxes = [f for f in faxes if f.direction == query["direction"]]
        if "status" in query:
            faxes = [f for f in faxes if f.status(now) == query["status"]]
        if "createTime>" in query:  # `createTime>=...` in the docs' notation
            faxes = [f for f in faxes if f.created_at >= parse_iso(query["createTime>"])]
        if "createTime<" in query:
            faxes = [f for f in faxes if f.created_at <= parse_iso(query["createTime<"])]
        if not any(k.startswith("createTime") for k in query):
            faxes = [f for f in faxes if f.created_at >= now - 7 * 86400]  # the prior week
        size = min(int(query.get("pageSize", "100")), 1000)
        page = max(int(query.get("page", "1")), 1)
        total_pages = max((len(faxes) + size - 1) // size, 1)
        chosen = faxes[(page - 1) * size : page * size]
        return _json(
            request,
            200,
            {
                "faxes": [f.as_json(self.project_id, now) for f in chosen],
                "page": page,
                "pageSize": size,
                "totalItems": len(faxes),
                "totalPages": total_pages,
            },
        )


def _reply(request: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
    request.send_response(status)
    request.send_header("Content-Type", content_type)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)


def _json(request: BaseHTTPRequestHandler, status: int, body: object) -> None:
    _reply(request, status, json.dumps(body).encode(), "application/json")


def _error(request: BaseHTTPRequestHandler, status: int, error: str, message: str) -> None:
    _json(request, status, {"code": str(status), "error": error, "message": message})


__all__ = ["FakeFax", "FakeSinch", "parse_multipart"]
