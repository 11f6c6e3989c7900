"""The admin console at /admin, served from a folder of built files (here a temporary one of
fake files): the app's routes get index.html uncached, hashed assets are cached for a year,
every answer carries the console's security headers, no key is needed, text is gzipped, and
an install without a built console says how to build it."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from faxbot.artifact import artifact_bytes, write_atomic
from faxbot.config.compiler import compile_config
from faxbot.plugins.discovery import PluginSource
from faxbot.server.app import create_app
from faxbot.server.console_serving import CONTENT_SECURITY_POLICY
from faxbot_codegen import spec
from litestar.testing import TestClient

from tests.conftest import REPO
from tests.server.conftest import Appliance

INDEX = b'<!doctype html><html><head><script type="module" src="/admin/assets/index-3f2a1b.js">'
SCRIPT = b"export const console = 1;\n" + b"// padding so that gzip pays\n" * 200
STYLE = b"body { margin: 0 }\n"
ICON = b'<svg xmlns="http://www.w3.org/2000/svg"></svg>\n'
IMMUTABLE = "public, max-age=31536000, immutable"


def _artifact(root: Path) -> Path:
    config = root / "config.d"
    config.mkdir(parents=True)
    for fragment in (REPO / "config.d").glob("*.yaml"):
        (config / fragment.name).write_text(fragment.read_text())
    result = compile_config(config, PluginSource(check_schemas=False))
    assert result.ok and result.artifact is not None, [d.render() for d in result.diagnostics]
    path = root / "build" / "faxbot.resolved.json"
    write_atomic(path, artifact_bytes(result.artifact))
    return path


def _client(root: Path, console_dir: Path) -> TestClient:  # type: ignore[type-arg]
    app = create_app(_artifact(root), env={}, workdir=root, console_dir=console_dir)
    return TestClient(app)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:  # type: ignore[type-arg]
    """One appliance for the module's read-only requests (each start compiles and migrates)."""
    tmp_path = tmp_path_factory.mktemp("console")
    folder = tmp_path / "console"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_bytes(INDEX)
    (folder / "assets" / "index-3f2a1b.js").write_bytes(SCRIPT)
    (folder / "assets" / "index-9c8d7e.css").write_bytes(STYLE)
    (folder / "favicon.svg").write_bytes(ICON)
    (tmp_path / "secret.txt").write_text("outside the console")
    with _client(tmp_path / "appliance", folder) as client:
        yield client


def _security_headers_are_set(headers: httpx.Headers) -> None:
    assert headers.get("content-security-policy") == CONTENT_SECURITY_POLICY
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("referrer-policy") == "no-referrer"


def test_admin_redirects_to_the_app_root(built: TestClient) -> None:  # type: ignore[type-arg]
    answer = built.get("/admin", follow_redirects=False)
    assert answer.status_code == 301
    assert answer.headers["location"] == "/admin/"


@pytest.mark.parametrize("path", ["/admin/", "/admin/jobs", "/admin/jobs/0123abcd", "/admin/x/y"])
def test_the_apps_routes_are_index_html_uncached(
    built: TestClient,  # type: ignore[type-arg]
    path: str,
) -> None:
    answer = built.get(path)
    assert answer.status_code == 200
    assert answer.content == INDEX
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.headers["cache-control"] == "no-cache"
    _security_headers_are_set(answer.headers)


@pytest.mark.parametrize(
    ("name", "content", "media_type"),
    [
        ("index-3f2a1b.js", SCRIPT, "text/javascript"),
        ("index-9c8d7e.css", STYLE, "text/css"),
    ],
)
def test_hashed_assets_are_cached_for_a_year(
    built: TestClient,  # type: ignore[type-arg]
    name: str,
    content: bytes,
    media_type: str,
) -> None:
    answer = built.get(f"/admin/assets/{name}")
    assert answer.status_code == 200
    assert answer.content == content
    assert answer.headers["content-type"].split(";")[0] == media_type
    assert answer.headers["content-type"].count("charset") <= 1
    assert answer.headers["cache-control"] == IMMUTABLE
    _security_headers_are_set(answer.headers)


def test_a_file_at_the_top_of_the_build_is_served_uncached(
    built: TestClient,  # type: ignore[type-arg]
) -> None:
    answer = built.get("/admin/favicon.svg")
    assert answer.status_code == 200
    assert answer.content == ICON
    assert answer.headers["content-type"] == "image/svg+xml"
    assert answer.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "/admin/assets/index-000000.js",  # a build's old asset: 404, not the app
        "/admin/assets/",
        "/admin/missing.png",
        "/admin/%2e%2e/secret.txt",
        "/admin/assets/%2e%2e/%2e%2e/secret.txt",
        "/admin/.hidden",
    ],
)
def test_what_is_not_a_built_file_is_404(
    built: TestClient,  # type: ignore[type-arg]
    path: str,
) -> None:
    answer = built.get(path)
    assert answer.status_code == 404
    assert b"outside the console" not in answer.content
    assert answer.headers["cache-control"] == "no-cache"
    _security_headers_are_set(answer.headers)


def test_text_is_gzipped_for_clients_that_accept_it(
    built: TestClient,  # type: ignore[type-arg]
) -> None:
    plain = built.get("/admin/assets/index-3f2a1b.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == SCRIPT
    packed = built.get("/admin/assets/index-3f2a1b.js", headers={"Accept-Encoding": "gzip, br"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "Accept-Encoding"
    assert packed.content == SCRIPT  # httpx decoded it
    assert int(packed.headers["content-length"]) == len(gzip.compress(SCRIPT, 9, mtime=0))
    assert int(packed.headers["content-length"]) < len(SCRIPT) / 5


def test_the_api_is_not_compressed(built: TestClient) -> None:  # type: ignore[type-arg]
    answer = built.get("/health/ready", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200
    assert "content-encoding" not in answer.headers
    assert "content-security-policy" not in answer.headers  # the console's, not the API's


def test_no_api_key_is_needed_and_the_console_is_not_in_the_spec(
    built: TestClient,  # type: ignore[type-arg]
) -> None:
    assert built.get("/admin/").status_code == 200  # no X-API-Key
    committed = json.loads((REPO / spec.PATH).read_text(encoding="utf-8"))
    assert not [path for path in committed["paths"] if path.startswith("/admin")]


@pytest.mark.parametrize("path", ["/admin/", "/admin/jobs", "/admin/assets/index-3f2a1b.js"])
def test_an_install_without_a_built_console_says_how_to_build_it(tmp_path: Path, path: str) -> None:
    empty = tmp_path / "console"
    empty.mkdir()
    with _client(tmp_path / "appliance", empty) as client:
        answer = client.get(path)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert "The console is not built in this install: run" in answer.text
    assert "bash scripts/setup" in answer.text
    _security_headers_are_set(answer.headers)


def test_a_real_server_redirects_only_the_bare_prefix(appliance: Appliance) -> None:
    """Through uvicorn (whose `raw_path` tells /admin from /admin/), whatever is built here."""
    with appliance.client(key="") as client:
        bare = client.get("/admin", follow_redirects=False)
        root = client.get("/admin/", follow_redirects=False)
    assert bare.status_code == 301 and bare.headers["location"] == "/admin/"
    assert root.status_code in (200, 404)  # the app, or the page saying how to build it
    assert root.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
