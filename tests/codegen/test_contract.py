"""docs/openapi.json is a contract: a real `faxbot serve` answers every operation in it, on its
success paths and on every documented error status a client can cause, with a status the spec
documents for that operation and a JSON body that validates against that status's schema."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import quote

import httpx
import jsonschema
import pytest
from faxbot.server.app import MULTIPART_SLACK
from faxbot_plugin_test.webhook import sign

from tests.codegen.conftest import INBOUND_NUMBER, UPLOAD_LIMIT, WEBHOOK_SECRET
from tests.conftest import REPO
from tests.server.conftest import Appliance, one_page_pdf

pytestmark = pytest.mark.slow

SPEC: dict[str, Any] = json.loads((REPO / "docs" / "openapi.json").read_text(encoding="utf-8"))
OPERATIONS = {
    operation["operationId"]: (method.upper(), path, operation)
    for path, item in SPEC["paths"].items()
    for method, operation in item.items()
    if isinstance(operation, dict) and "operationId" in operation
}
TO = "+12025550143"
REPLAY_KEY = "contract-replay"  # the Idempotency-Key of the first fax the fixture sends
ERROR_STATUSES = {400, 401, 403, 404, 413, 415, 422, 503}
# Documented statuses no request from outside can cause, and why.
UNREACHABLE = {
    ("send_fax", 503): "only while the appliance starts or with no transport running",
    ("get_fax_status", 400): "Litestar's automatic 400 for a handler with parameters; the only "
    "parameter is a path string, which always validates",
    ("get_plugin", 400): "as get_fax_status",
    ("get_plugin_config", 400): "as get_fax_status",
    ("get_inbound", 400): "as get_fax_status",
    ("get_inbound_pdf", 400): "as get_fax_status",
    ("get_inbound_pdf", 410): "only once retention deleted the document "
    "(tests/server/test_retention.py)",
}


@cache
def documents() -> dict[str, bytes]:
    return {
        "pdf": one_page_pdf(),
        "text": b"Hello from the contract test\n",
        "other_text": b"Another fax\n",
        "empty": b"",
        "broken_pdf": b"%PDF-1.4 and then nothing a PDF reader can use",
        "binary": bytes(range(256)) * 4,  # neither PDF nor UTF-8
        "over_limit": b"a" * (UPLOAD_LIMIT + 1),  # caught while streaming the document
        "over_body": b"a" * (UPLOAD_LIMIT + MULTIPART_SLACK + 1),  # caught on the body size
    }


@dataclass(frozen=True)
class Call:
    """One request and the status it must get. Path and query values are formatted with the
    values the appliance fixture made (`{job}`, `{cursor}`)."""

    operation: str
    status: int
    why: str
    key: str | None = "admin"  # a token name of the appliance; None: no key; "bogus"
    bearer: bool = False
    path: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    to: str | None = TO  # multipart field, for send_fax
    document: str | None = "pdf"  # a documents() name for the `file` part, for send_fax
    form_encoded: bool = False  # send_fax with application/x-www-form-urlencoded instead
    appliance: str = "contract"  # or "degraded"

    @property
    def id(self) -> str:
        return f"{self.operation}-{self.status}-{self.why}"


# the path parameters' valid values
PATH_VALUES = {"job_id": "{job}", "plugin_id": "test", "id": "{inbound}"}


def auth_calls() -> Iterator[Call]:
    """401 without a key and with an unknown one, 403 with a key lacking the scope."""
    for op_id, (_, path, operation) in sorted(OPERATIONS.items()):
        if not operation.get("security"):
            continue
        values = {name: value for name, value in PATH_VALUES.items() if f"{{{name}}}" in path}
        lacking = "outsider" if operation["x-faxbot-scope"] == "fax:read" else "reader"
        yield Call(op_id, 401, "no-key", key=None, path=values)
        yield Call(op_id, 401, "unknown-key", key="bogus", path=values)
        if operation["x-faxbot-scope"] is not None:  # None: any valid key (GET /key)
            yield Call(op_id, 403, f"{lacking}-key", key=lacking, path=values)


CALLS = [
    Call("health_live", 200, "no-key-needed", key=None),
    Call("health_ready", 200, "ready", key=None),
    Call("health_ready", 503, "storage-gone", key=None, appliance="degraded"),
    Call("get_config", 200, "admin"),
    Call("get_config", 200, "bearer", bearer=True),
    Call("get_diagnostics", 200, "admin"),
    Call("get_key", 200, "admin"),
    Call("get_key", 200, "reader", key="reader"),
    Call("list_plugins", 200, "admin"),
    Call("get_plugin", 200, "known", path={"plugin_id": "test"}),
    Call("get_plugin", 404, "unknown", path={"plugin_id": "no-such-plugin"}),
    Call("get_plugin_config", 200, "known", path={"plugin_id": "local"}),
    Call("get_plugin_config", 404, "unknown", path={"plugin_id": "no-such-plugin"}),
    Call("get_plugin_registry", 200, "installed"),
    Call("list_faxes", 200, "first-page"),
    Call("list_faxes", 200, "one-per-page", query={"limit": "1"}),
    Call("list_faxes", 200, "next-page", query={"limit": "1", "cursor": "{cursor}"}),
    Call("list_faxes", 200, "reader", key="reader"),
    Call("list_faxes", 400, "limit-zero", query={"limit": "0"}),
    Call("list_faxes", 400, "limit-not-a-number", query={"limit": "many"}),
    Call("list_faxes", 400, "foreign-cursor", query={"cursor": "not-a-cursor"}),
    Call("get_fax_status", 200, "known", path={"job_id": "{job}"}),
    # admin's job: another key's, so `reader` (fax:read only) is answered as if it did not exist
    Call("get_fax_status", 404, "another-keys-job", key="reader", path={"job_id": "{job}"}),
    Call("get_fax_status", 404, "unknown", path={"job_id": "0" * 32}),
    Call("list_inbound", 200, "own-numbers", key="desk"),
    Call("list_inbound", 200, "no-numbers", key="outsider"),
    Call("list_inbound", 400, "foreign-cursor", key="desk", query={"cursor": "not-a-cursor"}),
    Call("list_inbound", 400, "not-e164", key="desk", query={"to": "202-555-0100"}),
    Call("get_inbound", 200, "known", key="desk", path={"id": "{inbound}"}),
    Call("get_inbound", 404, "another-numbers-fax", key="admin", path={"id": "{inbound}"}),
    Call("get_inbound", 404, "unknown", key="desk", path={"id": "0" * 32}),
    Call("get_inbound_pdf", 200, "known", key="desk", path={"id": "{inbound}"}),
    Call("get_inbound_pdf", 404, "unknown", key="desk", path={"id": "0" * 32}),
    Call("send_fax", 202, "pdf"),
    Call("send_fax", 202, "text", document="text"),
    Call("send_fax", 202, "bearer", bearer=True, document="other_text"),
    Call("send_fax", 202, "idempotent-replay", headers={"Idempotency-Key": REPLAY_KEY}),
    Call(
        "send_fax",
        422,
        "idempotency-key-reused",
        headers={"Idempotency-Key": REPLAY_KEY},
        document="text",
    ),
    Call("send_fax", 400, "idempotency-key-too-long", headers={"Idempotency-Key": "k" * 256}),
    Call("send_fax", 400, "not-e164", to="202-555-0143"),
    Call("send_fax", 400, "no-number", to=None),
    Call("send_fax", 400, "no-file", document=None),
    Call("send_fax", 413, "document-over-limit", document="over_limit"),
    Call("send_fax", 413, "body-over-limit", document="over_body"),
    Call("send_fax", 415, "not-multipart", form_encoded=True),
    Call("send_fax", 415, "binary-document", document="binary"),
    Call("send_fax", 422, "unreadable-pdf", document="broken_pdf"),
    Call("send_fax", 422, "empty-document", document="empty"),
    Call("send_fax", 422, "destination-refused", to="+19005550100"),  # US premium rate
    *auth_calls(),
]


@pytest.fixture(scope="module")
def known(contract: Appliance) -> dict[str, str]:
    """Two faxes (the first with REPLAY_KEY), and the cursor after the newest."""
    with httpx.Client(base_url=contract.url, trust_env=False, timeout=30) as client:
        client.headers["X-API-Key"] = contract.tokens["admin"]
        first = client.post(
            "/fax",
            data={"to": TO},
            files={"file": ("a.pdf", documents()["pdf"])},
            headers={"Idempotency-Key": REPLAY_KEY},
        )
        assert first.status_code == 202, first.text
        second = client.post("/fax", data={"to": TO}, files={"file": ("b.txt", b"second\n")})
        assert second.status_code == 202, second.text
        page = client.get("/fax", params={"limit": 1}).json()
        event = {
            "type": "received",
            "provider_sid": "rx-contract",
            "to": INBOUND_NUMBER,
            "received_at": 1_790_000_000.0,
            "document": base64.b64encode(documents()["pdf"]).decode(),
        }
        body = json.dumps({"events": [event]}).encode()
        signature = sign(body, WEBHOOK_SECRET)
        received = client.post(
            "/webhooks/test", content=body, headers={"X-Test-Signature": signature}
        )
        assert received.status_code == 200, received.text
        client.headers["X-API-Key"] = contract.tokens["desk"]
        (fax,) = client.get("/inbound").json()["items"]
    assert page["next_cursor"], page
    return {"job": first.json()["id"], "cursor": page["next_cursor"], "inbound": fax["id"]}


def send(call: Call, running: Appliance, known: dict[str, str]) -> httpx.Response:
    method, path, _ = OPERATIONS[call.operation]
    values = {name: quote(value.format(**known), safe="") for name, value in call.path.items()}
    headers = {name: value.format(**known) for name, value in call.headers.items()}
    if call.key is not None:
        token = running.tokens.get(call.key, "fbk_not-a-key-of-this-appliance")
        headers |= {"Authorization": f"Bearer {token}"} if call.bearer else {"X-API-Key": token}
    body: dict[str, Any] = {}
    if method == "POST" and call.form_encoded:
        body = {"data": {"to": call.to}}
    elif method == "POST":  # multipart: (None, value) is a plain field
        parts: dict[str, Any] = {} if call.to is None else {"to": (None, call.to)}
        if call.document is not None:
            parts["file"] = ("document", documents()[call.document])
        body = {"files": parts}
    with httpx.Client(base_url=running.url, trust_env=False, timeout=30) as client:
        return client.request(
            method,
            path.format(**values),
            params={name: value.format(**known) for name, value in call.query.items()},
            headers=headers,
            **body,
        )


def validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A response schema, its `#/components/...` references resolved against the spec's."""
    document = {**copy.deepcopy(schema), "components": SPEC["components"]}
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(
        document, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def assert_conforms(operation_id: str, response: httpx.Response) -> None:
    _, _, operation = OPERATIONS[operation_id]
    status = str(response.status_code)
    assert status in operation["responses"], (
        f"{operation_id} answered {status}, documented: {sorted(operation['responses'])}: "
        f"{response.text[:300]}"
    )
    content = operation["responses"][status].get("content", {})
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    assert media_type in content, f"{operation_id} {status}: {media_type} is not documented"
    if content[media_type]["schema"] == {"type": "string", "format": "binary"}:
        assert response.content, f"{operation_id} {status}: an empty document"
        return
    errors = sorted(validator(content[media_type]["schema"]).iter_errors(response.json()), key=str)
    assert not errors, f"{operation_id} {status}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors
    )


