"""`appliance.replicas`: defaults in the artifact, and a heartbeat that would let a live
replica's leases run out refused at compile time with its own code."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from faxbot.config.codes import Code
from faxbot.config.compiler import compile_config
from faxbot.plugins.discovery import PluginSource

from tests.conftest import REPO

WriteConfig = Callable[..., Path]


def _compile(write_config: WriteConfig, source: PluginSource, replicas: str):  # type: ignore[no-untyped-def]
    fragments = {p.name: p.read_text() for p in (REPO / "config.d").glob("*.yaml")}
    if replicas:
        fragments["50-replicas.yaml"] = f"appliance:\n  replicas:\n{replicas}"
    return compile_config(write_config(fragments), source)


def test_the_defaults_reach_the_artifact(
    write_config: WriteConfig, plugin_source: PluginSource
) -> None:
    result = _compile(write_config, plugin_source, "")
    assert result.ok and result.artifact is not None
    assert result.artifact["appliance"]["replicas"] == {
        "lease_seconds": 30,
        "heartbeat_seconds": 10,
        "claim_seconds": 5,
    }


def test_a_heartbeat_of_half_a_lease_or_more_is_refused(
    write_config: WriteConfig, plugin_source: PluginSource
) -> None:
    result = _compile(
        write_config, plugin_source, "    lease_seconds: 20\n    heartbeat_seconds: 10\n"
    )
    assert not result.ok
    (problem,) = [d for d in result.diagnostics if d.code is Code.LEASE_TIMING]
    assert problem.path == "appliance.replicas.heartbeat_seconds"
    assert "less than half of appliance.replicas.lease_seconds (20)" in problem.message
    assert "50-replicas.yaml:4" in problem.render()


def test_a_heartbeat_under_half_a_lease_compiles(
    write_config: WriteConfig, plugin_source: PluginSource
) -> None:
    result = _compile(
        write_config, plugin_source, "    lease_seconds: 20\n    heartbeat_seconds: 9.5\n"
    )
    assert result.ok, [d.render() for d in result.diagnostics]
