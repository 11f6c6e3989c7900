"""OAuth2 client credentials: one access token, cached and shared by every call, fetched again
shortly before it expires, or at once when Sinch refuses it (a 401)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
from faxbot.plugins.contract import TransportError

REFRESH_SHARE = 0.1  # refresh once less than this share of the lifetime is left...
REFRESH_MARGIN_MAX = 60.0  # ...or this many seconds, whichever is less
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class AccessTokens:
    def __init__(
        self,
        client: httpx.AsyncClient,
        token_url: str,
        key_id: str,
        key_secret: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._url = token_url
        self._auth = httpx.BasicAuth(key_id, key_secret)
        self._clock = clock
        self._token: str | None = None
        self._refresh_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        """A token that is valid now. Concurrent callers share one fetch."""
        token = self._token
        if token is not None and self._clock() < self._refresh_at:
            return token
        async with self._lock:
            if self._token is None or self._clock() >= self._refresh_at:
                await self._fetch()
            assert self._token is not None
            return self._token

    def discard(self, token: str) -> None:
        """Sinch refused `token`: the next call fetches a new one (unless another caller
        already did)."""
        if self._token == token:
            self._token = None

    async def _fetch(self) -> None:
        began = self._clock()
        try:
            response = await self._client.post(
                self._url, data={"grant_type": "client_credentials"}, auth=self._auth
            )
        except httpx.HTTPError as exc:
            # Nothing was sent to the Fax API yet, so whatever the caller does is safe to retry.
            raise TransportError(
                f"Sinch OAuth2 token endpoint unreachable: {type(exc).__name__}", retryable=True
            ) from None
        if response.status_code in RETRYABLE_STATUSES:
            raise TransportError(
                f"Sinch OAuth2 token endpoint answered {response.status_code}", retryable=True
            )
        if response.status_code != 200:
            raise TransportError(
                f"Sinch refused the access key (key_id/key_secret): HTTP {response.status_code}",
                retryable=False,
            )
        try:
            body = response.json()
            token = str(body["access_token"])
            lifetime = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise TransportError(
                "Sinch OAuth2 token endpoint gave no access_token", retryable=True
            ) from None
        self._token = token
        self._refresh_at = began + lifetime - min(lifetime * REFRESH_SHARE, REFRESH_MARGIN_MAX)
