"""The one secret model: which paths are secret, masking, expanding and resolving, including
a property test over random settings trees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from faxbot.kernel.secrets import MASK, SecretModel, SecretUnavailable, schema_secrets
from hypothesis import given, settings
from hypothesis import strategies as st

MODEL = SecretModel(frozenset({("token",), ("many", "*"), ("nested", "key")}))


def test_is_secret_covers_the_value_and_what_is_inside_it() -> None:
    assert MODEL.is_secret(("token",))
    assert MODEL.is_secret(("many", 3))
    assert MODEL.is_secret(("nested", "key", "deeper"))
    assert not MODEL.is_secret(("nested",))
    assert not MODEL.is_secret(("plain",))
    assert MODEL.touches(("nested",)) and MODEL.touches(("many",))
    assert not MODEL.touches(("plain",))


def test_under_places_a_plugin_model_in_the_config() -> None:
    placed = MODEL.under(("providers", "outbound", "settings"))
    assert placed.is_secret(("providers", "outbound", "settings", "many", 0))
    assert not placed.is_secret(("many", 0))


def test_resolve_replaces_references_and_names_a_missing_one() -> None:
    tree = {"token": "${env:TOKEN}", "plain": "x", "many": ["${env:A}", "${env:B}"]}
    env = {"TOKEN": "t0k", "A": "a", "B": "b"}
    assert MODEL.resolve(tree, env) == {"token": "t0k", "plain": "x", "many": ["a", "b"]}
    assert tree["token"] == "${env:TOKEN}"  # the artifact's copy is untouched
    where = ("providers", "x", "settings")
    with pytest.raises(SecretUnavailable) as caught:
        MODEL.under(where).resolve(tree, {"TOKEN": "t0k", "A": "a"}, where)
    assert str(caught.value) == (
        "providers.x.settings.many[1]: ${env:B} is not set in the environment"
    )


def test_a_reference_in_a_plain_setting_is_left_alone() -> None:
    assert MODEL.resolve({"plain": "${env:X}"}, {}) == {"plain": "${env:X}"}


def test_references_lists_only_valid_references_with_their_paths() -> None:
    where = ("providers", "x", "settings")
    tree = {
        "token": "${env:TOKEN}",
        "plain": "${env:NOT_SECRET}",
        "many": ["${file:/run/secrets/a}", "a-literal", "${nope:X}"],
        "nested": {"key": None},
    }
    found = MODEL.under(where).references(tree, where)
    assert {path: str(ref) for path, ref in found.items()} == {
        (*where, "token"): "${env:TOKEN}",
        (*where, "many", 0): "${file:/run/secrets/a}",
    }


def test_file_references(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("from-file\n")
    assert MODEL.resolve({"token": f"${{file:{tmp_path}/secret}}"}, {}) == {"token": "from-file"}
    with pytest.raises(SecretUnavailable, match=r"cannot be read \(No such file or directory\)"):
        MODEL.resolve({"token": f"${{file:{tmp_path}/missing}}"}, {})


def test_schema_markers() -> None:
    schema = {
        "properties": {
            "a": {"type": "string"},
            "b": {"type": "string", "format": "password"},
            "c": {"type": "string", "writeOnly": True},
            "d": {"type": "string", "x-secret": True},
            "many": {"type": "array", "items": {"$ref": "#/$defs/s"}},
        },
        "$defs": {"s": {"type": "string", "format": "password"}},
    }
    assert schema_secrets(schema) == {("b",), ("c",), ("d",), ("many", "*")}


SECRET_VALUE = st.text(alphabet="ABCDEFGHJKMNPQRSTUVWXYZ", min_size=12, max_size=20).map(
    lambda s: "S3CR3T" + s
)
PLAIN = st.one_of(st.integers(), st.booleans(), st.text(alphabet="abc", max_size=5))
NAMES = st.text(alphabet="abcdefgh", min_size=1, max_size=4)


@st.composite
def trees_with_secrets(draw: st.DrawFn) -> tuple[Any, SecretModel, list[str]]:
    """A random settings tree, a model naming some of its string leaves secret (some through a
    list pattern), and the secret values planted there."""
    planted: list[str] = []
    patterns: set[tuple[str | int, ...]] = set()

    def node(path: tuple[str | int, ...], depth: int) -> Any:
        kind = draw(
            st.sampled_from(["plain", "secret", "dict", "list"] if depth < 3 else ["plain"])
        )
        if kind == "secret":
            value = draw(SECRET_VALUE)
            planted.append(value)
            patterns.add(path)
            return value
        if kind == "dict":
            keys = draw(st.lists(NAMES, max_size=4, unique=True))
            return {k: node((*path, k), depth + 1) for k in keys}
        if kind == "list":
            if draw(st.booleans()):  # a list of secrets, named by a `*` pattern
                values = draw(st.lists(SECRET_VALUE, min_size=1, max_size=3))
                planted.extend(values)
                patterns.add((*path, "*"))
                return values
            return [node((*path, i), depth + 1) for i in range(draw(st.integers(0, 3)))]
        return draw(PLAIN)

    tree = {k: node((k,), 0) for k in draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))}
    return tree, SecretModel(frozenset(patterns)), planted


@settings(max_examples=200, derandomize=True, deadline=None)
@given(trees_with_secrets())
def test_masking_leaves_no_secret_value_and_expand_finds_them_all(
    case: tuple[Any, SecretModel, list[str]],
) -> None:
    tree, model, planted = case
    shown = json.dumps(model.mask(tree))
    for value in planted:
        assert value not in shown
    assert shown.count(json.dumps(MASK)) == len(planted)
    found = [p for p in model.expand(tree) if p]
    assert len(found) == len(planted)
