"""`Faxbot`: every operation of the API as a method, with retries by the SDK retry policy
(honouring Retry-After), an Idempotency-Key on every send, an X-Request-Id per call, typed
errors, and `wait` for a job to finish.

Each method calls through the operations table `faxbot_client._generated.operations`, which
`faxbot codegen` emits from the spec (method, path, parameters, how the answer is read, as the
Node SDK's `src/generated/operations.ts`); answers are parsed by the generated models. The
generator's request functions are not used: they pin the multipart boundary to "+++" (which a
document may contain), parse every documented error status as the API's error body (which
fails on a proxy's HTML page), and do not retry."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Self, TypeVar
from urllib.parse import quote

import httpx

from faxbot_client._generated import operations as ops
from faxbot_client._generated.models import (
    ConfigSummary,
    Diagnostics,
    FaxJob,
    FaxJobPage,
    FaxStatus,
    Health,
    InboundFax,
    InboundFaxPage,
    KeyInfo,
    PluginConfig,
    PluginDetail,
    PluginSummary,
)
from faxbot_client.errors import ConnectionFailed, FaxbotError, WaitTimeout, error_for
from faxbot_client.retry import (
    MAX_RETRIES,
    RETRY_ERRORS,
    Backoff,
    Polling,
    retry_after,
    should_retry,
)
from faxbot_client.uploads import Document, Upload

T = TypeVar("T")
Attempt = Callable[[], httpx.Response]

URL_VARIABLE = "FAXBOT_URL"
KEY_VARIABLE = "FAXBOT_API_KEY"
TERMINAL: frozenset[str] = frozenset({"SUCCESS", "FAILED"})
"""The job statuses a job does not leave. A status this SDK does not know (one a later
appliance added) is not terminal: `wait` keeps polling."""
_PLACEHOLDER = re.compile(r"\{([^}]+)\}")


def _setting(given: str | None, variable: str, what: str) -> str:
    value = given if given is not None else os.environ.get(variable)
    if not value:
        raise ValueError(
            f"no {what}: pass it to Faxbot() or set the environment variable {variable}"
        )
    return value


def rfc3339(moment: datetime) -> str:
    """`moment` in UTC as RFC 3339 (2026-01-31T12:00:00Z). A naive datetime is refused: its
    time zone would be a guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{moment!r} has no time zone; pass an aware datetime, e.g. datetime.now(UTC)"
        )
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Faxbot:
    """A client for one Faxbot appliance.

    `base_url` and `api_key` default to the environment variables FAXBOT_URL and
    FAXBOT_API_KEY. `max_retries` bounds the retries after the first attempt (on connection
    errors, timeouts, 408, 429, 500, 502, 503 and 504); `backoff` is the wait between them and
    `polling` how `wait` polls, both the SDK retry policy unless given; `timeout` (seconds)
    applies to connecting, and to each read and write.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = MAX_RETRIES,
        backoff: Backoff | None = None,
        polling: Polling | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        base_url = _setting(base_url, URL_VARIABLE, "appliance URL (base_url)")
        api_key = _setting(api_key, KEY_VARIABLE, "API key (api_key)")
        self.max_retries = max_retries
        self.backoff = backoff or Backoff()
        self.polling = polling or Polling()
        self._http = httpx.Client(
            base_url=base_url, headers={"X-API-Key": api_key}, timeout=timeout
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- fax -------------------------------------------------------------------------------

    def send_fax(self, to: str, file: Document, *, idempotency_key: str | None = None) -> FaxJob:
        """Queue a fax to `to` (E.164, e.g. +12025550143); `file` is a path, bytes or a binary
        file holding a PDF or UTF-8 text. Every attempt carries the same Idempotency-Key (a new
        UUID unless given), so a retry after a lost answer returns the job the first attempt
        made instead of sending the fax twice."""
        return self._call(
            ops.SEND_FAX,
            headers={"Idempotency-Key": idempotency_key or str(uuid.uuid4())},
            upload=(to, Upload(file)),
        )

    def get_fax_status(self, job_id: str) -> FaxJob:
        """The job with its status: queued, in_progress, SUCCESS or FAILED (or, from a later
        appliance, a status this SDK does not know, as its string)."""
        return self._call(ops.GET_FAX_STATUS, path={"job_id": job_id})

    def list_faxes_page(
        self,
        limit: int = 50,
        cursor: str | None = None,
        *,
        status: FaxStatus | str | None = None,
        to: str | None = None,
        created_since: datetime | None = None,
        created_until: datetime | None = None,
    ) -> FaxJobPage:
        """One page of jobs, newest first; pass its `next_cursor` for the next (None at the
        end). The filters combine: jobs with that `status`, to that number (E.164), created at
        or after `created_since` and before `created_until` (aware datetimes)."""
        query: dict[str, str | int | None] = {
            "limit": limit,
            "cursor": cursor,
            "status": status,
            "to": to,
            "created_since": None if created_since is None else rfc3339(created_since),
            "created_until": None if created_until is None else rfc3339(created_until),
        }
        return self._call(ops.LIST_FAXES, query=query)

    def list_faxes(
        self,
        limit: int = 50,
        *,
        status: FaxStatus | str | None = None,
        to: str | None = None,
        created_since: datetime | None = None,
        created_until: datetime | None = None,
    ) -> Iterator[FaxJob]:
        """Every job (that passes the filters of `list_faxes_page`), newest first, fetched
        `limit` (1-200) at a time as the iterator advances."""
        cursor: str | None = None
        while True:
            page = self.list_faxes_page(
                limit,
                cursor,
                status=status,
                to=to,
                created_since=created_since,
                created_until=created_until,
            )
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def wait(self, job_id: str, timeout: float = 300.0) -> FaxJob:
        """The job once it is SUCCESS or FAILED. Reads it at once, then polls by the SDK retry
        policy (after 1 s, each interval x1.5 up to 10 s), never sleeping past `timeout`
        seconds from now: at the deadline it reads the job a last time, and raises
        `WaitTimeout` carrying that job if it is still not done. A status this SDK does not
        know is not terminal."""
        deadline = time.monotonic() + timeout
        intervals = self.polling.intervals()
        job = self.get_fax_status(job_id)
        while job.status not in TERMINAL:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimeout(
                    f"job {job_id} is still {job.status} after {timeout:g} s", job=job
                )
            time.sleep(min(next(intervals), left))
            job = self.get_fax_status(job_id)
        return job

    # -- received faxes --------------------------------------------------------------------

    def list_inbound_page(
        self,
        limit: int = 50,
        cursor: str | None = None,
        *,
        to: str | None = None,
        from_: str | None = None,
        received_since: datetime | None = None,
        received_until: datetime | None = None,
    ) -> InboundFaxPage:
        """One page of received faxes (those on the key's numbers), newest first; pass its
        `next_cursor` for the next (None at the end). The filters combine: faxes to that
        number, from that number (E.164), received at or after `received_since` and before
        `received_until` (aware datetimes)."""
        query: dict[str, str | int | None] = {
            "limit": limit,
            "cursor": cursor,
            "to": to,
            "from": from_,
            "received_since": None if received_since is None else rfc3339(received_since),
            "received_until": None if received_until is None else rfc3339(received_until),
        }
        return self._call(ops.LIST_INBOUND, query=query)

    def list_inbound(
        self,
        limit: int = 50,
        *,
        to: str | None = None,
        from_: str | None = None,
        received_since: datetime | None = None,
        received_until: datetime | None = None,
    ) -> Iterator[InboundFax]:
        """Every received fax (that passes the filters of `list_inbound_page`), newest first,
        fetched `limit` (1-200) at a time as the iterator advances."""
        cursor: str | None = None
        while True:
            page = self.list_inbound_page(
                limit,
                cursor,
                to=to,
                from_=from_,
                received_since=received_since,
                received_until=received_until,
            )
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def get_inbound(self, id: str) -> InboundFax:
        """A received fax: from, to, pages, received_at, provider, whether its document was
        deleted under the appliance's retention."""
        return self._call(ops.GET_INBOUND, path={"id": id})

    def get_inbound_pdf(self, id: str) -> bytes:
        """A received fax's PDF, whole in memory; `download_inbound_pdf` streams it to a file
        instead."""
        return self._call(ops.GET_INBOUND_PDF, path={"id": id})

    def download_inbound_pdf(self, id: str, path: str | os.PathLike[str]) -> int:
        """Stream a received fax's PDF to `path` (written beside it as `<name>.part`, then
        renamed: `path` never holds part of a PDF); the number of bytes written. Retried like
        every call until the answer starts; errors are raised as by the other methods."""
        operation = ops.GET_INBOUND_PDF
        url = _url(operation, {"id": id})
        request_id = uuid.uuid4().hex

        def attempt() -> httpx.Response:
            request = self._http.build_request(
                operation.method, url, headers={"X-Request-Id": request_id}
            )
            response = self._http.send(request, stream=True)
            if not response.is_success:
                response.read()  # the error body, for the error
                response.close()
            return response

        response = self._send(operation, attempt, request_id)
        target = Path(path)
        partial = target.with_name(f"{target.name}.part")
        written = 0
        try:
            with partial.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
                    written += len(chunk)
            partial.replace(target)
        finally:
            response.close()
            partial.unlink(missing_ok=True)
        return written

    # -- plugins ---------------------------------------------------------------------------

    def list_plugins(self) -> list[PluginSummary]:
        """The installed plugins, with their slots and whether each is enabled."""
        return self._call(ops.LIST_PLUGINS)

    def get_plugin(self, plugin_id: str) -> PluginDetail:
        """A plugin's manifest and enabled state."""
        return self._call(ops.GET_PLUGIN, path={"plugin_id": plugin_id})

    def get_plugin_config(self, plugin_id: str) -> PluginConfig:
        """A plugin's settings per slot (secrets masked) and the config.d lines they come
        from."""
        return self._call(ops.GET_PLUGIN_CONFIG, path={"plugin_id": plugin_id})

    def get_plugin_registry(self) -> dict[str, Any]:
        """The curated plugin registry the appliance ships with."""
        return self._call(ops.GET_PLUGIN_REGISTRY)

    # -- system ----------------------------------------------------------------------------

    def get_config(self) -> ConfigSummary:
        """The running configuration's identity: fingerprint, profile, operations, MCP tools."""
        return self._call(ops.GET_CONFIG)

    def get_diagnostics(self) -> Diagnostics:
        """The appliance's state for a support ticket: versions, readiness checks, plugin
        health, warnings and recent errors, secrets, numbers and tokens masked."""
        return self._call(ops.GET_DIAGNOSTICS)

    def get_key(self) -> KeyInfo:
        """The calling key: its id, scopes, and the operations this appliance serves that it
        may call (any valid key may ask about itself)."""
        return self._call(ops.GET_KEY)

    def health_live(self) -> Health:
        """Whether the appliance's process answers (no API key needed)."""
        return self._call(ops.HEALTH_LIVE)

    def health_ready(self) -> Health:
        """Whether the appliance can take work: `status` is "ok", or not with the failing
        `checks` (the appliance's 503 is returned, not raised)."""
        return self._call(ops.HEALTH_READY)

    # -- the one way an operation is called --------------------------------------------------

    def _call(
        self,
        operation: ops.Operation[T],
        *,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, str | int | None] | None = None,
        headers: Mapping[str, str] | None = None,
        upload: tuple[str, Upload] | None = None,
    ) -> T:
        """One logical call: the same X-Request-Id (and headers) on every attempt."""
        url = _url(operation, path or {})
        request_id = uuid.uuid4().hex
        sent = {"X-Request-Id": request_id, **(headers or {})}
        params = {name: value for name, value in (query or {}).items() if value is not None}

        def attempt() -> httpx.Response:
            if upload is None:
                return self._http.request(operation.method, url, params=params, headers=sent)
            to, document = upload
            with document.open() as payload:
                # httpx picks a random multipart boundary for every request.
                files: dict[str, tuple[str | None, bytes | BinaryIO, str | None]] = {
                    "to": (None, to.encode(), "text/plain"),
                    "file": (document.name, payload, None),  # None: guessed from the name
                }
                return self._http.request(operation.method, url, headers=sent, files=files)

        response = self._send(operation, attempt, request_id)
        return _parse(operation, response, request_id)

    def _send(
        self, operation: ops.Operation[Any], attempt: Attempt, request_id: str
    ) -> httpx.Response:
        """Run `attempt` until it is answered with a success or an error not worth retrying,
        or until the retries are spent."""
        retries = 0
        while True:
            try:
                response = attempt()
            except RETRY_ERRORS as exc:
                if retries >= self.max_retries:
                    attempts = retries + 1
                    raise ConnectionFailed(
                        f"no answer from {self._http.base_url} after {attempts} attempt"
                        f"{'s' if attempts > 1 else ''}: {type(exc).__name__}: {exc}",
                        request_id=request_id,
                    ) from exc
                time.sleep(self.backoff.delay(retries))
                retries += 1
                continue
            if response.is_success or (
                response.status_code in operation.answers  # e.g. health_ready's 503
                and response.headers.get("Content-Type", "").startswith("application/json")
            ):
                return response
            asked = retry_after(response.headers.get("Retry-After"))
            error = error_for(response, asked, request_id)
            if (
                not should_retry(response.status_code)
                or retries >= self.max_retries
                or (asked is not None and asked > self.backoff.max_retry_after)
            ):
                raise error
            time.sleep(self.backoff.delay(retries, asked))
            retries += 1


