"""For random plugin settings trees with secrets in random places, no output of the config
commands (check in every format, compile, explain, plan in every format) nor the plugin
config route's body holds a secret value: neither a literal wrongly written in a secret
setting, nor the value behind a reference."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import msgspec
from faxbot.artifact import Artifact, artifact_bytes
from faxbot.config import diagnostics, plan
from faxbot.config.compiler import compile_config
from faxbot.config.explain import explain
from faxbot.kernel.keypath import leaves
from faxbot.plugins.contract import Manifest, manifest_from
from faxbot.plugins.discovery import GROUP, PluginSource
from faxbot.server.plugin_views import PluginViews
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from tests.fake_plugins import FakeOutbound

NAMES = st.text(alphabet="abcdefgh", min_size=1, max_size=5)
SECRET = st.text(alphabet="QWXZJKV", min_size=10, max_size=14).map(lambda s: "Sx9" + s)
PLAIN = st.one_of(
    st.integers(-5, 5), st.booleans(), st.text(alphabet="abc xyz", min_size=1, max_size=6)
)


@st.composite
def settings_with_secrets(draw: st.DrawFn) -> tuple[dict[str, Any], Any, dict[str, str]]:
    """A config_schema, settings that fit it, and the secrets planted in them: name -> value
    (a literal when the name is empty, else an environment variable's value)."""
    planted: dict[str, str] = {}

    def secret_value() -> str:
        value = draw(SECRET)
        if draw(st.booleans()):  # a reference, its value in the environment
            name = f"FAXBOT_PROP_{len(planted)}"
            planted[name] = value
            return f"${{env:{name}}}"
        planted[f"literal-{len(planted)}"] = value
        return value

    def node(depth: int) -> tuple[dict[str, Any], Any]:
        kinds = ["plain", "secret", "object", "secret-list"] if depth < 3 else ["plain", "secret"]
        kind = draw(st.sampled_from(kinds))
        if kind == "secret":
            marker = draw(st.sampled_from([{"format": "password"}, {"writeOnly": True}]))
            return {"type": "string", **marker}, secret_value()
        if kind == "secret-list":
            items = [secret_value() for _ in range(draw(st.integers(1, 3)))]
            return {"type": "array", "items": {"type": "string", "format": "password"}}, items
        if kind == "object":
            keys = draw(st.lists(NAMES, min_size=1, max_size=3, unique=True))
            children = {k: node(depth + 1) for k in keys}
            schema = {"type": "object", "properties": {k: c[0] for k, c in children.items()}}
            return schema, {k: c[1] for k, c in children.items()}
        value = draw(PLAIN)
        return {}, value

    keys = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
    children = {k: node(0) for k in keys}
    schema = {"type": "object", "properties": {k: c[0] for k, c in children.items()}}
    return schema, {k: c[1] for k, c in children.items()}, planted


@contextmanager
def compiled_folder(values: Any, base: Path) -> Iterator[Path]:
    folder = base / "config.d"
    folder.mkdir(parents=True)
    yaml = YAML(typ="safe", pure=True)
    document = {
        "version": 1,
        "providers": {
            "outbound": {"plugin": "prop", "version": "1.0.0", "settings": values},
            "storage": {"plugin": "local", "version": "0.2.0"},
        },
    }
    with (folder / "00-all.yaml").open("w") as handle:
        yaml.dump(document, handle)
    yield folder


def source_with(manifest: Manifest) -> PluginSource:
    plugin_cls = type("PropPlugin", (FakeOutbound,), {"manifest": manifest})

    class Loaded(metadata.EntryPoint):
        def load(self) -> Any:
            return plugin_cls

    installed = [ep for ep in metadata.entry_points(group=GROUP) if ep.name == "local"]
    return PluginSource(lambda: [Loaded("prop", "tests:prop", GROUP), *installed])


def outputs(folder: Path, source: PluginSource) -> Iterator[str]:
    result = compile_config(folder, source, strict_pins=True)
    found = result.diagnostics
    yield diagnostics.render_text(found)
    yield diagnostics.render_json(found)
    yield diagnostics.render_github(found)
    for path, _ in leaves(result.data):
        yield json.dumps(msgspec.to_builtins(explain(result, path)), default=str)
    if result.artifact is None:
        return
    yield artifact_bytes(result.artifact).decode()
    empty = json.loads(json.dumps(result.artifact))
    empty["providers"]["outbound"]["settings"] = {}
    for base, head in ((empty, result.artifact), (result.artifact, empty)):
        changes = plan.diff_artifacts(base, head)
        yield plan.render_text(changes, "t")
        yield plan.render_markdown(changes, "t")
        yield plan.render_json(changes, "t")
    typed = msgspec.convert(result.artifact, Artifact)
    installed = {"prop": source.load("prop"), "local": source.load("local")}
    view = PluginViews(typed, installed, None).config("prop")
    # A secret setting's value shows as masked, and its reference only among the references.
    assert "${env:" not in msgspec.json.encode(view.slots).decode()
    assert all(ref.startswith("${") for ref in view.secret_references.values())
    yield msgspec.json.encode(view).decode()


@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(settings_with_secrets())
def test_no_output_holds_a_secret_value(case: tuple[dict[str, Any], Any, dict[str, str]]) -> None:
    schema, values, planted = case
    manifest = manifest_from(
        {
            "id": "prop",
            "name": "Prop",
            "version": "1.0.0",
            "description": "Random settings with secrets.",
            "platform": "python",
            "categories": ["outbound"],
            "capabilities": ["send", "get_status"],
            "config_schema": schema,
        }
    )
    source = source_with(manifest)
    saved = {k: os.environ.get(k) for k in planted}
    os.environ.update({k: v for k, v in planted.items() if k.startswith("FAXBOT_")})
    try:
        with TemporaryDirectory() as tmp, compiled_folder(values, Path(tmp)) as folder:
            for text in outputs(folder, source):
                for value in planted.values():
                    assert value not in text
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
