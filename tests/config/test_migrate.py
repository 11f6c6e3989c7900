"""`faxbot config migrate` on three Faxbot v2 environments (Phaxio, Sinch, SIP): the
fragments compile (failing only on a transport the registry has not released yet), secrets
are references, API_KEY is its SHA-256, and no secret value appears in any output."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from faxbot.config.compiler import compile_config
from faxbot.plugins.discovery import PluginSource

from tests.conftest import REPO
from tests.server.conftest import FAXBOT

SECRETS = {
    "API_KEY": "v2-api-key-value-4f1e9a",
    "PHAXIO_API_KEY": "phaxio-key-value-77ab",
    "PHAXIO_API_SECRET": "phaxio-secret-value-91cd",
    "PHAXIO_CALLBACK_TOKEN": "phaxio-callback-token-5e2f",
    "SINCH_API_SECRET": "sinch-secret-value-8e9f",
    "ASTERISK_AMI_PASSWORD": "ami-password-value-6a7b",
    "ASTERISK_INBOUND_SECRET": "inbound-secret-value-2b3c4d5e",
    "SIP_PASSWORD": "trunk-password-value-1f0e",
    "DATABASE_URL": "postgresql://faxbot:db-password-value-0d9c@db/faxbot",
}
SINCH_KEY_ID = "sinch-key-id-3c4d"  # names the access key; Sinch lists it openly
COMMON = (
    "FAX_DATA_DIR=/faxdata\nMAX_FILE_SIZE_MB=10\nREQUIRE_API_KEY=true\n"
    f"API_KEY={SECRETS['API_KEY']}\nSTORAGE_BACKEND=local   # local | s3\n"
    f'DATABASE_URL="{SECRETS["DATABASE_URL"]}"\nINBOUND_ENABLED=true\nTZ=UTC\n'
)
ENVS = {
    "phaxio": COMMON
    + "FAX_BACKEND=phaxio\nPUBLIC_API_URL=https://fax.example.com\n"
    + "".join(f"{k}={SECRETS[k]}\n" for k in SECRETS if k.startswith("PHAXIO"))
    + "PHAXIO_VERIFY_SIGNATURE=true\n",
    "sinch": COMMON
    + "FAX_BACKEND=sinch\nSINCH_PROJECT_ID=0a1b2c3d-4e5f-6789-abcd-ef0123456789\n"
    + f"export SINCH_API_KEY={SINCH_KEY_ID}\n"
    + f"SINCH_API_SECRET='{SECRETS['SINCH_API_SECRET']}'\n",
    "sip": COMMON
    + "FAX_BACKEND=sip\nASTERISK_AMI_HOST=127.0.0.1\nASTERISK_AMI_PORT=5038\n"
    + f"ASTERISK_AMI_USERNAME=api\nASTERISK_AMI_PASSWORD={SECRETS['ASTERISK_AMI_PASSWORD']}\n"
    + f"ASTERISK_INBOUND_SECRET={SECRETS['ASTERISK_INBOUND_SECRET']}\n"
    + f"SIP_USERNAME=17209000233\nSIP_PASSWORD={SECRETS['SIP_PASSWORD']}\nSIP_SERVER=sip.example\n",
}
PLANNED = {
    e["id"]
    for e in json.loads((REPO / "registry" / "plugin-registry.json").read_text())["plugins"]
    if e["status"] == "planned"
}


def run_migrate(tmp_path: Path, backend: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    env_file = tmp_path / ".env"
    env_file.write_text(ENVS[backend])
    out = tmp_path / "config.d"
    done = subprocess.run(
        [FAXBOT, "config", "migrate", "--from-env", str(env_file), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done, out


@pytest.mark.parametrize("backend", sorted(ENVS))
def test_a_v2_environment_becomes_fragments_without_its_secrets(
    tmp_path: Path, backend: str
) -> None:
    done, out = run_migrate(tmp_path, backend)
    written = "".join(p.read_text() for p in sorted(out.iterdir()))
    everything = written + done.stdout + done.stderr
    for value in SECRETS.values():
        assert value not in everything
    assert "db-password-value" not in everything
    digest = hashlib.sha256(SECRETS["API_KEY"].encode()).hexdigest()
    assert digest in written
    assert '"${env:DATABASE_URL}"' in written
    result = compile_config(out, PluginSource())
    codes = {d.code for d in result.diagnostics}
    assert codes <= {"plugin-not-released"}, [d.render() for d in result.diagnostics]
    if backend not in PLANNED:
        assert result.artifact is not None
        assert result.artifact["providers"]["outbound"]["plugin"] == backend
        assert result.artifact["appliance"]["limits"]["upload_max_bytes"] == 10 * 1024 * 1024
    assert "not mapped: REQUIRE_API_KEY: v3 always requires an API key" in done.stdout


def test_the_sip_environment_maps_ami_and_the_inbound_token(tmp_path: Path) -> None:
    done, out = run_migrate(tmp_path, "sip")
    check = subprocess.run(
        [FAXBOT, "config", "check", "--dir", str(out)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    outbound = (out / "10-outbound.yaml").read_text()
    assert '"${env:ASTERISK_AMI_PASSWORD}"' in outbound and '"api"' in outbound
    assert '"${env:ASTERISK_INBOUND_SECRET}"' in (out / "15-inbound.yaml").read_text()
    assert "not mapped: SIP_PASSWORD: trunk credentials belong in Asterisk" in done.stdout


def test_existing_fragments_are_not_overwritten(tmp_path: Path) -> None:
    _, out = run_migrate(tmp_path, "sip")
    again = subprocess.run(
        [FAXBOT, "config", "migrate", "--from-env", str(tmp_path / ".env"), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode != 0
    assert "not overwritten" in again.stderr


def test_the_sinch_environment_gets_webhook_credentials_it_never_had(tmp_path: Path) -> None:
    """v2 left Sinch's webhooks open; v3 requires Basic credentials, so the migration asks for
    a new password variable (a reference) and says so; the key id is written as it is."""
    done, out = run_migrate(tmp_path, "sinch")
    outbound = (out / "10-outbound.yaml").read_text()
    assert f'key_id: "{SINCH_KEY_ID}"' in outbound
    assert 'webhook_password: "${env:SINCH_WEBHOOK_PASSWORD}"' in outbound
    assert "SINCH_WEBHOOK_PASSWORD" in done.stdout


def test_v2_s3_storage_becomes_the_s3_plugin(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        ENVS["phaxio"].replace("STORAGE_BACKEND=local", "STORAGE_BACKEND=s3")
        + "S3_BUCKET=faxbot-docs\nS3_PREFIX=/fax/out\nS3_REGION=eu-west-1\n"
        + "S3_ENDPOINT_URL=https://minio.example.com:9000\nS3_KMS_KEY_ID=alias/faxbot\n"
    )
    out = tmp_path / "config.d"
    done = subprocess.run(
        [FAXBOT, "config", "migrate", "--from-env", str(env_file), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "S3_" not in done.stdout and "STORAGE_BACKEND" not in done.stdout
    result = compile_config(out, PluginSource())
    assert [d.render() for d in result.diagnostics] == []
    assert result.artifact is not None
    storage = result.artifact["providers"]["storage"]
    assert storage["plugin"] == "s3"
    assert storage["settings"] == {
        "bucket": "faxbot-docs",
        "prefix": "fax/out/",
        "region": "eu-west-1",
        "endpoint_url": "https://minio.example.com:9000",
        "addressing_style": "path",
        "sse": "aws:kms",
        "sse_kms_key_id": "alias/faxbot",
        "part_size_mib": 8,  # the plugin's defaults, applied by the compiler
        "connect_timeout_seconds": 5,
        "read_timeout_seconds": 30,
    }
