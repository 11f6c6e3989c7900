"""The auth slot: a token the artifact's keys do not know is asked of the auth plugin, and
the scopes it grants are enforced like a key's."""

from __future__ import annotations

from pathlib import Path

from faxbot.artifact import artifact_bytes, write_atomic
from faxbot.config.compiler import compile_config
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
