"""The one place that speaks HTTP to the Fax API: bearer tokens (a refused token is replaced
once, and the request made once more), and each failure classified by what it means for a fax.

A send is retried by the core only when Sinch surely did not take it: the connection failed,
or Sinch answered 429 or 503 (refused before accepting). A request that went out and got no
answer may have created the fax: that is `OutcomeUnknown`, resolved by a lookup, never by a
blind second send. Reads (status, lists, files) are safe to repeat, so their transient
failures are all retryable."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
from faxbot.plugins.contract import OutcomeUnknown, TransportError

from faxbot_plugin_sinch.tokens import AccessTokens

REFUSED_BEFORE_ACCEPTING = frozenset({429, 503})  # Sinch did not take the request
MAYBE_TAKEN = frozenset({502, 504})  # a gateway lost the answer: the fax may exist
MESSAGE_CHARS = 300


class SinchApi:
    def __init__(self, client: httpx.AsyncClient, tokens: AccessTokens) -> None:
        self._client = client
        self._tokens = tokens

    async def send(self, url: str, **request: Any) -> httpx.Response:
        """POST a new fax. Raises TransportError (retryable only when Sinch surely did not take
        it) or OutcomeUnknown."""
        response = await self._call("POST", url, creates=True, **request)
        if response.is_success:
            return response
        if response.status_code in REFUSED_BEFORE_ACCEPTING:
            raise TransportError(describe(response), retryable=True)
        if response.status_code in MAYBE_TAKEN:
            raise OutcomeUnknown(describe(response))
        raise TransportError(describe(response), retryable=False)

    async def read(self, method: str, url: str, **request: Any) -> httpx.Response:
        """A request that creates nothing (GET, DELETE): transient failures are retryable; a
        404 is returned to the caller, which knows what it means there."""
        response = await self._call(method, url, creates=False, **request)
        if response.is_success or response.status_code == 404:
            return response
        retryable = response.status_code == 429 or response.status_code >= 500
        raise TransportError(describe(response), retryable=retryable)

    async def download(self, url: str) -> AsyncIterator[bytes]:
        """A file, in chunks as they arrive."""
        for attempt in (1, 2):
            token = await self._tokens.token()
            try:
                async with self._client.stream("GET", url, headers=_bearer(token)) as response:
                    if response.status_code == 401 and attempt == 1:
                        self._tokens.discard(token)
                        continue
                    if not response.is_success:
                        await response.aread()
                        retryable = response.status_code == 429 or response.status_code >= 500
                        raise TransportError(describe(response), retryable=retryable)
                    async for chunk in response.aiter_bytes():
                        yield chunk
                    return
            except httpx.HTTPError as exc:
                raise TransportError(_failure(exc), retryable=True) from None

    async def _call(
        self, method: str, url: str, *, creates: bool, **request: Any
    ) -> httpx.Response:
        response: httpx.Response | None = None
        extra_headers: Mapping[str, str] = request.pop("headers", {})
        for attempt in (1, 2):
            token = await self._tokens.token()
            headers = {**extra_headers, **_bearer(token)}
            try:
                response = await self._client.request(method, url, headers=headers, **request)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # No connection, so Sinch never saw the request.
                raise TransportError(_failure(exc), retryable=True) from None
            except httpx.HTTPError as exc:
                if creates:
                    raise OutcomeUnknown(f"{_failure(exc)} after the request was sent") from None
                raise TransportError(_failure(exc), retryable=True) from None
            if response.status_code != 401 or attempt == 2:
                break
            self._tokens.discard(token)  # expired early or revoked: one new token, one retry
        assert response is not None
        if response.status_code == 401:
            raise TransportError(
                f"Sinch refused a fresh access token: {describe(response)}", retryable=False
            )
        return response


def describe(response: httpx.Response) -> str:
    """Sinch's own words for a failed request: its JSON `message` (or `error`), else the text."""
    text = ""
    try:
        body = response.json()
    except ValueError:
        text = response.text
    else:
        if isinstance(body, dict):
            text = str(body.get("message") or body.get("error") or "")
    text = " ".join(text.split())[:MESSAGE_CHARS]
    return f"Sinch answered {response.status_code}" + (f": {text}" if text else "")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _failure(exc: httpx.HTTPError) -> str:
    # Only the exception's type: its text can hold a URL, and the type is enough to act on.
    return f"Sinch request failed: {type(exc).__name__}"
