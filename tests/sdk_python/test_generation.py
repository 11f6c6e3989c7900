"""codegen's python_sdk generator: deterministic, marked as generated, and loud about any
warning openapi-python-client has about the spec (a warning means a dropped operation)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from faxbot_codegen import python_sdk
from faxbot_codegen.outputs import NOTICE, Outputs

pytestmark = pytest.mark.slow

JOB = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {"id": {"type": "string"}, "status": {"type": "string"}},
}
SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Faxbot", "version": "3.0.0"},
    "paths": {
        "/fax/{job_id}": {
            "get": {
                "operationId": "get_fax_status",
                "tags": ["fax"],
                "parameters": [
                    {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {
                        "description": "The job",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/FaxJob"}}
                        },
                    }
                },
            }
        }
    },
    "components": {"schemas": {"FaxJob": JOB}},
}


def generated(spec: dict[str, Any]) -> Outputs:
    outputs = Outputs()
    python_sdk.generate(spec, outputs)
    return outputs


def test_the_output_is_the_same_every_run_and_says_it_is_generated() -> None:
    first, second = generated(SPEC), generated(SPEC)
    assert first.files == second.files
    assert first.owned == {python_sdk.FOLDER}
    names = sorted(first.files)
    assert f"{python_sdk.FOLDER}/api/fax/get_fax_status.py" in names
    assert f"{python_sdk.FOLDER}/models/fax_job.py" in names
    assert all(name.startswith(f"{python_sdk.FOLDER}/") for name in names)
    assert not [n for n in names if ".ruff_cache" in n or "__pycache__" in n]
    for name in names:
        assert name.endswith(".py")
        assert first.files[name].decode().startswith(f"# {NOTICE}\n"), name


def test_a_warning_about_the_spec_fails_the_generation() -> None:
    # Litestar's default 400 body: `extra` may be an array without `items`, which
    # openapi-python-client cannot read; it would drop that response and carry on.
    spec = copy.deepcopy(SPEC)
    spec["paths"]["/fax/{job_id}"]["get"]["responses"]["400"] = {
        "description": "Validation Exception",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "extra": {"type": ["null", "object", "array"], "additionalProperties": {}}
                    },
                }
            }
        },
    }
    outputs = Outputs()
    with pytest.raises(python_sdk.GeneratorFailed) as failed:
        python_sdk.generate(spec, outputs)
    assert "WARNING parsing GET /fax/{job_id}" in str(failed.value)
    assert "Cannot parse response for status code" in str(failed.value)
    assert outputs.files == {}


def test_enums_in_component_properties_are_opened_for_the_generator() -> None:
    spec = copy.deepcopy(SPEC)
    schemas = spec["components"]["schemas"]
    schemas["FaxStatus"] = {"type": "string", "enum": ["queued", "SUCCESS"]}
    schemas["FaxJob"]["properties"]["status"] = {"$ref": "#/components/schemas/FaxStatus"}
    schemas["FaxJob"]["properties"]["kind"] = {"type": "string", "enum": ["a", "b"]}
    schemas["FaxJob"]["properties"]["was"] = {
        "oneOf": [{"$ref": "#/components/schemas/FaxStatus"}, {"type": "null"}]
    }
    schemas["FaxJob"]["properties"]["history"] = {
        "type": "array",
        "items": {"$ref": "#/components/schemas/FaxStatus"},
    }
    opened = python_sdk.open_enums(spec)
    properties = opened["components"]["schemas"]["FaxJob"]["properties"]
    assert properties["status"] == {
        "anyOf": [{"$ref": "#/components/schemas/FaxStatus"}, {"type": "string"}]
    }
    assert properties["kind"]["anyOf"][1] == {"type": "string"}
    assert properties["id"] == {"type": "string"}
    assert opened["components"]["schemas"]["FaxStatus"] == schemas["FaxStatus"]  # still an enum
    assert spec["components"]["schemas"]["FaxJob"]["properties"]["status"] == {
        "$ref": "#/components/schemas/FaxStatus"
    }  # the spec itself is left alone

    assert properties["was"]["oneOf"][0]["anyOf"][1] == {"type": "string"}
    assert properties["history"]["items"]["anyOf"][1] == {"type": "string"}

    model = generated(spec).files[f"{python_sdk.FOLDER}/models/fax_job.py"].decode()
    assert "status: FaxStatus | str" in model
    assert "was: FaxStatus | None | str | Unset" in model
    assert "history: list[FaxStatus | str] | Unset" in model


def test_the_operations_table_is_emitted_from_the_spec() -> None:
    table = generated(SPEC).files[f"{python_sdk.FOLDER}/operations.py"].decode()
    assert table.startswith(f"# {NOTICE}\n")
    assert "GET_FAX_STATUS: Operation[FaxJob] = Operation(" in table
    assert 'path="/fax/{job_id}",' in table
    assert 'path_params=("job_id",),' in table
    assert "parse=FaxJob.from_dict," in table
    assert (
        "OPERATIONS: dict[str, Operation[Any]] = {\n    GET_FAX_STATUS.id: GET_FAX_STATUS,\n}"
        in table
    )
