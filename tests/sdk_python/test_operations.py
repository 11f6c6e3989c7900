"""Every operation of docs/openapi.json is a public method of `Faxbot`, taking each of its
parameters, returning a type `faxbot_client` exports, and answering against a real appliance;
the hand-written layer reaches the generated code only through its public modules."""

from __future__ import annotations

import ast
import inspect
import json
import keyword
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, get_args, get_type_hints

import faxbot_client
import pytest
from faxbot_client import (
    ConfigSummary,
    Diagnostics,
    Faxbot,
    FaxJob,
    FaxJobPage,
    Health,
    InboundFaxPage,
    PluginConfig,
    PluginDetail,
    PluginSummary,
)

from tests.codegen.conftest import degraded
from tests.conftest import REPO
from tests.sdk_python.conftest import TO
from tests.server.conftest import FAIL_NUMBER, Appliance
from tests.server.receiving import OUR_NUMBER, post, received, receiving

SPEC = json.loads((REPO / "docs" / "openapi.json").read_text(encoding="utf-8"))
OPERATIONS = {
    operation["operationId"]: operation
    for item in SPEC["paths"].values()
    for operation in item.values()
    if isinstance(operation, dict) and "operationId" in operation
}
SDK = REPO / "sdks" / "python" / "faxbot_client"
__all__ = ["degraded"]  # a real appliance whose document storage is gone (tests/codegen)


def python_name(name: str) -> str:
    """A parameter's name in Python: a keyword (`from`) gets a trailing underscore."""
    found = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return f"{found}_" if keyword.iskeyword(found) else found


def methods_for(operation_id: str) -> list[Callable[..., Any]]:
    """The public methods an operation is reached by: the one of its name, and `<name>_page`
    when the method of its name iterates over the pages."""
    return [
        getattr(Faxbot, name)
        for name in (operation_id, f"{operation_id}_page")
        if hasattr(Faxbot, name)
    ]


SET_BY_THE_SDK = {"x_request_id"}  # one per call, sent by every method


def spec_parameters(operation: dict[str, Any]) -> set[str]:
    names = {python_name(p["name"]) for p in operation.get("parameters", [])} - SET_BY_THE_SDK
    for media in operation.get("requestBody", {}).get("content", {}).values():
        names |= set(media.get("schema", {}).get("properties", {}))
    return names


def test_the_spec_has_the_operations_the_product_names() -> None:
    assert {"send_fax", "get_fax_status", "list_faxes", "get_config"} <= set(OPERATIONS)


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_each_operation_is_a_public_method_taking_its_parameters(operation_id: str) -> None:
    methods = methods_for(operation_id)
    assert methods, f"Faxbot has no method {operation_id}"
    taken = {name for method in methods for name in inspect.signature(method).parameters}
    assert spec_parameters(OPERATIONS[operation_id]) <= taken
    for method in methods:
        assert method.__doc__, f"{method.__name__} has no docstring"


def _model_types(annotation: Any) -> set[type]:
    found = {annotation} if isinstance(annotation, type) else set()
    for argument in get_args(annotation):
        found |= _model_types(argument)
    return {t for t in found if t.__module__.startswith("faxbot_client._generated")}


def test_every_model_a_method_returns_is_exported() -> None:
    returned: set[type] = set()
    for operation_id in OPERATIONS:
        for method in methods_for(operation_id):
            returned |= _model_types(get_type_hints(method)["return"])
    assert returned >= {FaxJob, FaxJobPage, ConfigSummary, Health, PluginSummary}
    for model in returned:
        assert getattr(faxbot_client, model.__name__) is model
        assert model.__name__ in faxbot_client.__all__
    assert faxbot_client.FaxStatus is not None


