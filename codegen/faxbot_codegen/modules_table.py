"""Module tables for the docs: each module of a part of the appliance with the first sentence
of its docstring, so that a table of modules changes when the code does (a module moved,
renamed or removed) instead of drifting from it. Read from the source files; nothing is
imported."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path

import faxbot

from faxbot_codegen.outputs import SourceError

PACKAGE = Path(faxbot.__file__).resolve().parent
SKIPPED = {"migrations", "__pycache__"}  # Alembic's scripts are not modules of the appliance
_SENTENCE_END = re.compile(r"[.!?](?=\s+[A-Z`(])")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.")


class MissingDocstring(SourceError):
    """A module without a docstring has no row to show."""


def first_sentence(docstring: str) -> str:
    paragraph = " ".join(docstring.split("\n\n", 1)[0].split())
    for match in _SENTENCE_END.finditer(paragraph):
        if not paragraph[: match.end()].endswith(_ABBREVIATIONS):
            return paragraph[: match.end()]
    return paragraph


def modules(parts: Iterable[str], package: Path = PACKAGE) -> list[tuple[str, str]]:
    """(`faxbot/<path>`, first sentence) for every module under `parts` (modules or folders
    of the faxbot package), sorted by path; a folder is shown as `faxbot/<folder>/`, by its
    `__init__.py`."""
    files: list[Path] = []
    for part in parts:
        where = package / part
        files += sorted(where.rglob("*.py")) if where.is_dir() else [where]
    rows = []
    for path in files:
        rel = path.relative_to(package)
        if SKIPPED & set(rel.parts):
            continue
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        if not docstring:
            raise MissingDocstring(
                f"faxbot/{rel.as_posix()} has no docstring; its first sentence is its row in "
                "the docs' module table"
            )
        shown = rel.parent.as_posix() + "/" if rel.name == "__init__.py" else rel.as_posix()
        rows.append((rel.as_posix(), f"faxbot/{shown}", first_sentence(docstring)))
    return [(shown, sentence) for _, shown, sentence in sorted(rows)]
