"""Schemathesis against a real appliance on loopback: requests generated from docs/openapi.json
for the GET operations and POST /fax, with the admin key. No response may be a server error,
and every response must conform to the spec (documented status, content type, headers, body).

A module of its own, skipped with its reason where schemathesis is not installed, so that
test_contract.py still runs there."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="dev dependency schemathesis==4.32.5")

import requests  # noqa: E402  (schemathesis's transport; installed with it)
from hypothesis import settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import checks  # noqa: E402

from tests.conftest import REPO  # noqa: E402
from tests.server.conftest import Appliance  # noqa: E402

pytestmark = pytest.mark.slow

SPEC = json.loads((REPO / "docs" / "openapi.json").read_text(encoding="utf-8"))
GETS = sorted(
    operation["operationId"]
    for item in SPEC["paths"].values()
    for method, operation in item.items()
    if method == "get" and isinstance(operation, dict)
)
FUZZED = [*GETS, "send_fax"]
SCHEMA = schemathesis.openapi.from_dict(SPEC).include(operation_id=FUZZED)
# Not positive_data_acceptance: a cursor is opaque, so a schema-valid string the API never
# returned is rightly a 400; nor the checks that need links or several operations' state.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.ignored_auth,
]


# The schema's pattern admits any +digits, and the file any bytes: nearly every generated fax
# is rightly refused (400, 415). Mix in faxes that can be accepted, so the success path
# (text of any characters rendered to a PDF, then queued) is fuzzed too.
NUMBERS = ["+12025550143", "+442079460958", "+4930901820", "+33142685300", "+81312345678"]
SENDABLE = st.fixed_dictionaries(
    {
        "to": st.sampled_from(NUMBERS),
        "file": st.text(min_size=1, max_size=2000).map(lambda text: text.encode("utf-8")),
    }
)


@SCHEMA.hook
def before_generate_body(
    context: schemathesis.HookContext, strategy: st.SearchStrategy[object]
) -> st.SearchStrategy[object]:
    if context.operation is not None and context.operation.label == "POST /fax":
        return st.one_of(strategy, SENDABLE)
    return strategy


@pytest.fixture(scope="module")
def session(contract: Appliance) -> Iterator[requests.Session]:
    with requests.Session() as client:
        client.trust_env = False  # no proxy from the environment: loopback only
        client.headers["X-API-Key"] = contract.tokens["admin"]
        # one job, so that GET /fax answers with items from the first example on
        seeded = client.post(
            f"{contract.url}/fax", data={"to": NUMBERS[0]}, files={"file": ("a.txt", b"seed\n")}
        )
        assert seeded.status_code == 202, seeded.text
        yield client


def test_every_fuzzed_operation_is_in_the_schema() -> None:
    selected = {result.ok().definition.raw["operationId"] for result in SCHEMA.get_all_operations()}
    assert selected == set(FUZZED)


@SCHEMA.parametrize()
@settings(max_examples=50, deadline=None, database=None, derandomize=True)
def test_generated_requests_get_conforming_answers(
    case: schemathesis.Case, contract: Appliance, session: requests.Session
) -> None:
    case.call_and_validate(base_url=contract.url, session=session, checks=CHECKS)
