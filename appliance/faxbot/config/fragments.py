"""Read config.d: list the `*.yaml` fragments in lexical file-name order and parse each into
plain data plus the mark (file, line, column) of every key and value.

YAML 1.2 core schema (ruamel.yaml): `yes`/`no`/`on` are strings, not booleans. The composer's
node tree is walked by hand so that duplicate keys, merge keys (`<<`) and exotic tags become
located errors whose messages never quote a value."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from faxbot.config.codes import Code
from faxbot.config.diagnostics import Diagnostic, Mark
from faxbot.kernel.keypath import KeyPath, format_path

SUFFIX = ".yaml"
MAX_DEPTH = 32
MAX_NODES = 100_000  # per fragment: alias bombs end here, real configs are far smaller

_TAG = "tag:yaml.org,2002:"


@dataclass
class Fragment:
    path: Path
    display: str  # how diagnostics name the file (relative to the working directory)
    source: str  # how the artifact names it: `<config dir name>/<file name>`, portable
    data: dict[str, Any] = field(default_factory=dict)
    key_marks: dict[KeyPath, Mark] = field(default_factory=dict)
    value_marks: dict[KeyPath, Mark] = field(default_factory=dict)
    failed: bool = False  # could not be read at all: its keys are unknown, not missing
    reported: set[KeyPath] = field(default_factory=set)  # values already judged invalid


def display_name(path: Path) -> str:
    """Relative to the working directory when the file is below it (clickable, and what
    GitHub annotations expect), absolute otherwise."""
    relative = os.path.relpath(path)
    return str(path.absolute()) if relative.startswith("..") else relative


def list_fragments(config_dir: Path) -> tuple[list[Path], list[Diagnostic]]:
    """Fragment files in lexical (code point) order of their names, whatever order the file
    system lists them in. Hidden files are skipped; other non-`.yaml` entries are warned about
    so that nothing is silently ignored, and a `.yml` file is an error: it is almost surely a
    fragment whose settings would otherwise be missing from the artifact."""
    diagnostics: list[Diagnostic] = []
    if not config_dir.is_dir():
        what = "does not exist" if not config_dir.exists() else "is not a directory"
        return [], [Diagnostic(code=Code.NO_CONFIG_DIR, message=f"{what}", file=str(config_dir))]
    names: list[str] = []
    with os.scandir(config_dir) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.name.endswith(SUFFIX) and entry.is_file():
                names.append(entry.name)
            elif entry.name.endswith(".yml"):
                diagnostics.append(
                    Diagnostic(
                        code=Code.YML_FRAGMENT,
                        message=f"fragments end in {SUFFIX}: rename it to "
                        f"{entry.name.removesuffix('.yml')}{SUFFIX}",
                        file=display_name(config_dir / entry.name),
                    )
                )
            else:
                diagnostics.append(
                    Diagnostic(
                        code=Code.IGNORED_FILE,
                        message=f"ignored: only *{SUFFIX} files are fragments",
                        file=display_name(config_dir / entry.name),
                    )
                )
    names.sort()
    if not names:
        diagnostics.append(
            Diagnostic(
                code=Code.NO_FRAGMENTS,
                message=f"no *{SUFFIX} fragments found",
                file=display_name(config_dir),
            )
        )
    return [config_dir / name for name in names], diagnostics


class _Builder:
    """Turns one composed YAML document into plain data and marks."""

    def __init__(self, fragment: Fragment, yaml: YAML) -> None:
        self.fragment = fragment
        self.constructor = yaml.constructor
        self.diagnostics: list[Diagnostic] = []
        self.nodes = 0

    def mark(self, node: Node) -> Mark:
        return Mark(self.fragment.display, node.start_mark.line + 1, node.start_mark.column + 1)

    def error(self, node: Node, path: KeyPath, code: Code, message: str) -> None:
        self.diagnostics.append(Diagnostic.at(self.mark(node), path, code, message))

    def build(self, node: Node, path: KeyPath) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES or len(path) > MAX_DEPTH:
            raise _TooLarge(node)
        if isinstance(node, MappingNode | SequenceNode) and node.tag not in _COLLECTION_TAGS:
            self.error(
                node,
                path,
                Code.YAML_TAG,
                f"unsupported YAML tag {_short(node.tag)}; use plain values",
            )
            self.fragment.reported.add(path)
            return None
        if isinstance(node, MappingNode):
            return self.mapping(node, path)
        if isinstance(node, SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.fragment.value_marks[(*path, index)] = self.mark(item)
                items.append(self.build(item, (*path, index)))
            return items
        return self.scalar(node, path)

    def mapping(self, node: MappingNode, path: KeyPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                self.error(
                    key_node,
                    path,
                    Code.YAML_MERGE_KEY,
                    "YAML merge keys (<<) are not supported; "
                    "split shared values into their own fragment instead",
                )
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag == _TAG + "null":
                self.error(key_node, path, Code.YAML_KEY, "keys must be plain strings")
                continue
            key = str(key_node.value)
            child = (*path, key)
            if key in first_line:
                self.error(
                    key_node,
                    child,
                    Code.DUPLICATE_KEY,
                    f"duplicate key {key!r} (first set on line {first_line[key]}); "
                    "a key may appear once per mapping",
                )
                continue
            first_line[key] = key_node.start_mark.line + 1
            self.fragment.key_marks[child] = self.mark(key_node)
            empty = (
                isinstance(value_node, ScalarNode)
                and value_node.value == ""
                and (value_node.tag == _TAG + "null")
            )
            # an empty value has no place of its own: the parser marks the next token
            self.fragment.value_marks[child] = self.mark(key_node if empty else value_node)
            result[key] = self.build(value_node, child)
        return result

    def scalar(self, node: Node, path: KeyPath) -> Any:
        tag = node.tag
        if tag == _TAG + "str" or tag == _TAG + "timestamp":
            return node.value  # timestamps stay text: dates are checked where they are used
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            return self.constructor.construct_yaml_bool(node)
        if tag == _TAG + "int":
            return self.constructor.construct_yaml_int(node)
        if tag == _TAG + "float":
            value = self.constructor.construct_yaml_float(node)
            if not math.isfinite(value):
                self.error(node, path, Code.YAML_VALUE, "numbers must be finite (no .inf or .nan)")
                self.fragment.reported.add(path)
                return None
            return value
        self.error(
            node, path, Code.YAML_TAG, f"unsupported YAML tag {_short(tag)}; use plain values"
        )
        self.fragment.reported.add(path)
        return None


_COLLECTION_TAGS = (_TAG + "map", _TAG + "seq")


def _short(tag: str | None) -> str:
    """A tag as it is written: `!!binary` rather than `tag:yaml.org,2002:binary`."""
    if tag is None:
        return "(none)"
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


class _TooLarge(Exception):
    def __init__(self, node: Node) -> None:
        self.node = node


def _utf8_error(path: Path, raw: bytes, exc: UnicodeDecodeError, display: str) -> Diagnostic:
    before = raw[: exc.start]
    line = before.count(b"\n") + 1
    line_start = before.rfind(b"\n") + 1
    column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
    return Diagnostic.at(
        Mark(display, line, column),
        None,
        Code.ENCODING,
        "not valid UTF-8 (fragments are UTF-8 text)",
    )


def parse_fragment(path: Path, source: str, yaml: YAML) -> tuple[Fragment, list[Diagnostic]]:
    display = display_name(path)
    fragment = Fragment(path=path, display=display, source=source)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return fragment, [
            Diagnostic(code=Code.IO, message=f"cannot read: {exc.strerror}", file=display)
        ]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        fragment.failed = True
        return fragment, [_utf8_error(path, raw, exc, display)]
    try:
        documents = list(yaml.compose_all(text))
    except MarkedYAMLError as exc:
        fragment.failed = True
        return fragment, [_syntax_error(exc, display)]
    except YAMLError as exc:  # unmarked: rare, keep the class name only
        fragment.failed = True
        message = f"YAML syntax: {type(exc).__name__}"
        return fragment, [Diagnostic(code=Code.YAML_SYNTAX, message=message, file=display)]
    documents = [d for d in documents if d is not None]
    if not documents:
        return fragment, []  # an empty fragment (only comments) is allowed
    if len(documents) > 1:
        fragment.failed = True
        second = documents[1]
        mark = Mark(display, second.start_mark.line + 1, second.start_mark.column + 1)
        message = "a fragment holds one YAML document; put the next one in its own file"
        return fragment, [Diagnostic.at(mark, None, Code.YAML_DOCUMENTS, message)]
    root = documents[0]
    builder = _Builder(fragment, yaml)
    if not isinstance(root, MappingNode):
        fragment.failed = True
        builder.error(
            root, (), Code.FRAGMENT_SHAPE, "a fragment must be a mapping of top-level keys"
        )
        return fragment, builder.diagnostics
    try:
        fragment.data = builder.mapping(root, ())
    except _TooLarge as exc:
        fragment.failed = True
        fragment.data, fragment.key_marks, fragment.value_marks = {}, {}, {}
        return fragment, [
            Diagnostic.at(
                builder.mark(exc.node),
                None,
                Code.YAML_TOO_LARGE,
                f"too deeply nested or too many nodes (limits: depth {MAX_DEPTH}, "
                f"{MAX_NODES} nodes); is an alias repeating a large mapping?",
            )
        ]
    return fragment, builder.diagnostics


def _syntax_error(exc: MarkedYAMLError, display: str) -> Diagnostic:
    # Only the parser's own words, never the snippet of the line: it could hold a secret.
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "invalid YAML"
    context = f" ({exc.context})" if exc.context else ""
    started = exc.context_mark
    if started is not None and mark is not None and started.line != mark.line and exc.context:
        context = (
            f" ({exc.context} started at line {started.line + 1}, column {started.column + 1})"
        )
    where = Mark(display, mark.line + 1, mark.column + 1) if mark else None
    return Diagnostic.at(where, None, Code.YAML_SYNTAX, f"YAML syntax: {problem}{context}")


def new_yaml() -> YAML:
    return YAML(typ="safe", pure=True)


def load_fragments(
    config_dir: Path, extra: Sequence[Path] = ()
) -> tuple[list[Fragment], list[Diagnostic]]:
    """The fragments of `config_dir` in file-name order, then the `extra` files in the order
    given (scripts/run adds its development key this way, from outside config.d). The command
    line checks that each extra file exists and ends in .yaml."""
    paths, diagnostics = list_fragments(config_dir)
    yaml = new_yaml()
    fragments = []
    sources = [(path, f"{config_dir.name}/{path.name}") for path in paths]
    sources += [(path, f"{path.absolute().parent.name}/{path.name}") for path in extra]
    for path, source in sources:
        fragment, found = parse_fragment(path, source, yaml)
        fragments.append(fragment)
        diagnostics.extend(found)
    return fragments, diagnostics


__all__ = ["Fragment", "format_path", "list_fragments", "load_fragments", "parse_fragment"]
