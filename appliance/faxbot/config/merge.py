"""Deep merge of fragments in order, remembering who set what.

Rules (docs/config.md): mappings merge key by key; a scalar or a list set again by a later
fragment replaces the earlier value whole, except `api_keys`, whose entries merge by `id` (one
fragment per key is the natural GitOps shape; one id in two fragments is an error); a mapping
and a non-mapping never replace each other (that is almost always a mistake, such as an empty
`settings:`), so it is an error. Every leaf keeps the list of every place that set it, in
merge order, for `config explain`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from faxbot.config.codes import Code
from faxbot.config.diagnostics import Diagnostic, Mark
from faxbot.config.fragments import Fragment
from faxbot.kernel.keypath import KeyPath, format_path, leaves, walk

KEYED_LISTS = {("api_keys",): "id"}  # lists whose entries merge by that field


@dataclass(frozen=True)
class Setter:
    mark: Mark
    value: Any


@dataclass
class Merged:
    data: dict[str, Any] = field(default_factory=dict)
    key_marks: dict[KeyPath, Mark] = field(default_factory=dict)
    value_marks: dict[KeyPath, Mark] = field(default_factory=dict)
    history: dict[KeyPath, list[Setter]] = field(default_factory=dict)
    source_names: dict[str, str] = field(default_factory=dict)  # display -> artifact name

    def mark(self, path: KeyPath) -> Mark | None:
        """Where the value at `path` was set, or its nearest located ancestor."""
        for end in range(len(path), 0, -1):
            found = self.value_marks.get(path[:end])
            if found is not None:
                return found
        return None

    def key_mark(self, path: KeyPath) -> Mark | None:
        return self.key_marks.get(path) or self.mark(path)

    def source_of(self, mark: Mark) -> str:
        return f"{self.source_names.get(mark.file, mark.file)}:{mark.line}"


def kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty (null)"
    return "a scalar"


def subtree_paths(value: Any, path: KeyPath) -> Iterator[KeyPath]:
    """`path` and every path below it."""
    return (sub for sub, _ in walk(value, path))


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


class _Merger:
    def __init__(self) -> None:
        self.merged = Merged()
        self.diagnostics: list[Diagnostic] = []

    def add(self, fragment: Fragment) -> None:
        self.merged.source_names[fragment.display] = fragment.source
        self._mapping(self.merged.data, fragment.data, (), fragment)

    def _mapping(
        self, target: dict[str, Any], incoming: dict[str, Any], path: KeyPath, fragment: Fragment
    ) -> None:
        merged = self.merged
        for key, value in incoming.items():
            child = (*path, key)
            if key not in target and child in KEYED_LISTS and isinstance(value, list):
                target[key] = []
                self._take_list_marks(child, fragment)
                self._keyed_list(target[key], value, child, KEYED_LISTS[child], fragment)
                continue
            if key not in target:
                target[key] = _copy(value)
                self._take_marks(value, child, fragment)
                continue
            old = target[key]
            if child in KEYED_LISTS and isinstance(old, list) and isinstance(value, list):
                self._keyed_list(old, value, child, KEYED_LISTS[child], fragment)
                continue
            if isinstance(old, dict) and isinstance(value, dict):
                merged.key_marks[child] = fragment.key_marks[child]
                merged.value_marks[child] = fragment.value_marks[child]
                self._mapping(old, value, child, fragment)
                continue
            here = fragment.value_marks[child]
            before = merged.mark(child)
            if isinstance(old, dict) or isinstance(value, dict):
                self.diagnostics.append(
                    Diagnostic.at(
                        here,
                        child,
                        Code.MERGE_CONFLICT,
                        f"{kind(value)} here, but {before} set {kind(old)}; a later fragment "
                        "may replace a value only with one of the same kind",
                    )
                )
                continue
            if isinstance(old, list) and old and old != value:
                self.diagnostics.append(
                    Diagnostic.at(
                        here,
                        child,
                        Code.LIST_REPLACED,
                        f"replaces the list set at {before} (lists are replaced whole, not "
                        "appended; keep the full list in one fragment)",
                    )
                )
            for stale in subtree_paths(old, child):
                merged.key_marks.pop(stale, None)
                merged.value_marks.pop(stale, None)
            target[key] = _copy(value)
            self._take_marks(value, child, fragment)

    def _keyed_list(
        self, target: list[Any], incoming: list[Any], path: KeyPath, field: str, fragment: Fragment
    ) -> None:
        """Append the entries of a fragment; an entry whose `field` an earlier fragment already
        used is an error naming both places, and is left out (a repeat inside one fragment is
        kept for rules.py, which reports it as within one list)."""
        if not incoming:  # `api_keys: []` still says where the (empty) list was set
            self.merged.history.setdefault(path, []).append(Setter(fragment.value_marks[path], []))
        seen = {
            entry[field]: index
            for index, entry in enumerate(target)
            if isinstance(entry, dict) and isinstance(entry.get(field), str)
        }
        for index, entry in enumerate(incoming):
            name = entry.get(field) if isinstance(entry, dict) else None
            if isinstance(name, str) and name in seen:
                here = fragment.value_marks[(*path, index, field)]
                first = self.merged.mark((*path, seen[name], field))
                self.diagnostics.append(
                    Diagnostic.at(
                        here,
                        (*path, index, field),
                        Code.API_KEY_DUPLICATE,
                        f"API key id {name!r} is already defined at {first}; an id may be "
                        "defined once across config.d",
                    )
                )
                continue
            self._take_marks(entry, (*path, len(target)), fragment, (*path, index))
            target.append(_copy(entry))
        if target:  # each entry names its own origins; an earlier `[]` set nothing that stays
            self.merged.history.pop(path, None)

    def _take_list_marks(self, path: KeyPath, fragment: Fragment) -> None:
        if path in fragment.key_marks:
            self.merged.key_marks[path] = fragment.key_marks[path]
        if path in fragment.value_marks:
            self.merged.value_marks[path] = fragment.value_marks[path]

    def _take_marks(
        self, value: Any, path: KeyPath, fragment: Fragment, at: KeyPath | None = None
    ) -> None:
        """Take the marks of `value`, found at `at` in the fragment (default: `path`)."""
        merged = self.merged
        origin = path if at is None else at

        def moved(sub: KeyPath) -> KeyPath:
            return (*path, *sub[len(origin) :])

        for sub in subtree_paths(value, origin):
            if sub in fragment.key_marks:
                merged.key_marks[moved(sub)] = fragment.key_marks[sub]
            if sub in fragment.value_marks:
                merged.value_marks[moved(sub)] = fragment.value_marks[sub]
        for leaf, leaf_value in leaves(value, origin):
            mark = fragment.value_marks.get(leaf)
            if mark is not None:
                merged.history.setdefault(moved(leaf), []).append(Setter(mark, leaf_value))


def merge_fragments(fragments: list[Fragment]) -> tuple[Merged, list[Diagnostic]]:
    merger = _Merger()
    for fragment in fragments:
        merger.add(fragment)
    return merger.merged, merger.diagnostics


__all__ = ["Merged", "Setter", "format_path", "leaves", "merge_fragments"]
