"""The capability catalog is internally consistent and agrees with the manifest schema."""

from __future__ import annotations

import json

from faxbot.catalog import load_catalog
from faxbot.plugins.contract import CAPABILITIES, SLOT_PROTOCOLS, SLOTS
from faxbot.plugins.discovery import manifest_validator

from tests.conftest import REPO


def test_slots_and_capabilities_agree() -> None:
    catalog = load_catalog()
    assert tuple(catalog.slots) == SLOTS
    for capability in catalog.capabilities.values():
        assert capability.slot is None or capability.slot in SLOTS
        for operation in capability.operations:
            assert operation in catalog.operations


def test_every_operation_has_a_known_scope_and_is_gated_at_most_once() -> None:
    catalog = load_catalog()
    gated = [op for c in catalog.capabilities.values() for op in c.operations]
    assert len(gated) == len(set(gated))
    for operation in catalog.operations.values():
        assert operation.scope is None or operation.scope in catalog.scopes
    assert [o.operation_id for o in catalog.operations.values() if o.scope is None] == ["get_key"]


def test_product_names_for_tools_and_operations() -> None:
    catalog = load_catalog()
    tools = {c.name: c.mcp_tools for c in catalog.capabilities.values() if c.mcp_tools}
    assert tools == {
        "send": ("send_fax",),
        "get_status": ("get_fax_status", "list_faxes"),
        "list_inbound": ("list_inbound", "get_inbound"),
        "get_inbound_pdf": ("get_inbound_pdf",),
    }
    for capability in catalog.capabilities.values():  # a tool calls its capability's operation
        assert set(capability.mcp_tools) <= set(capability.operations), capability.name
    assert catalog.capabilities["send"].operations[0] == "send_fax"
    operations, mcp_tools = catalog.surface(["send", "get_status"])
    assert {"send_fax", "get_fax_status", "list_faxes", "get_config"} <= operations
    assert "list_inbound" not in operations
    assert mcp_tools == {"send_fax", "get_fax_status", "list_faxes"}


def test_manifest_schema_lists_exactly_the_catalog_capabilities() -> None:
    schema = manifest_validator().schema
    listed = set(schema["properties"]["capabilities"]["items"]["enum"])
    assert listed == set(load_catalog().capabilities)
    assert set(schema["properties"]["categories"]["items"]["enum"]) == set(SLOTS)


def test_every_list_of_slots_is_the_contracts() -> None:
    """The slot list is the contract's `Slot`; the JSON Schemas, which cannot import it,
    must name the same slots in the same order."""
    fragment = json.loads((REPO / "appliance/faxbot/config/fragment.schema.json").read_text())
    manifest = json.loads((REPO / "appliance/faxbot/plugins/manifest.schema.json").read_text())
    assert tuple(fragment["properties"]["providers"]["properties"]) == SLOTS
    assert tuple(manifest["properties"]["categories"]["items"]["enum"]) == SLOTS
    assert tuple(SLOT_PROTOCOLS) == SLOTS


def test_every_catalog_capability_has_its_protocol_method() -> None:
    assert set(CAPABILITIES) == set(load_catalog().capabilities)
    for protocol, method in CAPABILITIES.values():
        assert callable(getattr(protocol, method))
