"""The artifact is byte-stable: same input, same bytes, whatever the hash seed, the directory
listing order or the clock; and merge order is by file name alone."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from faxbot.artifact import artifact_bytes, fingerprint, load_artifact
from faxbot.config.compiler import BuildInfo, compile_config
from faxbot.plugins.discovery import PluginSource

from tests.conftest import REPO

FAXBOT = str(Path(sys.executable).with_name("faxbot"))


def _compile_subprocess(config_dir: Path, out: Path, seed: str, **env: str) -> bytes:
    inherited = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    environment = {**inherited, "PYTHONHASHSEED": seed, **env}
    subprocess.run(
        [FAXBOT, "config", "compile", "--dir", str(config_dir), "--out", str(out)],
        check=True,
        env=environment,
        capture_output=True,
    )
    return out.read_bytes()


@pytest.mark.slow
def test_two_compiles_with_two_hash_seeds_give_identical_bytes(tmp_path: Path) -> None:
    config_dir = REPO / "config.d"
    first = _compile_subprocess(config_dir, tmp_path / "a.json", "1")
    second = _compile_subprocess(config_dir, tmp_path / "b.json", "4242")
    assert first == second
    assert b'compiled_at": null' in first  # no wall-clock time without SOURCE_DATE_EPOCH


@pytest.mark.slow
def test_source_date_epoch_is_the_only_time_and_leaves_the_fingerprint(tmp_path: Path) -> None:
    config_dir = REPO / "config.d"
    plain = load_artifact_bytes(_compile_subprocess(config_dir, tmp_path / "a.json", "0"))
    dated_raw = _compile_subprocess(
        config_dir, tmp_path / "b.json", "0", SOURCE_DATE_EPOCH="1767225600"
    )
    dated = load_artifact_bytes(dated_raw)
    assert dated["build"]["compiled_at"] == "2026-01-01T00:00:00Z"
    assert dated["fingerprint"] == plain["fingerprint"]
    assert json.loads(msgspec.json.encode(load_artifact(tmp_path / "b.json"))) == dated


def load_artifact_bytes(raw: bytes) -> dict[str, object]:
    import json

    data = json.loads(raw)
    assert isinstance(data, dict)
    return data


def test_same_input_on_another_path_gives_identical_bytes(tmp_path: Path) -> None:
    """The artifact names sources `<dir name>/<file>`, never the absolute path."""
    source = PluginSource()
    texts = {p.name: p.read_text() for p in (REPO / "config.d").glob("*.yaml")}
    outputs = []
    for parent in ("one", "two/deeper"):
        folder = tmp_path / parent / "config.d"
        folder.mkdir(parents=True)
        for name, text in texts.items():
            (folder / name).write_text(text)
        result = compile_config(folder, source)
        assert result.artifact is not None, result.diagnostics
        outputs.append(artifact_bytes(result.artifact))
    assert outputs[0] == outputs[1]
    assert b"config.d/10-outbound.yaml:" in outputs[0]
    assert str(tmp_path).encode() not in outputs[0]


FRAGMENTS = {
    "00-base.yaml": "version: 1\nproviders:\n  outbound: {plugin: test, version: 0.4.0}\n",
    "10-a.yaml": "providers:\n  outbound:\n    settings: {delay_seconds: 1}\n",
    "2-b.yaml": "providers:\n  outbound:\n    settings: {delay_seconds: 2}\n",
    "20-c.yaml": "providers:\n  outbound:\n    settings: {delay_seconds: 3}\n",
    "B-upper.yaml": "providers:\n  outbound:\n    settings: {delay_seconds: 4}\n",
    "a-lower.yaml": "providers:\n  outbound:\n    settings: {delay_seconds: 5}\n",
}


def test_merge_order_is_by_file_name_whatever_the_listing_order(
    write_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Code-point order of names: 00-base < 10-a < 2-b < 20-c < B-upper < a-lower, so the last
    word is a-lower's. The file system's listing order is shuffled on every call."""
    config_dir = write_config(FRAGMENTS)
    real_scandir = os.scandir
    rng = random.Random(7)
    listings: list[list[str]] = []

    class Shuffled:
        def __init__(self, path: object) -> None:
            self.entries = list(real_scandir(path))  # type: ignore[call-overload]
            rng.shuffle(self.entries)
            listings.append([e.name for e in self.entries])

        def __enter__(self) -> list[os.DirEntry[str]]:
            return self.entries

        def __exit__(self, *exc: object) -> None:
            return None

        def __iter__(self):  # type: ignore[no-untyped-def]
            return iter(self.entries)

    monkeypatch.setattr(os, "scandir", Shuffled)
    results = [compile_config(config_dir, PluginSource()) for _ in range(6)]
    assert len({tuple(x) for x in listings}) > 1, "the listing order was never shuffled"
    for result in results:
        assert result.ok, result.diagnostics
        assert result.data["providers"]["outbound"]["settings"]["delay_seconds"] == 5
        assert result.artifact == results[0].artifact
        history = result.merged.history[("providers", "outbound", "settings", "delay_seconds")]
        assert [Path(s.mark.file).name for s in history] == [
            "10-a.yaml",
            "2-b.yaml",
            "20-c.yaml",
            "B-upper.yaml",
            "a-lower.yaml",
        ]


def test_fingerprint_covers_values_not_blame_or_build(write_config) -> None:
    source = PluginSource()
    base = compile_config(write_config({"00.yaml": "version: 1\nprofile: dev\n"}, "a"), source)
    moved = compile_config(
        write_config(
            {"00.yaml": "# a comment moves every line\n\nversion: 1\nprofile: dev\n"}, "b"
        ),
        source,
        build=BuildInfo("2026-01-01T00:00:00Z", "abc123"),
    )
    changed = compile_config(
        write_config({"00.yaml": "version: 1\nappliance: {data_dir: other}\n"}, "c"), source
    )
    assert base.artifact and moved.artifact and changed.artifact
    assert base.artifact["sources"] != moved.artifact["sources"]
    assert base.artifact["fingerprint"] == moved.artifact["fingerprint"]
    assert base.artifact["fingerprint"] != changed.artifact["fingerprint"]
    assert fingerprint(moved.artifact) == moved.artifact["fingerprint"]
