"""`faxbot serve` at start: the port is bound before anything else (a taken port stops it
before it opens a database), `ready` names the address, a start failure it explains is one
clear reason without a traceback, and a start where no key can call anything says so."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.server.conftest import FAXBOT, Appliance, build, free_port, serve_that_fails

pytestmark = pytest.mark.slow


def events(appliance: Appliance) -> list[dict[str, object]]:
    return [json.loads(line) for line in appliance.log.read_text().splitlines()]


def test_ready_names_the_address_and_keys_can_call(tmp_path: Path) -> None:
    appliance = build(tmp_path)
    appliance.start()
    appliance.stop()
    logged = events(appliance)
    ready = next(e for e in logged if e.get("event") == "ready")
    assert ready["address"] == f"http://127.0.0.1:{appliance.port}"
    assert "no_usable_api_key" not in {e.get("event") for e in logged}


def test_a_taken_port_stops_the_start_before_the_database(tmp_path: Path) -> None:
    appliance = build(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = serve_that_fails(appliance, port=port)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"faxbot serve: cannot start: cannot listen on 127.0.0.1:{port}: Address already in "
        "use; is another appliance running there?"
    )
    assert not appliance.data_dir.exists()  # no lock, no database, no dispatcher
    assert "dispatcher_started" not in result.stderr


def test_a_missing_secret_is_one_reason_without_a_traceback(tmp_path: Path) -> None:
    appliance = build(tmp_path, extra="      api_token: ${env:FAXBOT_TEST_TOKEN}\n")
    result = serve_that_fails(appliance, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 3
    reason = "${env:FAXBOT_TEST_TOKEN} is not set in the environment"
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr, result.stderr
    assert reason in lines[-1] and lines[-1].startswith("faxbot serve: cannot start: ")
    logged = [json.loads(line) for line in lines[:-1]]
    failed = [e for e in logged if e.get("event") == "startup_failed"]
    assert len(failed) == 1 and reason in str(failed[0]["msg"])
    assert len(lines) <= 6, result.stderr  # the reason, uvicorn's one line, the last line


def serve_without_callers(root: Path, extra: str = "") -> Appliance:
    """The embedded default (no api_keys) plus `extra`, compiled and served."""
    shutil.copytree(REPO / "config.d", root / "config.d")
    if extra:
        (root / "config.d" / "90-extra.yaml").write_text(extra)
    subprocess.run([FAXBOT, "config", "compile"], cwd=root, check=True, capture_output=True)
    appliance = Appliance(root, free_port(), {})
    appliance.start()
    appliance.stop()
    return appliance


def warning(appliance: Appliance) -> str:
    found = [e for e in events(appliance) if e.get("event") == "no_usable_api_key"]
    assert len(found) == 1, appliance.log.read_text()
    assert found[0]["level"] == "warning"
    return str(found[0]["msg"])


def test_no_keys_is_said_loudly_at_start(tmp_path: Path) -> None:
    message = warning(serve_without_callers(tmp_path))
    assert message.startswith("NO API KEY CAN CALL ANYTHING: the artifact has no api_keys")


def test_only_expired_keys_is_said_loudly_at_start(tmp_path: Path) -> None:
    """2000-01-01 has passed on any day this runs (the compile warns about it, and passes)."""
    keys = (
        "api_keys:\n  - id: old\n    sha256: " + "a" * 64 + "\n    scopes: [fax:send]\n"
        "    expires: 2000-01-01\n"
    )
    message = warning(serve_without_callers(tmp_path, keys))
    assert "all 1 of the artifact's api_keys are expired or have no scope" in message


def test_a_malformed_database_url_is_one_masked_line_and_exit_2(tmp_path: Path) -> None:
    """An unclosed `[` in the host: the driver would quote the whole URL, password and all,
    in a traceback; the URL's shape is checked before the lifespan instead."""
    appliance = build(tmp_path, extra="appliance:\n  database_url: ${env:FAXBOT_TEST_DB}\n")
    url = "postgresql://fax:s3cr3t-pw@[::1/faxbot"
    result = serve_that_fails(appliance, env={"PATH": "/usr/bin:/bin", "FAXBOT_TEST_DB": url})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "s3cr3t-pw" not in result.stderr + result.stdout
    assert result.stderr.strip().splitlines()[-1] == (
        "faxbot serve: cannot start: appliance.database_url: malformed PostgreSQL URL (Invalid "
        "IPv6 URL); the URL is not shown, as it may hold a password: check its host (an IPv6 "
        "address goes in [ ]) and port"
    )
    assert not appliance.data_dir.exists()  # refused before anything was opened


def test_a_deeply_nested_artifact_is_one_reason_and_exit_2(tmp_path: Path) -> None:
    """It crashed the start with a RecursionError traceback and exit 1."""
    path = tmp_path / "deep.json"
    path.write_bytes(b'{"version": 1, "appliance": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    result = subprocess.run(
        [FAXBOT, "serve", "--artifact", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"faxbot serve: cannot start: artifact {path} is nested deeper than 100 levels, which "
        f"no compiled artifact is (edited or damaged); run `faxbot config compile --out {path}`"
    ]