def _url(operation: ops.Operation[Any], values: Mapping[str, str]) -> str:
    if set(values) != set(operation.path_params):
        raise TypeError(
            f"{operation.id} takes the path parameters {sorted(operation.path_params)}, "
            f"not {sorted(values)}"
        )
    return _PLACEHOLDER.sub(lambda m: quote(values[m.group(1)], safe=""), operation.path)


def _parse(operation: ops.Operation[T], response: httpx.Response, request_id: str) -> T:
    """The answer as the operation's type; an answer that is not what the spec says (a proxy's
    page with a 200) is a FaxbotError, not a KeyError from deep in a model."""
    answered_id = response.headers.get("X-Request-Id") or request_id
    try:
        if operation.response == "binary":
            return operation.parse(response.content)
        if operation.response == "empty":
            return operation.parse(None)
        return operation.parse(response.json())
    except (ValueError, KeyError, TypeError) as exc:
        raise FaxbotError(
            f"unexpected answer to {operation.id} ({response.request.method} "
            f"{response.request.url.path}): {type(exc).__name__}: {exc}; "
            f"body {response.text[:200]!r}",
            status=response.status_code,
            request_id=answered_id,
        ) from exc


__all__ = ["KEY_VARIABLE", "TERMINAL", "URL_VARIABLE", "Faxbot", "rfc3339"]
