"""Documents into send_fax on both servers (over stdio): `path` confined to the document
directories with symlinks resolved before the check, `content_base64` refused by its size
before decoding, exactly one document argument."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.mcp.servers import SERVERS, Stdio, error_text, python_client, structured
from tests.server.conftest import Appliance, one_page_pdf

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
        ({"text": "hello", "path": "memo.txt"}, "exactly one of text, path and content_base64"),
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
