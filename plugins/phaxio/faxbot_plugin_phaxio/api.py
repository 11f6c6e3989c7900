"""Phaxio's REST API over httpx, its failures sorted by what they mean for a fax.

A send is retryable only when Phaxio surely did not take it: no connection, or 429/503 (turned
away before acceptance). When the request went out and no answer came back, or the answer is
not one Phaxio's docs describe, the outcome is unknown (`OutcomeUnknown`): the core looks the
job up by its tag before any second attempt. Any other refusal is final, with Phaxio's message.
Reads (status, lists, files) change nothing, so any failure to reach Phaxio is retryable."""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx
from faxbot.plugins.contract import OutcomeUnknown, TransportError

RETRYABLE_STATUSES = frozenset({429, 503})
Files = Mapping[str, tuple[str, bytes, str]]


class PhaxioApi:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: str,
        connect_timeout: float,
        timeout: float,
        ca_file: str | None = None,
    ) -> None:
        # A private CA bundle when the settings name one; otherwise the system's trust store.
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=ca_file) if ca_file else True
        )
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            auth=httpx.BasicAuth(api_key, api_secret),
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
            headers={"User-Agent": "faxbot-plugin-phaxio/1.0.0"},
            verify=verify,
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def send(self, fields: Sequence[tuple[str, str]], files: Files) -> dict[str, Any]:
        """POST /faxes; the reply's `data` (with the new fax's `id`)."""
        try:
            response = await self._client.post("faxes", data=dict(fields), files=dict(files))
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise TransportError(
                f"Phaxio not reached ({type(exc).__name__}); it did not get the fax",
                retryable=True,
            ) from None
        except httpx.TransportError as exc:  # sent, then timed out or cut off
            raise OutcomeUnknown(
                f"Phaxio did not answer the send ({type(exc).__name__}); it may have the fax"
            ) from None
        if response.status_code in RETRYABLE_STATUSES:
            raise TransportError(
                f"Phaxio turned the send away ({response.status_code}): {_message(response)}",
                retryable=True,
            )
        if response.status_code >= 500:
            raise OutcomeUnknown(
                f"Phaxio failed answering the send ({response.status_code}): {_message(response)}"
            )
        body = _json(response)
        if response.is_success and body is None:
            raise OutcomeUnknown(
                f"Phaxio's answer to the send is not JSON ({response.status_code})"
            )
        data = _checked(response, body)
        if not isinstance(data, dict) or "id" not in data:
            raise OutcomeUnknown("Phaxio accepted the send without a fax id")
        return data

    async def get(self, path: str, params: Sequence[tuple[str, str]] = ()) -> Any:
        """A GET whose answer is JSON: its `data` (a paged list: `page`)."""
        response = await self._read("GET", path, params)
        return _checked(response, _json(response))

    async def page(
        self, path: str, params: Sequence[tuple[str, str]]
    ) -> tuple[list[Any], Mapping[str, Any]]:
        response = await self._read("GET", path, params)
        body = _json(response)
        data = _checked(response, body)
        paging = body.get("paging") if isinstance(body, dict) else None
        return (data if isinstance(data, list) else []), (
            paging if isinstance(paging, dict) else {}
        )

    async def delete(self, path: str) -> bool:
        """DELETE; False when there was nothing to delete (404)."""
        response = await self._read("DELETE", path, ())
        if response.status_code == 404:
            return False
        _checked(response, _json(response))
        return True

    async def stream(self, path: str) -> AsyncIterator[bytes]:
        """A file's bytes, in chunks."""
        try:
            async with self._client.stream("GET", path) as response:
                if not response.is_success:
                    await response.aread()
                    _checked(response, _json(response))
                async for chunk in response.aiter_bytes():
                    yield chunk
        except httpx.TransportError as exc:
            raise TransportError(
                f"Phaxio not reached ({type(exc).__name__})", retryable=True
            ) from None

    async def _read(
        self, method: str, path: str, params: Sequence[tuple[str, str]]
    ) -> httpx.Response:
        try:
            response = await self._client.request(method, path, params=list(params))
        except httpx.TransportError as exc:
            raise TransportError(
                f"Phaxio not reached ({type(exc).__name__})", retryable=True
            ) from None
        if response.status_code in RETRYABLE_STATUSES or response.status_code >= 500:
            raise TransportError(
                f"Phaxio is unavailable ({response.status_code}): {_message(response)}",
                retryable=True,
            )
        return response


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _message(response: httpx.Response) -> str:
    body = _json(response)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return response.reason_phrase or "no message"


def _checked(response: httpx.Response, body: Any) -> Any:
    """The answer's `data`, or a final TransportError with Phaxio's message. A 2xx with
    `success: false` is an error too."""
    if not response.is_success:
        raise TransportError(
            f"Phaxio refused ({response.status_code}): {_message(response)}", retryable=False
        )
    if not isinstance(body, dict) or body.get("success") is not True:
        message = body.get("message") if isinstance(body, dict) else None
        raise TransportError(
            f"Phaxio answered without success: {message or 'no message'}", retryable=False
        )
    return body.get("data")
