"""Every ```python block of sdks/python/README.md runs against a real appliance, each on its own
as a reader would paste it, and prints what the ```text block after it shows (if any)."""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.server.conftest import Appliance, build, one_page_pdf

README = REPO / "sdks" / "python" / "README.md"
BLOCK = re.compile(r"```python\n(?P<code>.*?)```\n(?:\s*```text\n(?P<output>.*?)```\n)?", re.S)


@dataclass(frozen=True)
class Example:
    line: int
    code: str
    output: str | None


def examples(text: str) -> list[Example]:
    return [
        Example(text.count("\n", 0, m.start()) + 2, m["code"], m["output"])
        for m in BLOCK.finditer(text)
    ]


def test_the_examples_are_found() -> None:
    text = README.read_text(encoding="utf-8")
    found = examples(text)
    assert len(found) == text.count("```python") >= 5  # every block, none lost by the parser
    assert sum(e.output is not None for e in found) == text.count("```text") >= 3
    assert found[0].output == "queued\nSUCCESS 1\n"


@pytest.mark.slow
def test_the_readme_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    appliance: Appliance = build(tmp_path / "appliance")
    appliance.start()
    try:
        monkeypatch.setenv("FAXBOT_URL", appliance.url)
        monkeypatch.setenv("FAXBOT_API_KEY", appliance.tokens["admin"])
        work = tmp_path / "work"
        work.mkdir()
        (work / "invoice.pdf").write_bytes(one_page_pdf())
        monkeypatch.chdir(work)
        for example in examples(README.read_text(encoding="utf-8")):
            printed = io.StringIO()
            code = compile(example.code, f"{README}:{example.line}", "exec")
            with contextlib.redirect_stdout(printed):
                exec(code, {"__name__": "__main__"})  # noqa: S102 (our own README)
            if example.output is not None:
                assert printed.getvalue() == example.output, f"README.md line {example.line}"
    finally:
        appliance.stop()
