"""Documents in and out on both servers (over stdio): send_fax's `path` confined to the
document directories with symlinks resolved before the check, `content_base64` refused by its
size before decoding, exactly one document argument; get_inbound_pdf's `save_as` only a plain
name inside the save directory, never over an existing file."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from faxbot_client import Faxbot

from tests.mcp.conftest import RECEIVED_SID
from tests.mcp.servers import (
    MANIFEST,
    SERVERS,
    Http,
    Stdio,
    error_text,
    http_server,
    python_client,
    structured,
    ts_client,
)
from tests.server.conftest import Appliance, one_page_pdf
from tests.server.receiving import OUR_NUMBER, post, received

pytestmark = pytest.mark.slow

TO = "+12025550143"
LIMIT = 4096  # --document-limit: a small limit, so that documents over it stay small


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """documents/ (the server's document directory) beside outside/ (not one)."""
    root = tmp_path_factory.mktemp("files")
    documents, outside = root / "documents", root / "outside"
    documents.mkdir()
    outside.mkdir()
    (documents / "memo.txt").write_text("A memo from the document directory.\n")
    (documents / "big.txt").write_text("x" * (LIMIT + 1))
    (outside / "secret.txt").write_text("Not for faxing.\n")
    (documents / "escape.txt").symlink_to(outside / "secret.txt")
    (documents / "alias.txt").symlink_to(documents / "memo.txt")
    (documents / "sub").mkdir()
    return documents, outside


@pytest.mark.parametrize("server", SERVERS)
def test_path_confined_and_sizes_bounded(
    server: str, appliance: Appliance, folders: tuple[Path, Path]
) -> None:
    documents, outside = folders
    target = Stdio(
        server,
        appliance.url,
        appliance.tokens["admin"],
        ("--documents", str(documents), "--document-limit", str(LIMIT)),
    )
    encoded_limit = 4 * -(-LIMIT // 3)
    cases: list[tuple[dict[str, object], str | None]] = [
        ({"path": "memo.txt"}, None),
        ({"path": str(documents / "memo.txt")}, None),
        ({"path": "alias.txt"}, None),  # a symlink that stays inside
        ({"path": "../outside/secret.txt"}, "outside the document directories"),
        ({"path": "sub/../../outside/secret.txt"}, "outside the document directories"),
        ({"path": "escape.txt"}, "outside the document directories"),  # resolved first
        ({"path": str(outside / "secret.txt")}, "outside the document directories"),
        ({"path": "/etc/hostname"}, "outside the document directories"),
        ({"path": "missing.txt"}, "no such file"),
        ({"path": "sub"}, "not a regular file"),
        ({"path": "big.txt"}, f"the limit is {LIMIT} bytes"),
        ({"content_base64": base64.b64encode(b"y" * LIMIT).decode()}, None),
        ({"content_base64": "A" * (encoded_limit + 4)}, "over"),
        ({"content_base64": "@@not base64@@"}, "not valid base64"),
        ({"content_base64": base64.b64encode(one_page_pdf()).decode()}, None),
        ({"content_base64": base64.b64encode(bytes(range(256))).decode()}, "HTTP 415"),
        ({"text": "hello", "path": "memo.txt"}, "exactly one of text, path and content_base64"),
        ({"text": 42}, "invalid arguments: text"),  # checked against the manifest's schema
        ({}, "exactly one of text, path and content_base64"),
    ]
    calls = [{"name": "send_fax", "arguments": {"to": TO, **args}} for args, _ in cases]
    seen = python_client(target, calls)
    for (args, refusal), result in zip(cases, seen["calls"], strict=True):
        if refusal is None:
            assert structured(result)["status"] == "queued", (server, args)
        else:
            text = error_text(result)
            assert refusal in text, (server, args, text)
            assert "Not for faxing" not in text


@pytest.mark.parametrize("server", SERVERS)
def test_no_document_directory_no_path(server: str, appliance: Appliance) -> None:
    target = Stdio(server, appliance.url, appliance.tokens["admin"])
    seen = python_client(target, [{"name": "send_fax", "arguments": {"to": TO, "path": "a"}}])
    assert "no document directory" in error_text(seen["calls"][0])


@pytest.mark.parametrize("server", SERVERS)
def test_save_as_stays_in_the_save_directory(
    server: str, appliance: Appliance, tmp_path: Path
) -> None:
    token = appliance.tokens["assistant"]
    with Faxbot(appliance.url, token) as sdk:
        (fax,) = [f for f in sdk.list_inbound_page().items if f.provider_sid == RECEIVED_SID]
        pdf = sdk.get_inbound_pdf(fax.id)
    saves = tmp_path / "saves"
    saves.mkdir()
    (saves / "taken.pdf").write_bytes(b"already here")

    def save(name: str) -> dict[str, object]:
        return {"name": "get_inbound_pdf", "arguments": {"id": fax.id, "save_as": name}}

    target = Stdio(server, appliance.url, token, ("--save-dir", str(saves)))
    seen = python_client(
        target, [save("fax.pdf"), save("taken.pdf"), save("../out.pdf"), save("sub/x.pdf")]
    )
    saved, taken, up, down = seen["calls"]
    assert structured(saved)["saved_to"] == str(saves.resolve() / "fax.pdf")
    assert structured(saved)["embedded"] is False
    assert not [b for b in saved["content"] if b["type"] == "resource"]
    assert (saves / "fax.pdf").read_bytes() == pdf
    assert "already exists" in error_text(taken)
    assert (saves / "taken.pdf").read_bytes() == b"already here"
    for refused in (up, down):
        assert "plain file name" in error_text(refused)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["fax.pdf", "taken.pdf"]
    unset = python_client(Stdio(server, appliance.url, token), [save("fax.pdf")])
    assert "no save directory" in error_text(unset["calls"][0])


@pytest.mark.parametrize("server", SERVERS)
def test_a_pdf_over_the_embedding_bound_is_not_embedded(server: str, appliance: Appliance) -> None:
    token = appliance.tokens["assistant"]
    bound = next(
        t["_meta"]["faxbot/embedMaxBytes"]
        for t in MANIFEST["tools"]
        if t["name"] == "get_inbound_pdf"
    )
    sid = f"large-{server}"
    document = b"%PDF-1.4\n" + b"0" * bound
    assert post(appliance, [received(sid, document, to=OUR_NUMBER)]).status_code == 200
    with Faxbot(appliance.url, token) as sdk:
        (large,) = [f for f in sdk.list_inbound_page().items if f.provider_sid == sid]
    call = [{"name": "get_inbound_pdf", "arguments": {"id": large.id}}]
    over_stdio = error_text(python_client(Stdio(server, appliance.url, token), call)["calls"][0])
    with http_server(server, appliance.url) as url:
        over_http = error_text(ts_client(Http(url, token), call)["calls"][0])
    for text in (over_stdio, over_http):
        assert f"{len(document)} bytes, over the {bound}-byte bound" in text
        assert f"GET /inbound/{large.id}/pdf" in text
    assert "save_as" in over_stdio and "save_as" not in over_http
