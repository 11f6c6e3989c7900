"""The capability catalog: which slot a capability belongs to, and which REST operations and
MCP tools it turns on. Read by the compiler, the appliance and codegen alike."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

ANY_SLOT = None


@dataclass(frozen=True)
class Capability:
    name: str
    slot: str | None  # None: any slot may offer it
    operations: tuple[str, ...]
    mcp_tools: tuple[str, ...]  # each named as the operation of `operations` it calls
    description: str


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    scope: str | None  # None: any valid key may call it


@dataclass(frozen=True)
class Catalog:
    slots: Mapping[str, str]
    capabilities: Mapping[str, Capability]
    operations: Mapping[str, Operation]
    scopes: Mapping[str, str]

    def slot_capabilities(self, slot: str) -> frozenset[str]:
        """Capabilities a plugin may offer in `slot`."""
        return frozenset(c.name for c in self.capabilities.values() if c.slot in (slot, ANY_SLOT))

    def core_operations(self) -> frozenset[str]:
        gated = {op for c in self.capabilities.values() for op in c.operations}
        return frozenset(self.operations) - gated

    def surface(self, active: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
        """REST operations and MCP tools served when `active` capabilities are on."""
        caps = [self.capabilities[name] for name in active if name in self.capabilities]
        operations = self.core_operations() | {op for c in caps for op in c.operations}
        tools = frozenset(tool for c in caps for tool in c.mcp_tools)
        return operations, tools


def _parse(raw: Mapping[str, Any]) -> Catalog:
    capabilities = {
        name: Capability(
            name=name,
            slot=spec["slot"],
            operations=tuple(spec["operations"]),
            mcp_tools=tuple(spec["mcp_tools"]),
            description=spec["description"],
        )
        for name, spec in raw["capabilities"].items()
    }
    operations = {
        op_id: Operation(op_id, spec["method"], spec["path"], spec["scope"])
        for op_id, spec in raw["operations"].items()
    }
    return Catalog(
        slots=dict(raw["slots"]),
        capabilities=capabilities,
        operations=operations,
        scopes=dict(raw["scopes"]),
    )


REGISTRY = "plugin-registry.json"


def load_registry() -> dict[str, Any]:
    """The curated plugin registry shipped with faxbot (a copy of registry/plugin-registry.json
    that `faxbot codegen` keeps equal)."""
    loaded: dict[str, Any] = json.loads(
        resources.files(__package__).joinpath(REGISTRY).read_text("utf-8")
    )
    return loaded


def planned_plugin(plugin_id: str) -> Mapping[str, Any] | None:
    """The registry's entry for `plugin_id` when it lists the plugin as planned (announced, not
    released yet), else None."""
    for entry in load_registry()["plugins"]:
        if entry["id"] == plugin_id and entry["status"] == "planned":
            found: Mapping[str, Any] = entry
            return found
    return None


@cache
def load_catalog() -> Catalog:
    text = resources.files(__package__).joinpath("capabilities.json").read_text("utf-8")
    return _parse(json.loads(text))
