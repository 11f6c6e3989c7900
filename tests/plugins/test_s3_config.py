"""The s3 plugin's settings as the compiler checks them: the hipaa profile requires
server-side encryption (the manifest's `hipaa_requires`) and an https endpoint, credentials
are secret references, and the plugin's own checks are located."""

from __future__ import annotations

import shutil
from pathlib import Path

from faxbot.config.compiler import compile_config
from faxbot.plugins.discovery import PluginSource

from tests.conftest import REPO

EXAMPLE = REPO / "docs" / "examples" / "s3" / "config.d"


def example_with(tmp_path: Path, storage: str) -> list[str]:
    """The s3 example with its storage fragment replaced by `storage` (settings lines)."""
    config = tmp_path / "config.d"
    shutil.copytree(EXAMPLE, config)
    (config / "20-storage.yaml").write_text(
        "providers:\n  storage:\n    plugin: s3\n    version: 1.0.0\n    settings:\n"
        "      bucket: example-faxbot-documents\n" + storage
    )
    result = compile_config(config, PluginSource())
    return [d.render() for d in result.diagnostics]


def test_the_hipaa_profile_requires_server_side_encryption(tmp_path: Path) -> None:
    [line] = example_with(tmp_path, "      region: eu-central-1\n")
    assert line.startswith(f"{tmp_path}/config.d/20-storage.yaml:6:7:"), line
    assert "providers.storage.settings.sse" in line
    assert "the hipaa profile requires this setting of plugin 's3'" in line


def test_sse_s3_satisfies_the_hipaa_profile(tmp_path: Path) -> None:
    assert example_with(tmp_path, "      sse: AES256\n") == []


def test_the_hipaa_profile_refuses_a_plain_http_endpoint(tmp_path: Path) -> None:
    rendered = example_with(
        tmp_path, "      sse: AES256\n      endpoint_url: http://minio.example.org:9000\n"
    )
    assert any("endpoint_url" in line and "plaintext" in line for line in rendered), rendered


def test_credentials_are_secret_references_and_come_in_pairs(tmp_path: Path) -> None:
    rendered = example_with(tmp_path, "      sse: AES256\n      access_key_id: AKIDEXAMPLE\n")
    assert any(
        "access_key_id" in line and "secret setting holds a literal" in line for line in rendered
    ), rendered
    assert not any("AKIDEXAMPLE" in line for line in rendered), rendered
    rendered = example_with(tmp_path / "pair", "      sse: AES256\n      access_key_id: ${env:K}\n")
    assert any("settings.secret_access_key" in line and "together" in line for line in rendered), (
        rendered
    )


def test_hipaa_requires_must_name_a_setting() -> None:
    from dataclasses import replace

    from faxbot.plugins.discovery import manifest_problems
    from faxbot_plugin_s3 import S3Storage

    wrong = replace(S3Storage.manifest, hipaa_requires=("sse", "encryption"))
    assert manifest_problems(S3Storage, wrong) == [
        "hipaa_requires names 'encryption', which is not a setting in its config_schema"
    ]