def _imports(path: Any) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_the_hand_written_layer_uses_only_the_generated_public_modules() -> None:
    allowed = re.compile(
        r"^faxbot_client\._generated(\.models(\.\w+)?|\.operations|\.retry_policy)$"
    )
    for path in sorted(SDK.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "_get_kwargs" not in text and "_parse_response" not in text, path.name
        for name in _imports(path):
            if name.startswith("faxbot_client._generated"):
                parent = name.rsplit(".", 1)[0]
                assert allowed.match(name) or allowed.match(parent), f"{path.name}: {name}"


def test_the_readmes_import_nothing_from_generated() -> None:
    for readme in (SDK.parent / "README.md", REPO / "README.md"):
        text = readme.read_text(encoding="utf-8")
        assert not re.search(r"(from|import) faxbot_client\._generated", text), readme


@pytest.mark.slow
def test_every_operation_answers_against_a_real_appliance(tmp_path: Path) -> None:
    called: set[str] = set()
    appliance = receiving(tmp_path / "appliance")
    with appliance.running(), Faxbot(appliance.url, appliance.tokens["admin"]) as faxbot:
        document = b"%PDF-1.4 a received fax\n"
        post(appliance, [received("rx-sdk", document)])
        with Faxbot(appliance.url, appliance.tokens["desk"]) as desk:
            inbound = desk.list_inbound_page(limit=5, to=OUR_NUMBER)
            called.add("list_inbound")
            assert isinstance(inbound, InboundFaxPage)
            (fax,) = inbound.items
            assert desk.get_inbound(fax.id) == fax
            called.add("get_inbound")
            assert desk.get_inbound_pdf(fax.id) == document
            called.add("get_inbound_pdf")
            assert desk.download_inbound_pdf(fax.id, tmp_path / "fax.pdf") == len(document)
            assert (tmp_path / "fax.pdf").read_bytes() == document

        job = faxbot.send_fax(TO, b"Hello from every operation\n")
        called.add("send_fax")
        assert isinstance(job, FaxJob) and job.status == "queued"

        status = faxbot.get_fax_status(job.id)
        called.add("get_fax_status")
        assert status.id == job.id

        page = faxbot.list_faxes_page(limit=5)
        called.add("list_faxes")
        assert isinstance(page, FaxJobPage) and [j.id for j in page.items] == [job.id]

        config = faxbot.get_config()
        called.add("get_config")
        assert isinstance(config, ConfigSummary) and "send_fax" in config.operations

        diagnostics = faxbot.get_diagnostics()
        called.add("get_diagnostics")
        assert isinstance(diagnostics, Diagnostics) and diagnostics.profile == "dev"

        key = faxbot.get_key()
        called.add("get_key")
        assert key.id == "admin" and "get_key" in key.operations and "send_fax" in key.operations

        live, ready = faxbot.health_live(), faxbot.health_ready()
        called |= {"health_live", "health_ready"}
        assert isinstance(live, Health) and isinstance(ready, Health)
        assert (live.status, ready.status) == ("ok", "ready")

        plugins = faxbot.list_plugins()
        called.add("list_plugins")
        assert plugins and all(isinstance(p, PluginSummary) for p in plugins)
        enabled = next(p for p in plugins if p.enabled)

        detail = faxbot.get_plugin(enabled.id)
        called.add("get_plugin")
        assert isinstance(detail, PluginDetail) and detail.id == enabled.id

        config_of = faxbot.get_plugin_config(enabled.id)
        called.add("get_plugin_config")
        assert isinstance(config_of, PluginConfig) and config_of.id == enabled.id

        registry = faxbot.get_plugin_registry()
        called.add("get_plugin_registry")
        assert isinstance(registry, dict) and registry

        done = faxbot.wait(job.id, timeout=60)
        assert done.status == "SUCCESS"
    assert called == set(OPERATIONS)


@pytest.mark.slow
def test_job_times_are_aware_datetimes(appliance: Appliance) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    with Faxbot(appliance.url, appliance.tokens["admin"]) as faxbot:
        job = faxbot.wait(faxbot.send_fax(FAIL_NUMBER, b"Hello\n").id, timeout=60)
        listed = next(iter(faxbot.list_faxes()))
    assert job.status == "FAILED"  # the test transport fails this number
    for moment in (job.created_at, job.updated_at, listed.created_at):
        assert isinstance(moment, datetime)
        assert moment.utcoffset() == timedelta(0)
    assert before <= job.created_at <= job.updated_at <= datetime.now(UTC)
    assert listed.created_at == job.created_at


@pytest.mark.slow
def test_an_appliance_not_ready_answers_health_ready_not_an_error(degraded: Appliance) -> None:
    with Faxbot(degraded.url, degraded.tokens["admin"]) as faxbot:
        ready = faxbot.health_ready()  # the spec documents its 503 with the Health body
    assert ready.status == "not ready"
    assert ready.checks["storage"]["ok"] is False
