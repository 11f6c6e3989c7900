"""The console is an HTTP client of the appliance (PRODUCT.md §6): its sources import only
each other and the npm packages its package.json names, never a file outside console/."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import REPO

CONSOLE = REPO / "console"
# `import x from "y"`, `import "y"`, `export ... from "y"` (statements), `import("y")`
SPECIFIER = re.compile(
    r"""^\s*import\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?["']([^"']+)["']"""
    r"""|^\s*export\s+(?:type\s+)?(?:\*|\{[^}]*\})\s+from\s+["']([^"']+)["']"""
    r"""|\bimport\(\s*["']([^"']+)["']""",
    re.MULTILINE,
)


def specifiers(path: Path) -> list[str]:
    return ["".join(groups) for groups in SPECIFIER.findall(path.read_text(encoding="utf-8"))]


def package_name(specifier: str) -> str:
    parts = specifier.split("/")
    return "/".join(parts[:2]) if specifier.startswith("@") else parts[0]


def breaches(root: Path) -> list[str]:
    manifest = json.loads((root / "package.json").read_text(encoding="utf-8"))
    allowed = set(manifest.get("dependencies", {})) | set(manifest.get("devDependencies", {}))
    found = []
    for path in sorted((root / "src").rglob("*.ts*")):
        for specifier in specifiers(path):
            if specifier.startswith("."):
                target = (path.parent / specifier).resolve()
                if not target.is_relative_to((root / "src").resolve()):
                    found.append(f"{path.relative_to(root)}: {specifier} leaves console/src")
            elif specifier.startswith("/") or package_name(specifier) not in allowed:
                found.append(f"{path.relative_to(root)}: {specifier} is not a declared package")
    return found


def test_the_console_imports_only_itself_and_its_declared_packages() -> None:
    assert list((CONSOLE / "src").rglob("*.tsx")), "no console sources found"
    assert breaches(CONSOLE) == []


def test_the_check_sees_a_breach(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "package.json").write_text('{"dependencies": {"react": "19.3.1"}}')
    (tmp_path / "src" / "a.tsx").write_text(
        'import { x } from "../../appliance/faxbot/server/models";\n'
        'import React from "react";\n'
        'const lazy = import("left-pad");\n'
    )
    assert breaches(tmp_path) == [
        "src/a.tsx: ../../appliance/faxbot/server/models leaves console/src",
        "src/a.tsx: left-pad is not a declared package",
    ]
