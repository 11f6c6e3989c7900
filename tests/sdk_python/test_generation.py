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