@pytest.mark.parametrize("call", CALLS, ids=lambda call: call.id)
def test_response_is_documented_and_valid(
    call: Call, request: pytest.FixtureRequest, known: dict[str, str]
) -> None:
    running: Appliance = request.getfixturevalue(call.appliance)
    response = send(call, running, known)
    assert response.status_code == call.status, response.text[:500]
    assert_conforms(call.operation, response)


def test_every_operation_and_reachable_error_status_has_a_call() -> None:
    covered = {(call.operation, call.status) for call in CALLS}
    for op_id, (_, _, operation) in OPERATIONS.items():
        documented = {int(status) for status in operation["responses"]}
        successes = {s for s in documented if s < 300}
        assert successes & {status for op, status in covered if op == op_id}, op_id
        for status in sorted(documented & ERROR_STATUSES):
            assert (op_id, status) in covered or (op_id, status) in UNREACHABLE, (
                f"{op_id} documents {status}: add a Call that causes it"
            )
    assert set(UNREACHABLE) <= {
        (op_id, int(status)) for op_id, (_, _, o) in OPERATIONS.items() for status in o["responses"]
    }, "UNREACHABLE names a status the spec no longer documents"


def test_the_check_rejects_a_body_the_schema_does_not_describe() -> None:
    job = {"id": "j", "to": TO, "status": "queued", "pages": "1", "error": None}
    response = httpx.Response(200, json=job)
    with pytest.raises(AssertionError, match=r"pages: '1' is not of type 'integer'"):
        assert_conforms("get_fax_status", response)
    with pytest.raises(AssertionError, match=r"'backend' is a required property"):
        assert_conforms("get_fax_status", response)
    with pytest.raises(AssertionError, match=r"answered 409"):
        assert_conforms("get_fax_status", httpx.Response(409, json={}))
