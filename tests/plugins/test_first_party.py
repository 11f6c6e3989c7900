"""Meta-tests over the first-party plugins: each is its own distribution whose version,
manifest and entry point agree, and whose capabilities are implemented."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from faxbot.plugins.contract import (
    Deps,
    DocumentNotFound,
    FaxStatus,
    OutboundFax,
    StoredDocument,
    TransportError,
)
from faxbot.plugins.discovery import PluginSource, manifest_problems
from faxbot_plugin_local import LocalStorage, StorageKeyError
from faxbot_plugin_test import FAILED_MESSAGE, TestTransport, read_ledger

from tests.conftest import REPO

PLUGIN_DIRS = sorted(p.parent for p in (REPO / "plugins").glob("*/pyproject.toml"))


@pytest.mark.parametrize("folder", PLUGIN_DIRS, ids=lambda p: p.name)
def test_distribution_manifest_and_entry_point_agree(folder: Path) -> None:
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    [(plugin_id, target)] = project["entry-points"]["faxbot.plugins"].items()
    assert project["name"] == f"faxbot_plugin_{folder.name}"
    plugin = PluginSource().load(plugin_id)
    assert plugin.version == project["version"] == plugin.manifest.version
    assert manifest_problems(plugin.plugin_cls, plugin.manifest) == []
    assert target.split(":")[0] == project["name"]


def deps(tmp_path: Path) -> Deps:
    return Deps(data_dir=tmp_path, logger=logging.getLogger("test"))


def test_test_transport_succeeds_after_the_delay_and_fails_listed_numbers(tmp_path: Path) -> None:
    now = [1000.0]
    transport = TestTransport(clock=lambda: now[0])

    async def scenario() -> None:
        await transport.start(
            {"delay_seconds": 2, "fail_numbers": ["+15550000000"], "read_documents": True},
            deps(tmp_path),
        )
        storage = LocalStorage()
        await storage.start({"directory": "documents", "fsync": False}, deps(tmp_path))
        await storage.put("x.pdf", _chunks(b"%PDF-1.7 x"))
        document = StoredDocument(storage, "x.pdf")
        good = await transport.send(OutboundFax("job1", "+15551234567", 1, document))
        bad = await transport.send(OutboundFax("job2", "+15550000000", 1, document))
        await storage.stop()
        taken = hashlib.sha256(b"%PDF-1.7 x").hexdigest()
        assert [e["document_sha256"] for e in read_ledger(tmp_path)] == [taken, taken]
        assert (await transport.get_status(good.provider_sid)).status is FaxStatus.IN_PROGRESS
        now[0] += 2.5
        # a new instance (an appliance restart) answers the same: the sid carries the state
        restarted = TestTransport(clock=lambda: now[0])
        settings = {"delay_seconds": 2, "fail_numbers": [], "read_documents": False}
        await restarted.start(settings, deps(tmp_path))
        assert (await restarted.get_status(good.provider_sid)).status is FaxStatus.SUCCESS
        failed = await restarted.get_status(bad.provider_sid)
        assert (failed.status, failed.error) == (FaxStatus.FAILED, FAILED_MESSAGE)
        with pytest.raises(TransportError) as caught:
            await restarted.get_status("garbage")
        assert caught.value.retryable is False
        # the ledger, the provider's record, has both hand-overs and is found again
        assert [e["job_id"] for e in read_ledger(tmp_path)] == ["job1", "job2"]
        assert await restarted.find_sent("job2") == bad
        assert await restarted.find_sent("job3") is None
        await transport.stop()
        await restarted.stop()

    asyncio.run(scenario())


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def test_local_storage_round_trip_and_key_safety(tmp_path: Path) -> None:
    storage = LocalStorage()

    async def scenario() -> None:
        await storage.start({"directory": "documents", "fsync": True}, deps(tmp_path))
        size = await storage.put("job-1.pdf", _chunks(b"%PDF-", b"1.7"))
        assert size == 8
        assert await StoredDocument(storage, "job-1.pdf").read() == b"%PDF-1.7"
        assert (tmp_path / "documents" / "job-1.pdf").read_bytes() == b"%PDF-1.7"
        assert not list((tmp_path / "documents").glob(".*.part"))
        for bad in ("../escape", "a/b", "", ".hidden"):
            with pytest.raises(StorageKeyError):
                await storage.put(bad, _chunks(b"x"))
        await storage.delete("job-1.pdf")
        with pytest.raises(DocumentNotFound):
            await storage.get("job-1.pdf")
        assert (await storage.health()).ok
        await storage.stop()

    asyncio.run(scenario())


def test_local_storage_leaves_nothing_when_a_put_fails(tmp_path: Path) -> None:
    storage = LocalStorage()

    async def failing() -> AsyncIterator[bytes]:
        yield b"partial"
        raise OSError("client went away")

    async def scenario() -> None:
        await storage.start({"directory": "documents", "fsync": False}, deps(tmp_path))
        with pytest.raises(OSError, match="client went away"):
            await storage.put("job-2.pdf", failing())
        assert list((tmp_path / "documents").iterdir()) == []
        await storage.stop()
        assert list((tmp_path / "documents").iterdir()) == []

    asyncio.run(scenario())
