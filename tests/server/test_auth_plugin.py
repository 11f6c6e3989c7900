"""The auth slot: a token the artifact's keys do not know is asked of the auth plugin, and
the scopes it grants are enforced like a key's."""

from __future__ import annotations

from pathlib import Path

from faxbot.artifact import artifact_bytes, write_atomic
from faxbot.config.compiler import compile_config
from faxbot.keys import new_key
from faxbot.server.app import create_app
from litestar.testing import TestClient

from tests.conftest import REPO
from tests.fake_plugins import fake_source
from tests.server.conftest import one_page_pdf


def test_a_token_the_keys_do_not_know_is_asked_of_the_auth_plugin(tmp_path: Path) -> None:
    config = tmp_path / "config.d"
    config.mkdir()
    for fragment in (REPO / "config.d").glob("*.yaml"):
        (config / fragment.name).write_text(fragment.read_text())
    (config / "60-auth.yaml").write_text(
        "providers:\n  auth:\n    plugin: sso\n    version: 1.0.0\n"
    )
    result = compile_config(config, fake_source())
    assert result.ok and result.artifact is not None, [d.render() for d in result.diagnostics]
    artifact = tmp_path / "build" / "faxbot.resolved.json"
    write_atomic(artifact, artifact_bytes(result.artifact))

    app = create_app(artifact, env={}, source=fake_source(), workdir=tmp_path, log_level="error")
    with TestClient(app) as client:
        granted = client.get("/fax", headers={"X-API-Key": "sso-token"})
        assert granted.status_code == 200, granted.text
        refused = client.post(
            "/fax",
            headers={"Authorization": "Bearer sso-token"},
            data={"to": "+12025550143"},
            files={"file": ("a.pdf", one_page_pdf(), "application/pdf")},
        )
        assert refused.status_code == 403
        assert refused.json()["details"]["key_id"] == "sso-user"
        unknown = client.get("/fax", headers={"X-API-Key": "not-a-token"})
        assert unknown.status_code == 401


def _app_with(tmp_path: Path, keys_yaml: str) -> TestClient:  # type: ignore[type-arg]
    config = tmp_path / "config.d"
    config.mkdir()
    for fragment in (REPO / "config.d").glob("*.yaml"):
        (config / fragment.name).write_text(fragment.read_text())
    (config / "60-auth.yaml").write_text(
        "providers:\n  auth:\n    plugin: sso\n    version: 1.0.0\n"
    )
    (config / "70-keys.yaml").write_text(keys_yaml)
    result = compile_config(config, fake_source())
    assert result.ok and result.artifact is not None, [d.render() for d in result.diagnostics]
    artifact = tmp_path / "build" / "faxbot.resolved.json"
    write_atomic(artifact, artifact_bytes(result.artifact))
    app = create_app(artifact, env={}, source=fake_source(), workdir=tmp_path, log_level="error")
    return TestClient(app)


def test_a_plugin_principal_reads_only_its_own_jobs(tmp_path: Path) -> None:
    poster = new_key("poster", ["fax:send", "fax:read"])
    keys = f"api_keys:\n  - id: poster\n    sha256: {poster.entry['sha256']}\n"
    keys += "    scopes: [fax:send, fax:read]\n"
    with _app_with(tmp_path, keys) as client:
        sent = client.post(
            "/fax",
            headers={"X-API-Key": poster.token},
            data={"to": "+12025550143"},
            files={"file": ("a.pdf", one_page_pdf(), "application/pdf")},
        )
        assert sent.status_code == 202, sent.text
        job_id = sent.json()["id"]
        sso = {"X-API-Key": "sso-token"}
        assert client.get("/fax", headers=sso).json()["items"] == []
        assert client.get(f"/fax/{job_id}", headers=sso).json()["code"] == "job_not_found"
        mine = client.get("/fax", headers={"X-API-Key": poster.token}).json()["items"]
        assert [job["id"] for job in mine] == [job_id]


def test_a_plugin_principal_named_like_a_key_is_refused(tmp_path: Path) -> None:
    """Else the plugin's principal would read that key's jobs."""
    key = new_key("sso-user", ["fax:read"])
    keys = f"api_keys:\n  - id: sso-user\n    sha256: {key.entry['sha256']}\n"
    keys += "    scopes: [fax:read]\n"
    with _app_with(tmp_path, keys) as client:
        assert client.get("/fax", headers={"X-API-Key": "sso-token"}).status_code == 401
        assert client.get("/fax", headers={"X-API-Key": key.token}).status_code == 200
