"""The Node SDK, sdks/node: its generated layer is current and deterministic, and its own
tests (`node --test`, against the built dist/) pass against a real appliance."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from faxbot_codegen import node_sdk, retry_policy, spec
from faxbot_codegen.outputs import NOTICE, Outputs, compare

from tests.conftest import REPO
from tests.server.receiving import post, received, receiving

PACKAGE = REPO / "sdks" / "node"
# Every test in sdks/node/test/*.test.mjs: errors 13, fax 6, filters 5, operations 4,
# options 4, retries 13, wait 8, readme 1 + one per ```js example in sdks/node/README.md (7).
# A test that goes missing or skips fails here.
EXPECTED_TESTS = 67
RECEIVED_PDF = b"%PDF-1.4 received for the Node SDK test\n"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"`{name}` is not on PATH: the Node SDK needs Node 20 and npm (scripts/setup)")
    return found


def _run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        args, check=False, cwd=PACKAGE, capture_output=True, text=True, **kwargs
    )
    output = f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    assert result.returncode == 0, f"{' '.join(args)} exited {result.returncode}:\n{output}"
    return result


def test_generated_sources_are_current_and_deterministic() -> None:
    # From the committed spec: tests/codegen checks that it is the route handlers' spec.
    committed = json.loads((REPO / spec.PATH).read_text(encoding="utf-8"))
    first, second = Outputs(), Outputs()
    node_sdk.generate(committed, first)
    node_sdk.generate(json.loads(json.dumps(committed)), second)
    assert first.files == second.files
    assert first.owned == {node_sdk.FOLDER}
    assert sorted(first.files) == [
        "sdks/node/src/generated/operations.ts",
        "sdks/node/src/generated/types.ts",
    ]
    for content in first.files.values():
        assert content.decode().startswith(f"// {NOTICE}\n")
    retry_policy.generate_node(REPO, first)  # the same folder, from sdks/retry-policy.json
    drift = compare(first, REPO)
    assert not drift.any, "run `faxbot codegen`:\n" + drift.summary()


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string"}, "string"),
        ({"oneOf": [{"type": "string"}, {"type": "null"}]}, "string | null"),
        ({"type": "string", "nullable": True}, "string | null"),
        ({"type": ["null", "object", "array"]}, "null | Record<string, unknown> | unknown[]"),
        ({"type": "array", "items": {"$ref": "#/components/schemas/FaxJob"}}, "FaxJob[]"),
        ({"type": "array", "items": {"type": ["string", "integer"]}}, "(string | number)[]"),
        ({"type": "object", "additionalProperties": {}}, "Record<string, unknown>"),
        ({"type": "object", "additionalProperties": {"type": "string"}}, "Record<string, string>"),
        ({"enum": ["queued", "SUCCESS"]}, '"queued" | "SUCCESS"'),
        (
            {
                "type": "object",
                "properties": {"a-b": {"type": "integer"}, "c": {}},
                "required": ["c"],
            },
            '{ "a-b"?: number; c: unknown }',
        ),
        ({"type": "string", "format": "binary"}, "Blob"),
        ({}, "unknown"),
    ],
)
def test_typescript_types_from_schemas(schema: dict[str, Any], expected: str) -> None:
    assert node_sdk.ts_type(schema) == expected


@pytest.mark.slow
def test_node_sdk_tests_pass_against_a_real_appliance(tmp_path: Path) -> None:
    npm, node = _tool("npm"), _tool("node")
    if not (PACKAGE / "node_modules").is_dir():
        _run([npm, "ci", "--no-audit", "--no-fund"], timeout=600)
    _run([npm, "run", "build"], timeout=300)

    appliance = receiving(tmp_path)
    appliance.start()
    try:
        # A received fax on the number of the key `desk`, for the inbound tests
        # (sdks/node/test/inbound.test.mjs reads the same bytes).
        answer = post(appliance, [received("rx-node", RECEIVED_PDF)])
        assert answer.status_code == 200, answer.text
        env = {
            **os.environ,
            "FAXBOT_URL": appliance.url,
            "FAXBOT_API_KEY": appliance.tokens["admin"],
            "FAXBOT_READER_KEY": appliance.tokens["reader"],
            "FAXBOT_INBOUND_KEY": appliance.tokens["desk"],
        }
        result = subprocess.run(
            [node, "--test", "--test-reporter=tap"],
            check=False,
            cwd=PACKAGE,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        appliance.stop()

    output = f"{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    assert result.returncode == 0, f"node --test exited {result.returncode}:\n{output}"
    summary = dict(
        re.findall(r"^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$", result.stdout, re.M)
    )
    assert summary == {
        "tests": str(EXPECTED_TESTS),
        "pass": str(EXPECTED_TESTS),
        "fail": "0",
        "cancelled": "0",
        "skipped": "0",
        "todo": "0",
    }, output
