"""`faxbot serve` starts without the compiler's validation stack (the artifact pins the manifest
digests the compiler checked, so jsonschema, ~50 ms of every start, is never imported) and
without SQLAlchemy and Alembic (~125 ms; the store runs on the driver's DB-API, and they are
imported only to upgrade an older database)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.server.conftest import build

PROBE = """
import sys
import uvicorn

def run(self, *args, **kwargs):  # instead of serving: report what the start imported
    for name in ("jsonschema", "sqlalchemy", "alembic"):
        print(name, "imported:", name in sys.modules)

uvicorn.Server.run = run
from faxbot.cli.main import main

sys.argv = ["faxbot", "serve", "--artifact", "build/faxbot.resolved.json", "--port", "0"]
main()
"""


def test_serve_does_not_import_the_compiler_or_sqlalchemy(tmp_path: Path) -> None:
    build(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    for name in ("jsonschema", "sqlalchemy", "alembic"):
        assert f"{name} imported: False" in result.stdout, result.stdout + result.stderr
