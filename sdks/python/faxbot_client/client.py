"""`Faxbot`: the fax operations over the generated client, with retries that honour
Retry-After, an Idempotency-Key on every send, and typed errors.

Requests are built by the generated operations (`_get_kwargs`) and successes parsed by the
generated models; the generated `sync_detailed` is not used because it parses every documented
error status as the API's error body, which fails on a proxy's HTML page."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Self

import httpx

from faxbot_client._generated import AuthenticatedClient
from faxbot_client._generated.api.fax import get_fax_status, list_faxes, send_fax
from faxbot_client._generated.models import FaxJob, FaxJobPage, SendFaxBody
from faxbot_client._generated.types import File
from faxbot_client.errors import ConnectionFailed, FaxbotError, error_for
from faxbot_client.retry import RETRY_ERRORS, Backoff, retry_after, should_retry
from faxbot_client.uploads import Document, Upload

Attempt = Callable[[], httpx.Response]


class Faxbot:
    """A client for one Faxbot appliance.

    `max_retries` bounds the retries after the first attempt, on connection errors and timeouts,
    408, 429 and 5xx; `timeout` (seconds) applies to connecting, and to each read and write.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff: Backoff | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self.max_retries = max_retries
        self.backoff = backoff or Backoff()
        self._http = httpx.Client(
            base_url=base_url, headers={"X-API-Key": api_key}, timeout=timeout
        )
        self.api = AuthenticatedClient(
            base_url=base_url, token=api_key, prefix="", auth_header_name="X-API-Key"
        ).set_httpx_client(self._http)
        """The generated client, sharing this one's connections, for the other operations:
        `faxbot_client._generated.api.<tag>.<operation>.sync(client=faxbot.api)`."""

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

    def send_fax(self, to: str, file: Document, *, idempotency_key: str | None = None) -> FaxJob:
        """Queue a fax to `to` (E.164, e.g. +12025550143); `file` is a path, bytes or a binary
        file holding a PDF or UTF-8 text. Every attempt carries the same Idempotency-Key (a new
        UUID unless given), so a retry after a lost answer returns the job the first attempt
        made instead of sending the fax twice."""
        key = idempotency_key or str(uuid.uuid4())
        upload = Upload(file)

        def attempt() -> httpx.Response:
            with upload.open() as payload:
                body = SendFaxBody(to=to, file=File(payload=payload, file_name=upload.name))
                request = send_fax._get_kwargs(body=body, idempotency_key=key)
                # The generator pins the multipart boundary to "+++" (openapi-python-client
                # PR 1005), which a document may contain; without the header httpx picks a
                # random boundary.
                request["headers"].pop("Content-Type", None)
                return self._http.request(**request)

        return FaxJob.from_dict(self._json(self._call(attempt)))

    def get_fax_status(self, job_id: str) -> FaxJob:
        """The job with its status: queued, in_progress, SUCCESS or FAILED."""
        request = get_fax_status._get_kwargs(job_id)
        return FaxJob.from_dict(self._json(self._call(lambda: self._http.request(**request))))

    def list_faxes_page(self, limit: int = 50, cursor: str | None = None) -> FaxJobPage:
        """One page of jobs, newest first; pass its `next_cursor` for the next (None at the end)."""
        request = list_faxes._get_kwargs(limit=limit, cursor=cursor)
        return FaxJobPage.from_dict(self._json(self._call(lambda: self._http.request(**request))))

    def list_faxes(self, limit: int = 50) -> Iterator[FaxJob]:
        """Every job, newest first, fetched `limit` (1-200) at a time as the iterator advances."""
        cursor: str | None = None
        while True:
            page = self.list_faxes_page(limit=limit, cursor=cursor)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def _call(self, attempt: Attempt) -> httpx.Response:
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
                        f"{'s' if attempts > 1 else ''}: {type(exc).__name__}: {exc}"
                    ) from exc
                time.sleep(self.backoff.delay(retries))
                retries += 1
                continue
            if response.is_success:
                return response
            asked = retry_after(response.headers.get("Retry-After"))
            error = error_for(response, asked)
            if (
                not should_retry(response.status_code)
                or retries >= self.max_retries
                or (asked is not None and asked > self.backoff.max_retry_after)
            ):
                raise error
            time.sleep(self.backoff.delay(retries, asked))
            retries += 1

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise FaxbotError(
                f"expected a JSON object from {response.request.method} "
                f"{response.request.url.path}, got {response.text[:200]!r}",
                status=response.status_code,
            )
        return body


__all__ = ["Faxbot"]
