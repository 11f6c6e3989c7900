"""`faxbot serve` starts without the compiler's validation stack: the artifact pins the manifest
digests the compiler checked, so jsonschema (~50 ms of every start) is never imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.server.conftest import build

PROBE = """
import sys
import uvicorn

def run(self, *args, **kwargs):  # instead of serving: report what the start imported
    print("jsonschema imported:", "jsonschema" in sys.modules)

uvicorn.Server.run = run
from faxbot.cli.main import main

sys.argv = ["faxbot", "serve", "--artifact", "build/faxbot.resolved.json"]
main()
"""


def test_serve_does_not_import_jsonschema(tmp_path: Path) -> None:
    build(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert "jsonschema imported: False" in result.stdout, result.stdout + result.stderr
