"""The generated half of the Python SDK, sdks/python/faxbot_client/_generated:
openapi-python-client run on the spec with openapi-python-client.yaml (beside this module,
package data of faxbot_codegen). The hand-written layer around it (retries, idempotency keys,
typed errors) lives beside it in sdks/python/faxbot_client/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

from faxbot_codegen.outputs import NOTICE, Outputs

FOLDER = "sdks/python/faxbot_client/_generated"
CONFIG = Path(__file__).resolve().with_name("openapi-python-client.yaml")
GENERATOR = "openapi-python-client"
SKIPPED = {".ruff_cache", "__pycache__"}  # tool caches, never part of the package


class GeneratorFailed(RuntimeError):
    """openapi-python-client failed or warned: a warning means part of the spec was dropped."""


def _header() -> str:
    # mypy checks the hand-written layer strictly and trusts the types the generator declares;
    # the generator's own code is not ours to fix (its client.py fails mypy 2's strict mode).
    return (
        f"# {NOTICE}\n"
        f"# Written by {GENERATOR} {version(GENERATOR)} with "
        "codegen/faxbot_codegen/openapi-python-client.yaml.\n"
        "# mypy: ignore-errors\n"
    )


def _run_generator(spec: dict[str, Any], work: Path) -> Path:
    source = work / "openapi.json"  # the .json suffix makes the generator parse it as JSON
    source.write_text(json.dumps(spec, indent=2, sort_keys=True), encoding="utf-8")
    out = work / "out"
    # The post-hooks call `ruff` by name: put this environment's (pinned) ruff first.
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(source),
            "--config",
            str(CONFIG),
            "--meta",
            "none",
            "--output-path",
            str(out),
            "--fail-on-warning",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    # A clean run prints only "Generating <folder>"; anything else is a warning or an error.
    said = "\n".join(
        line
        for line in f"{done.stdout}\n{done.stderr}".splitlines()
        if line.strip() and line != f"Generating {out}"
    )
    if done.returncode != 0 or said:
        raise GeneratorFailed(
            f"{GENERATOR} did not generate the Python SDK cleanly (exit {done.returncode}); "
            f"a problem with the spec is fixed at its source, the route handlers:\n{said}"
        )
    return out


def generate(spec: dict[str, Any], outputs: Outputs) -> None:
    with tempfile.TemporaryDirectory(prefix="faxbot-python-sdk-") as temporary:
        out = _run_generator(spec, Path(temporary))
        header = _header()
        for path in sorted(out.rglob("*")):
            rel = path.relative_to(out)
            if not path.is_file() or SKIPPED.intersection(rel.parts):
                continue
            content = path.read_bytes()
            if path.suffix == ".py":
                content = header.encode("utf-8") + content
            outputs.add(f"{FOLDER}/{rel.as_posix()}", content)
    outputs.own(FOLDER)


__all__ = ["FOLDER", "GeneratorFailed", "generate"]
