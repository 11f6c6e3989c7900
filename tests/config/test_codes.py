"""The diagnostic code table (faxbot/config/codes.py) is complete and has no dead entries: every
code the compiler emits over the corpus is in it, every entry is named by a call site, and a
code's severity is the table's. docs/config.md's code table is generated from it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import faxbot.config
import pytest
from faxbot.config.codes import Code, Severity, documented, schema_code
from faxbot.config.diagnostics import Diagnostic, render_json

from tests.config.test_corpus import CASES, compile_case

COMPILER = Path(faxbot.config.__file__).resolve().parent


def test_every_code_the_corpus_emits_is_in_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    emitted = {str(d.code) for case in CASES for d in compile_case(case, monkeypatch).diagnostics}
    assert len(emitted) >= 25, sorted(emitted)  # the corpus reaches most of the compiler
    assert {code for code in emitted if documented(code) is None} == set()


def test_a_code_outside_the_table_is_not_documented() -> None:
    assert documented("no-such-code") is None
    assert documented("schema-<keyword>") is Code.SCHEMA_KEYWORD  # the family, not a code
    assert documented(schema_code("multipleOf")) is Code.SCHEMA_KEYWORD
    assert documented("unknown-key") is Code.UNKNOWN_KEY


def test_every_entry_is_named_by_a_call_site() -> None:
    sources = "".join(
        path.read_text(encoding="utf-8")
        for path in sorted(COMPILER.glob("*.py"))
        if path.name != "codes.py"
    )
    named = set(re.findall(r"\bCode\.([A-Z_]+)\b", sources))
    unused = {code.name for code in Code} - named - {Code.SCHEMA_KEYWORD.name}
    assert unused == set(), "table entries no call site emits: remove them or emit them"
    assert "schema_code(" in sources  # Code.SCHEMA_KEYWORD's codes


def test_every_entry_says_what_it_means_and_how_to_fix_it() -> None:
    for code in Code:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9<>]+)*", code), code
        assert code.meaning.endswith(".") and code.fix.endswith("."), code


def test_severity_is_the_tables() -> None:
    warning = Diagnostic(code=Code.LIST_REPLACED, message="replaces the list", file="a.yaml")
    error = Diagnostic(code=schema_code("type"), message="expected an integer", file="a.yaml")
    assert (warning.severity, error.severity) == (Severity.WARNING, Severity.ERROR)
    assert warning.render() == "a.yaml: warning: replaces the list"
    data = json.loads(render_json([warning, error]))
    assert [d["code"] for d in data["warnings"]] == ["list-replaced"]
    assert [(d["code"], d["severity"]) for d in data["errors"]] == [("schema-type", "error")]
