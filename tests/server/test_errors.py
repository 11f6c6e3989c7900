"""Errors a program can act on, and request ids, against a real `faxbot serve` on loopback:
every error body has `error`, `detail` (the same message), a `code` of ErrorCode, `details`
and the `request_id` its `X-Request-Id` header carries."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from faxbot.server.error_codes import ErrorCode

from tests.conftest import REPO
from tests.server.conftest import Appliance, build, one_page_pdf

pytestmark = pytest.mark.slow
TO = "+12025550143"
MAX_PAGES = 2
GENERATED_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
def appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    """One appliance for the module's tests (none changes what the others see), with a page
    limit a test document can pass."""
    running = build(
        tmp_path_factory.mktemp("errors"),
        extra=f"appliance:\n  limits:\n    max_pages: {MAX_PAGES}\n",
    )
    with running.running():
        yield running


def send(
    client: httpx.Client, to: str = TO, body: bytes | None = None, **headers: str
) -> httpx.Response:
    return client.post(
        "/fax",
        data={"to": to},
        files={"file": ("doc.pdf", body or one_page_pdf())},
        headers=headers,
    )


def pdf(pages: int) -> bytes:
    from fpdf import FPDF

    document = FPDF()
    document.set_font("helvetica", size=12)
    for _ in range(pages):
        document.add_page()
        document.cell(text="page")
    return bytes(document.output())


def error_of(response: httpx.Response, status: int, code: ErrorCode) -> dict[str, Any]:
    """The error body, after checking its shape, status, code and request id."""
    assert response.status_code == status, response.text
    assert code.status == status
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "detail", "code", "details", "request_id"}
    assert body["code"] == code.value
    assert body["detail"] == body["error"] and body["error"]
    assert isinstance(body["details"], dict)
    assert body["request_id"] == response.headers["X-Request-Id"]
    return body


def test_each_refusal_has_its_own_code(appliance: Appliance) -> None:
    with appliance.client(key="") as anonymous:
        error_of(anonymous.get("/fax"), 401, ErrorCode.MISSING_API_KEY)
        wrong = anonymous.get("/fax", headers={"X-API-Key": "fbk_not-a-real-token"})
        error_of(wrong, 401, ErrorCode.INVALID_API_KEY)
    with appliance.client("reader") as reader:
        body = error_of(send(reader), 403, ErrorCode.MISSING_SCOPE)
        assert body["details"] == {"required_scope": "fax:send", "key_id": "reader"}
    with appliance.client() as client:
        error_of(client.get("/no/such/route"), 404, ErrorCode.NOT_FOUND)
        error_of(client.get("/inbound/0123"), 404, ErrorCode.INBOUND_NOT_FOUND)
        job = error_of(client.get("/fax/0123"), 404, ErrorCode.JOB_NOT_FOUND)
        assert job["details"] == {"id": "0123"}
        plugin = error_of(client.get("/plugins/nope"), 404, ErrorCode.PLUGIN_NOT_FOUND)
        assert "test" in plugin["details"]["known"]
        read_only = client.put("/plugins/test/config", json={})
        read_only_body = error_of(read_only, 405, ErrorCode.METHOD_NOT_ALLOWED)
        assert "config.d" in read_only_body["details"]["how"]
        error_of(client.delete("/fax"), 405, ErrorCode.METHOD_NOT_ALLOWED)


def test_each_rejected_fax_has_its_own_code(appliance: Appliance) -> None:
    with appliance.client() as client:
        number = error_of(send(client, to="+1555"), 400, ErrorCode.INVALID_NUMBER)
        assert number["details"] == {"field": "to", "value": "+1555"}
        error_of(send(client, to=""), 400, ErrorCode.INVALID_NUMBER)
        long_key = send(client, **{"Idempotency-Key": "k" * 256})
        assert error_of(long_key, 400, ErrorCode.INVALID_REQUEST)["details"]["field"] == (
            "Idempotency-Key"
        )
        huge = send(client, body=b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024))
        error_of(huge, 413, ErrorCode.DOCUMENT_TOO_LARGE)
        png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
        error_of(send(client, body=png), 415, ErrorCode.UNSUPPORTED_DOCUMENT)
        error_of(client.post("/fax", json={"to": TO}), 415, ErrorCode.UNSUPPORTED_DOCUMENT)
        # the three 422s, which differ in more than their wording
        pages = error_of(send(client, body=pdf(MAX_PAGES + 1)), 422, ErrorCode.TOO_MANY_PAGES)
        assert pages["details"] == {"field": "file", "pages": 3, "max_pages": MAX_PAGES}
        damaged = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> broken\n%%EOF\n"
        error_of(send(client, body=damaged), 422, ErrorCode.UNREADABLE_DOCUMENT)
        first = send(client, **{"Idempotency-Key": "order-9"})
        assert first.status_code == 202
        other = send(client, to="+14155552671", **{"Idempotency-Key": "order-9"})
        reused = error_of(other, 422, ErrorCode.IDEMPOTENCY_KEY_REUSED)
        assert reused["details"]["job_id"] == first.json()["id"]


def test_a_bad_query_parameter_is_named(appliance: Appliance) -> None:
    with appliance.client() as client:
        limit = error_of(client.get("/fax", params={"limit": 0}), 400, ErrorCode.INVALID_REQUEST)
        assert "`limit`" in limit["error"]
        cursor = client.get("/fax", params={"cursor": "garbage!"})
        assert error_of(cursor, 400, ErrorCode.INVALID_CURSOR)["details"] == {"field": "cursor"}


def test_every_response_carries_a_request_id(appliance: Appliance) -> None:
    with appliance.client() as client:
        own = client.get("/fax", headers={"X-Request-Id": "call-7:retry.1_a-b"})
        assert own.status_code == 200
        assert own.headers["X-Request-Id"] == "call-7:retry.1_a-b"
        longest = "a" * 128
        assert (
            client.get("/health/live", headers={"X-Request-Id": longest}).headers["X-Request-Id"]
            == longest
        )
        generated = []
        for insane in ("a" * 129, "has space", "semi;colon", "ünï".encode(), b""):
            response = client.get("/fax/0123", headers={"X-Request-Id": insane})
            assert response.status_code == 404
            generated.append(response.headers["X-Request-Id"])
            assert response.json()["request_id"] == response.headers["X-Request-Id"]
        unknown_route = client.get("/nowhere", headers={"X-Request-Id": "route-404"})
        assert unknown_route.headers["X-Request-Id"] == "route-404"
        assert unknown_route.json()["request_id"] == "route-404"
        for path in ("/health/ready", "/openapi.json", "/plugins"):
            generated.append(client.get(path).headers["X-Request-Id"])
    assert all(GENERATED_ID.fullmatch(g) for g in generated)
    assert len(set(generated)) == len(generated)  # one per request


def test_the_request_log_line_has_the_request_id(appliance: Appliance) -> None:
    with appliance.client() as client:
        assert client.get("/fax", headers={"X-Request-Id": "log-me-1"}).status_code == 200
        refused = httpx.get(f"{appliance.url}/config", headers={"X-Request-Id": "log-me-2"})
        assert refused.status_code == 401
        generated = client.get("/fax/0123").headers["X-Request-Id"]
        assert client.get("/nowhere", headers={"X-Request-Id": "log-me-3"}).status_code == 404
    lines = [json.loads(line) for line in appliance.log.read_text().splitlines()]
    by_id = {e.get("request_id"): e for e in lines if e.get("event") == "request"}
    assert (by_id["log-me-1"]["path"], by_id["log-me-1"]["status"]) == ("/fax", 200)
    assert (by_id["log-me-2"]["path"], by_id["log-me-2"]["status"]) == ("/config", 401)
    assert by_id[generated]["status"] == 404
    assert (by_id["log-me-3"]["path"], by_id["log-me-3"]["status"]) == ("/nowhere", 404)


def test_an_unexpected_error_is_a_500_with_its_request_id_in_the_log(tmp_path: Path) -> None:
    """A storage that fails under the appliance (its folder replaced by a file) is not the
    client's fault: 500 `internal_error`, and the log's traceback has the same request id."""
    appliance = build(tmp_path)
    appliance.start()
    try:
        documents = appliance.data_dir / "documents"
        shutil.rmtree(documents)
        documents.write_bytes(b"not a folder")
        with appliance.client() as client:
            failed = send(client, **{"X-Request-Id": "broken-disk"})
    finally:
        appliance.stop()
    body = error_of(failed, 500, ErrorCode.INTERNAL_ERROR)
    assert body["request_id"] == "broken-disk"
    # the storage's worker process says why on stderr too, not as JSON
    log = appliance.log.read_text().splitlines()
    lines = [json.loads(line) for line in log if line.startswith("{")]
    assert any(e.get("event") == "error" and e.get("request_id") == "broken-disk" for e in lines)


def test_the_spec_lists_every_code_and_the_docs_table_too() -> None:
    spec = json.loads((REPO / "docs" / "openapi.json").read_text())
    schemas = spec["components"]["schemas"]
    assert schemas["ErrorCode"]["enum"] == [code.value for code in ErrorCode]
    assert sorted(schemas["ErrorBody"]["required"]) == sorted(
        ["error", "detail", "code", "details", "request_id"]
    )
    documented = (REPO / "docs" / "appliance.md").read_text()
    for code in ErrorCode:
        assert f"| `{code}` | {code.status} |" in documented
