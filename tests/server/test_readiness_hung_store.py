"""A storage plugin whose health check never answers makes the appliance not ready, within a
bounded time, instead of hanging the readiness probe (a load balancer's or Kubernetes')."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from faxbot.plugins.contract import Health
from faxbot.plugins.discovery import GROUP, PluginSource
from faxbot.server.app import create_app
from faxbot_plugin_local import LocalStorage
from litestar.testing import TestClient

from tests.server.conftest import build


class HungStorage(LocalStorage):
    """Local storage whose store stops answering once `hung` is set (as an S3 endpoint that
    accepts connections and never replies)."""

    hung = False

    async def health(self) -> Health:
        if HungStorage.hung:
            await asyncio.Event().wait()
        return await super().health()


def _source() -> PluginSource:
    def entry_points() -> Sequence[metadata.EntryPoint]:
        installed = [e for e in metadata.entry_points(group=GROUP) if e.name != "local"]
        return [metadata.EntryPoint("local", f"{__name__}:HungStorage", GROUP), *installed]

    return PluginSource(entry_points)


def test_a_hung_store_makes_readiness_503_naming_it(tmp_path: Path) -> None:
    build(tmp_path)  # the example config.d with test keys, compiled into tmp_path/build
    app = create_app(
        tmp_path / "build" / "faxbot.resolved.json", env={}, source=_source(), workdir=tmp_path
    )
    with TestClient(app) as client:
        assert client.get("/health/ready").status_code == 200
        HungStorage.hung = True
        try:
            answer = client.get("/health/ready")
        finally:
            HungStorage.hung = False
        assert answer.status_code == 503, answer.text
        storage = answer.json()["checks"]["storage"]
        assert storage["ok"] is False
        assert "gave no answer within" in storage["reason"]
        assert client.get("/health/ready").status_code == 200  # answered again: ready again
