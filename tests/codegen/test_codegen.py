"""`faxbot codegen` for the OpenAPI spec and the MCP tool manifest: the same bytes every time,
the committed copies up to date, drift caught by `--check`, a valid OpenAPI 3.1 document, and
one story told by the capability catalog, the route handlers, the spec and the manifest."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import warnings
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from faxbot.catalog import load_catalog
from faxbot.cli.main import cli
from faxbot.jobs.service import JobService
from faxbot.server.app import route_handlers
from faxbot.server.auth import SCOPE_OPT
from faxbot.server.models import FaxJob
from faxbot.server.routes import Operation, diagnostics, fax, inbound, keys, plugins, system
from faxbot.server.routes import handlers as build_handlers
from faxbot_codegen import mcp, spec
from faxbot_codegen.generate import generate_all
from faxbot_codegen.outputs import COMMAND, NOTICE, compare, write
from litestar.di import NamedDependency
from litestar.params import FromPath

from tests.conftest import REPO
from tests.server.conftest import FAXBOT

ONLY = {"openapi", "mcp"}
OUTPUTS = sorted([spec.PATH, spec.PACKAGED, mcp.PATH, *mcp.COPIES])  # and the packaged copies
HEALTH = {"health_live", "health_ready"}
# Catalog entries whose handlers are not written yet (PRODUCT.md section 4 lists them). Strict
# xfail: the day they are served these tests pass, fail as XPASS, and this set must shrink.
NOT_YET_SERVED: set[str] = set()  # every catalog operation is served since issue 12
NOT_YET_SERVED_REASON = "no route handlers yet, so no spec operation and no MCP tool"


def committed(path: str) -> Any:
    return json.loads((REPO / path).read_text(encoding="utf-8"))


def spec_operations(document: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (METHOD, path, operation)."""
    return {
        operation["operationId"]: (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "operationId" in operation
    }


def template(path: str) -> str:
    """The catalog writes `/fax/{id}` where the handler says `/fax/{job_id}`; clients see the
    same URL either way, so compare paths with their placeholders unnamed."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def run_codegen(*args: str, seed: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FAXBOT, "codegen", "--only", ",".join(sorted(ONLY)), *args],
        cwd=cwd,
        env={**os.environ, "PYTHONHASHSEED": seed},
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def invoke_check(root: Path) -> Result:
    """`faxbot codegen --check` through the real command group, in this process."""
    return CliRunner().invoke(
        cli, ["codegen", "--check", "--only", ",".join(sorted(ONLY)), "--root", str(root)]
    )


# -- the same bytes every time -------------------------------------------------------------


def test_building_the_spec_emits_no_deprecation_warning() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spec.build_spec()
    assert [str(w.message) for w in caught] == []


def test_generating_twice_in_process_gives_identical_bytes() -> None:
    first, second = generate_all(ONLY), generate_all(ONLY)
    assert sorted(first.files) == OUTPUTS
    assert first.files == second.files


@pytest.mark.slow
def test_generated_bytes_do_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    trees = {}
    for seed in ("0", "4242"):
        root = tmp_path / f"seed-{seed}"
        done = run_codegen("--root", str(root), seed=seed)
        assert done.returncode == 0, done.stderr
        trees[seed] = {rel: (root / rel).read_bytes() for rel in OUTPUTS}
    assert trees["0"] == trees["4242"]
    assert trees["0"] == generate_all(ONLY).files


# -- the committed outputs are up to date ------------------------------------------------------


def test_committed_outputs_match_what_the_handlers_produce() -> None:
    drift = compare(generate_all(ONLY), REPO)
    assert not drift.any, drift.summary()


@pytest.mark.slow
@pytest.mark.parametrize("seed", ["0", "31337"])
def test_check_passes_on_the_committed_outputs(seed: str) -> None:
    done = run_codegen("--check", seed=seed)
    assert done.returncode == 0, done.stderr
    assert f"{len(OUTPUTS)} files up to date" in done.stdout


# -- drift is caught -----------------------------------------------------------------------


class FaxJobWithAttempts(FaxJob, kw_only=True):
    """FaxJob plus one field: the kind of change a response model goes through."""

    attempts: int


async def get_fax_status_with_attempts(
    jobs: NamedDependency[JobService], job_id: FromPath[str]
) -> FaxJobWithAttempts:
    """GET /fax/{job_id} declared exactly as served, but answering FaxJobWithAttempts."""
    raise NotImplementedError  # never served: only its declaration feeds the spec


WITH_ATTEMPTS = Operation(
    "get_fax_status", get_fax_status_with_attempts, fax.get_fax_status.options
)


def test_check_fails_when_a_response_model_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(generate_all(ONLY), tmp_path)  # a root whose outputs match the handlers as they are
    assert invoke_check(tmp_path).exit_code == 0
    entries = [*fax.HANDLERS, *inbound.HANDLERS, *plugins.HANDLERS, *system.HANDLERS]
    entries += [*keys.HANDLERS, *diagnostics.HANDLERS]
    handlers = build_handlers([WITH_ATTEMPTS if e is fax.get_fax_status else e for e in entries])
    assert len(handlers) == len(route_handlers())
    # spec.py imported route_handlers by name: patch the name it calls, not faxbot.server.app's
    monkeypatch.setattr(spec, "route_handlers", lambda: handlers)

    result = invoke_check(tmp_path)

    assert result.exit_code == 1, result.output
    assert "committed outputs differ from their source" in result.stderr
    assert f"differs: {spec.PATH}" in result.stderr
    assert f"--- {spec.PATH} (first" in result.stderr
    assert "FaxJobWithAttempts" in result.stderr
    assert f"differs: {mcp.PATH}" in result.stderr  # a tool's outputSchema is the answer's
    served = spec.build_spec()
    response = served["paths"]["/fax/{job_id}"]["get"]["responses"]["200"]
    assert response["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/FaxJobWithAttempts"
    }
    assert "attempts" in served["components"]["schemas"]["FaxJobWithAttempts"]["required"]


def test_check_reports_a_hand_edited_and_a_missing_output(tmp_path: Path) -> None:
    generated = generate_all(ONLY).files
    text = generated[spec.PATH].decode("utf-8")
    assert text.count('"title": "Faxbot"') == 1
    (tmp_path / "docs").mkdir()
    (tmp_path / spec.PATH).write_text(
        text.replace('"title": "Faxbot"', '"title": "Faxbot (edited)"'), encoding="utf-8"
    )

    result = invoke_check(tmp_path)

    assert result.exit_code == 1, result.output
    assert f"differs: {spec.PATH}" in result.stderr
    assert f"missing: {mcp.PATH}" in result.stderr
    assert '-    "title": "Faxbot (edited)",' in result.stderr
    assert '+    "title": "Faxbot",' in result.stderr


def test_codegen_writes_what_changed_and_then_checks_clean(tmp_path: Path) -> None:
    def run(*args: str) -> Result:
        return CliRunner().invoke(
            cli, ["codegen", *args, "--only", ",".join(sorted(ONLY)), "--root", str(tmp_path)]
        )

    first = run()
    assert first.exit_code == 0, first.output
    assert [line.strip() for line in first.output.splitlines()[1:]] == OUTPUTS
    again = run()
    assert "0 written" in again.output  # unchanged files are left alone
    assert run("--check").exit_code == 0
    assert {rel: (tmp_path / rel).read_bytes() for rel in OUTPUTS} == generate_all(ONLY).files


# -- a valid OpenAPI 3.1 document ------------------------------------------------------------


def test_spec_passes_openapi_spec_validator() -> None:
    from openapi_spec_validator import validate  # dev dependency: openapi-spec-validator

    document = committed(spec.PATH)
    assert document["openapi"].startswith("3.1.")
    validate(document)


def test_openapi_spec_validator_rejects_a_broken_spec() -> None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    broken = copy.deepcopy(committed(spec.PATH))
    broken["paths"]["/fax"]["get"]["parameters"][0]["in"] = "body"  # OpenAPI 2, not 3.1
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


# -- generated files say so ------------------------------------------------------------------


@pytest.mark.parametrize("path", OUTPUTS)
def test_generated_file_carries_the_notice_naming_the_command(path: str) -> None:
    text = generate_all(ONLY).files[path].decode("utf-8")
    assert NOTICE in text
    assert "`faxbot codegen`" in text


def test_manifest_opens_with_the_notice() -> None:
    text = generate_all({"mcp"}).files[mcp.PATH].decode("utf-8")
    assert text.startswith('{\n  "$comment": ' + json.dumps(NOTICE))


def test_spec_info_carries_the_notice_and_the_command() -> None:
    info = json.loads(generate_all({"openapi"}).files[spec.PATH])["info"]
    assert (info["x-generated-by"], info["x-regenerate"]) == (NOTICE, COMMAND)


# -- catalog, handlers, spec and manifest agree ------------------------------------------------


def _catalog_operations() -> list[Any]:
    return [
        pytest.param(
            op_id,
            marks=pytest.mark.xfail(strict=True, reason=NOT_YET_SERVED_REASON)
            if op_id in NOT_YET_SERVED
            else (),
        )
        for op_id in sorted(load_catalog().operations)
    ]


@pytest.mark.parametrize("operation_id", _catalog_operations())
def test_catalog_operation_is_in_the_spec_as_declared(operation_id: str) -> None:
    declared = load_catalog().operations[operation_id]
    operations = spec_operations(committed(spec.PATH))
    assert operation_id in operations, f"{operation_id}: in the catalog, not in the spec"
    method, path, operation = operations[operation_id]
    assert method == declared.method
    assert template(path) == template(declared.path)
    assert operation["x-faxbot-scope"] == declared.scope
    handler = {h.operation_id: h for h in route_handlers()}[operation_id]
    assert handler.opt.get(SCOPE_OPT) == declared.scope, "the scope the guard enforces"


def test_every_spec_operation_but_the_health_checks_is_in_the_catalog() -> None:
    catalog = load_catalog()
    operations = spec_operations(committed(spec.PATH))
    assert set(operations) >= HEALTH
    assert set(operations) - HEALTH <= set(catalog.operations)
    for op_id, (_, _, operation) in operations.items():
        needs_key = op_id not in HEALTH
        assert ("x-faxbot-scope" in operation) is needs_key, op_id
        assert bool(operation.get("security")) is needs_key, op_id


def _spec_operations() -> list[Any]:
    return sorted(spec_operations(committed(spec.PATH)))


@pytest.mark.parametrize("operation_id", _spec_operations())
def test_documented_errors_have_the_error_body(operation_id: str) -> None:
    """`{"error", "details"}` for every 4xx, and for a 5xx of an operation that needs a key
    (the health checks answer 503 with their Health body)."""
    _, _, operation = spec_operations(committed(spec.PATH))[operation_id]
    error_body = {"$ref": "#/components/schemas/ErrorBody"}
    for status, response in operation["responses"].items():
        if status.startswith("4") or (status.startswith("5") and "security" in operation):
            schema = response["content"]["application/json"]["schema"]
            assert schema == error_body, f"{operation_id} {status}: {schema}"


def _catalog_tools() -> list[Any]:
    return [
        pytest.param(
            tool,
            marks=pytest.mark.xfail(strict=True, reason=NOT_YET_SERVED_REASON)
            if tool in NOT_YET_SERVED
            else (),
        )
        for capability in load_catalog().capabilities.values()
        for tool in capability.mcp_tools
    ]


@pytest.mark.parametrize("tool", _catalog_tools())
def test_catalog_tool_is_in_the_manifest(tool: str) -> None:
    assert tool in {t["name"] for t in committed(mcp.PATH)["tools"]}


def test_the_servers_packages_ship_the_manifest_byte_for_byte() -> None:
    manifest = (REPO / mcp.PATH).read_bytes()
    for path in mcp.COPIES:
        assert (REPO / path).read_bytes() == manifest, path


@pytest.mark.parametrize("tool", committed(mcp.PATH)["tools"], ids=lambda t: t["name"])
def test_manifest_tool_maps_to_its_capability_and_operation(tool: dict[str, Any]) -> None:
    catalog = load_catalog()
    meta = tool["_meta"]
    capability = catalog.capabilities[meta["faxbot/capability"]]
    assert tool["name"] in capability.mcp_tools
    operation_id = meta["faxbot/operationId"]
    assert operation_id == tool["name"] and operation_id in capability.operations
    operations = spec_operations(committed(spec.PATH))
    assert operation_id in operations, f"{tool['name']}: {operation_id} is not in the spec"
    method, path, operation = operations[operation_id]
    assert (meta["faxbot/method"], meta["faxbot/path"]) == (method, path)
    assert meta["faxbot/scope"] == catalog.operations[operation_id].scope
    assert tool["annotations"]["readOnlyHint"] is (method == "GET")
    assert tool["title"] == tool["annotations"]["title"] == operation["summary"]

    schema = tool["inputSchema"]
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert "oneOf" not in schema and "anyOf" not in schema  # refused by some assistants' APIs
    arguments = {p["name"].lower().replace("-", "_"): p for p in operation.get("parameters", [])}
    required = {name for name, p in arguments.items() if p.get("required")}
    for media in operation.get("requestBody", {}).get("content", {}).values():
        fields = media["schema"].get("properties", {})
        # the REST multipart's file is the MCP document inputs (text, path, content_base64)
        arguments |= {k: v for k, v in fields.items() if v.get("format") != "binary"}
        required |= {k for k in media["schema"].get("required", []) if k in arguments}
    extra = set(meta.get("faxbot/stdioOnly", []))
    if tool["name"] == "send_fax":
        extra |= {"text", "content_base64"}
    assert set(schema["properties"]) == set(arguments) | extra
    assert set(schema["required"]) == required
    assert "$ref" not in json.dumps(tool), "schemas stand alone: every $ref inlined"


@pytest.mark.parametrize("tool", committed(mcp.PATH)["tools"], ids=lambda t: t["name"])
def test_manifest_output_schema_is_the_operations_json_answer(tool: dict[str, Any]) -> None:
    """A tool's structured content is the operation's JSON answer (get_inbound_pdf, whose
    answer is a PDF, describes the PDF instead): checked here against the spec's schema with
    its references resolved, and by the MCP clients of tests/mcp against real answers."""
    output = tool["outputSchema"]
    assert output["type"] == "object"
    if tool["name"] == "get_inbound_pdf":
        return
    document = committed(spec.PATH)
    _, _, operation = spec_operations(document)[tool["name"]]
    answer = next(r for s, r in operation["responses"].items() if s.startswith("2"))
    schema = answer["content"]["application/json"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[-1]
    declared = document["components"]["schemas"][name]
    assert set(output["properties"]) == set(declared["properties"])
    assert output["required"] == declared["required"]
