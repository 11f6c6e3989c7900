"""Errors are data: every problem the compiler finds is a located Diagnostic, and all of them
are reported in one run. Formatters turn a list of them into text, JSON or GitHub annotations."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from faxbot.config.codes import Code, SchemaCode, Severity
from faxbot.kernel.keypath import KeyPath, format_path


@dataclass(frozen=True, order=True)
class Mark:
    """A place in a fragment; line and column count from 1."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    code: Code | SchemaCode  # stable; the table in codes.py, generated into docs/config.md
    message: str  # never contains a secret value
    file: str | None = None
    line: int | None = None
    column: int | None = None
    path: str | None = None  # formatted key path

    @classmethod
    def at(
        cls, mark: Mark | None, path: KeyPath | None, code: Code | SchemaCode, message: str
    ) -> Diagnostic:
        return cls(
            code=code,
            message=message,
            file=mark.file if mark else None,
            line=mark.line if mark else None,
            column=mark.column if mark else None,
            path=format_path(path) if path is not None else None,
        )

    @property
    def severity(self) -> Severity:
        """A code's severity is the table's: `ignored-file` is always a warning."""
        return self.code.severity if isinstance(self.code, Code) else Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def location(self) -> str:
        if self.file is None:
            return ""
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file or "", self.line or 0, self.column or 0, self.path or "", self.message)

    def render(self) -> str:
        parts = [p for p in (self.location(), self.path) if p]
        prefix = ": ".join(parts)
        label = "" if self.is_error else "warning: "
        return f"{prefix}: {label}{self.message}" if prefix else f"{label}{self.message}"


def sort_diagnostics(items: Iterable[Diagnostic]) -> list[Diagnostic]:
    unique = dict.fromkeys(items)  # drop exact repeats, keep first-seen order
    return sorted(unique, key=Diagnostic.sort_key)


def has_errors(items: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in items)


def summary(items: Sequence[Diagnostic]) -> str:
    errors = sum(d.is_error for d in items)
    warnings = len(items) - errors
    files = len({d.file for d in items if d.is_error and d.file})
    text = f"{errors} error{'s' * (errors != 1)}"
    if errors:
        text += f" in {files} file{'s' * (files != 1)}"
    if warnings:
        text += f", {warnings} warning{'s' * (warnings != 1)}"
    return text


def render_text(items: Sequence[Diagnostic]) -> str:
    return "".join(d.render() + "\n" for d in items)


def render_json(items: Sequence[Diagnostic], **extra: object) -> str:
    payload = {
        "valid": not has_errors(items),
        **extra,
        "errors": [_as_json(d) for d in items if d.is_error],
        "warnings": [_as_json(d) for d in items if not d.is_error],
    }
    return json.dumps(payload, indent=2, sort_keys=True) + "\n"


def _as_json(d: Diagnostic) -> dict[str, object]:
    data = asdict(d)
    data["code"] = str(d.code)
    data["severity"] = str(d.severity)
    return data


def render_github(items: Sequence[Diagnostic]) -> str:
    """GitHub Actions workflow commands: `::error file=F,line=L,col=C,title=T::message`."""
    lines = []
    for d in items:
        props = []
        if d.file:
            props.append(f"file={_escape_property(d.file)}")
        if d.line is not None:
            props.append(f"line={d.line}")
            props.append(f"col={d.column}")
        props.append(f"title={_escape_property(d.path or d.code)}")
        lines.append(f"::{d.severity} {','.join(props)}::{_escape_data(d.message)}\n")
    return "".join(lines)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
