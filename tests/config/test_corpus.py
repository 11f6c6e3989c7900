"""A corpus of broken configurations, one per folder under `corpus/`: each holds a `config.d/`
and an `expected.txt` with the exact diagnostics (file:line:col: path: message), errors and
warnings, in the order the compiler reports them. Lines starting with `#` describe the case.

To add a case: make `corpus/NN-short-name/config.d/*.yaml`, write `expected.txt` by hand (one
`#` line saying what the case is about, then the lines you judge correct) and run this file.
Secret literals in a case contain `do-not-print`: no output may ever show them. API key
expiry is judged at the fixed instant NOW (2026-06-01T00:00:00Z), never at the clock's."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from faxbot.config.compiler import CompileResult, compile_config
from faxbot.config.diagnostics import render_github, render_json, render_text

from tests.fake_plugins import fake_source

CORPUS = Path(__file__).resolve().parent / "corpus"
CASES = sorted(p for p in CORPUS.iterdir() if p.is_dir())
# The instant API key expiry is judged at: fixed, so that no case changes with the calendar.
NOW = datetime(2026, 6, 1, tzinfo=UTC)
FAXBOT = Path(sys.executable).with_name("faxbot")
SECRET_LITERAL = re.compile(rb"[A-Za-z0-9_-]*do-not-print")

# Cases the real console script can check: they use only the installed plugins `test` and
# `local`, never the fakes, which only the in-process plugin source knows.
CLI_CASES = ["10-unknown-top-level-key", "25-plugin-wrong-slot", "44-many-files-many-errors"]

GITHUB_ERROR = re.compile(
    r"^::error file=(?P<file>[^,]+),line=(?P<line>\d+),col=(?P<column>\d+),"
    r"title=(?P<path>[^:]+)::(?P<message>.*)$"
)


def expected_lines(case: Path) -> list[str]:
    text = (case / "expected.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def compile_case(case: Path, monkeypatch: pytest.MonkeyPatch) -> CompileResult:
    monkeypatch.chdir(case)
    return compile_config(Path("config.d"), fake_source(), now=NOW)


def secret_literals(case: Path) -> set[str]:
    found: set[str] = set()
    for fragment in (case / "config.d").iterdir():
        found |= {m.decode() for m in SECRET_LITERAL.findall(fragment.read_bytes())}
    return found


def unescape_github(text: str) -> str:
    for code, char in (("%3A", ":"), ("%2C", ","), ("%0D", "\r"), ("%0A", "\n"), ("%25", "%")):
        text = text.replace(code, char)
    return text


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30, [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_is_described(case: Path) -> None:
    assert re.fullmatch(r"\d{2}-[a-z0-9]+(-[a-z0-9]+)*", case.name), case.name
    assert (case / "config.d").is_dir(), f"{case.name}: no config.d folder"
    lines = (case / "expected.txt").read_text(encoding="utf-8").splitlines()
    descriptions = [line for line in lines if line.startswith("#") and line.strip("# ")]
    assert descriptions, f"{case.name}/expected.txt needs a '# what this case is about' line"
    assert expected_lines(case), f"{case.name}/expected.txt lists no diagnostic"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_diagnostics(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = compile_case(case, monkeypatch)
    assert [d.render() for d in result.diagnostics] == expected_lines(case)
    assert result.ok is False, "every case must hold at least one error"
    assert result.artifact is None


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_secret_literals_are_never_shown(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    literals = secret_literals(case)
    result = compile_case(case, monkeypatch)
    outputs = [
        render_text(result.diagnostics),
        render_json(result.diagnostics),
        render_github(result.diagnostics),
    ]
    for literal in literals:
        for output in outputs:
            assert literal not in output


def test_the_corpus_has_secret_literals() -> None:
    """The test above must not pass for want of anything to hide."""
    assert len(set().union(*(secret_literals(c) for c in CASES))) >= 4


@pytest.mark.slow
@pytest.mark.parametrize("name", CLI_CASES)
def test_console_script_formats(name: str) -> None:
    case = CORPUS / name
    wanted = expected_lines(case)

    def check(fmt: str) -> str:
        completed = subprocess.run(
            [str(FAXBOT), "config", "check", "--dir", "config.d", "--format", fmt],
            cwd=case,
            capture_output=True,
            text=True,
            check=False,
        )
        assert completed.returncode == 1, completed.stdout + completed.stderr
        for literal in secret_literals(case):
            assert literal not in completed.stdout + completed.stderr
        return completed.stdout

    data = json.loads(check("json"))
    assert data["valid"] is False
    errors = [
        f"{e['file']}:{e['line']}:{e['column']}: {e['path']}: {e['message']}"
        for e in data["errors"]
    ]
    assert errors == [line for line in wanted if ": warning: " not in line]
    assert all(e["severity"] == "error" for e in data["errors"])
    assert len(data["warnings"]) == sum(": warning: " in line for line in wanted)

    annotations = check("github").splitlines()
    assert len(annotations) == len(wanted)
    from_github = []
    for line in annotations:
        if line.startswith("::warning "):
            continue
        match = GITHUB_ERROR.match(line)
        assert match, line
        from_github.append({k: unescape_github(v) for k, v in match.groupdict().items()})
    assert from_github == [
        {k: str(e[k]) for k in ("file", "line", "column", "path", "message")}
        for e in data["errors"]
    ]

    text = check("text").splitlines()
    assert text[: len(wanted)] == wanted
