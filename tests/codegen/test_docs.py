"""The generated regions of docs/config.md, docs/appliance.md and README.md: current, derived
from their sources (a changed schema description is drift that `--check` names), placed only
between their markers, and telling the truth about `faxbot config compile`."""

from __future__ import annotations

import copy
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from faxbot.artifact import DEFAULT_PATH
from faxbot.cli.main import cli
from faxbot.config.structure import fragment_schema
from faxbot_codegen import docs, retry_policy
from faxbot_codegen.example import RECOMPUTE, compile_example
from faxbot_codegen.generate import generate_all
from faxbot_codegen.keys_table import key_rows
from faxbot_codegen.modules_table import MissingDocstring, first_sentence, modules
from faxbot_codegen.outputs import COMMAND, compare

from tests.conftest import REPO

HAND_WRITTEN = [
    docs.CONFIG_MD,
    docs.APPLIANCE_MD,
    docs.PLUGINS_MD,
    docs.STORAGE_MD,
    docs.README,
    retry_policy.README,
]


def docs_root(tmp_path: Path) -> Path:
    """A root holding what the docs generator reads and rewrites: the hand-written files,
    config.d, the SDK retry policy and the s3 plugin's manifest, as committed."""
    root = tmp_path / "repo"
    for rel in [*HAND_WRITTEN, retry_policy.SOURCE, docs.S3_MANIFEST]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / rel, root / rel)
    shutil.copytree(REPO / "config.d", root / "config.d")
    return root


def codegen(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["codegen", *args, "--only", "docs", "--root", str(root)])


def test_committed_regions_match_their_sources() -> None:
    drift = compare(generate_all({"docs"}, REPO), REPO)
    assert not drift.any, drift.summary()


def test_every_region_says_it_is_generated_and_how_to_regenerate_it() -> None:
    outputs = generate_all({"docs"}, REPO)
    assert sorted(outputs.regions) == sorted(HAND_WRITTEN)
    for rel, regions in outputs.regions.items():
        text = (REPO / rel).read_text(encoding="utf-8")
        for region in regions:
            opening = f"<!-- BEGIN generated: {region.name} (from {region.source}; do not edit"
            assert f"{opening}, run `{COMMAND}`) -->" in text, (rel, region.name)


def test_a_changed_schema_description_makes_check_fail_naming_config_md(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = docs_root(tmp_path)
    assert codegen(root, "--check").exit_code == 0
    changed: dict[str, Any] = copy.deepcopy(fragment_schema())
    changed["properties"]["appliance"]["properties"]["data_dir"]["description"] = "Moved."
    monkeypatch.setattr(docs, "fragment_schema", lambda: changed)

    result = codegen(root, "--check")

    assert result.exit_code == 1, result.output
    assert f"differs: {docs.CONFIG_MD}" in result.stderr
    assert '| `appliance.data_dir` | string, at least 1 character | `"data"` |  | Moved. |' in (
        result.stderr
    )
    assert [path for path in HAND_WRITTEN if path in result.stderr] == [docs.CONFIG_MD]
    assert codegen(root).exit_code == 0  # regenerating writes the region, and only it
    assert codegen(root, "--check").exit_code == 0
    before = (REPO / docs.CONFIG_MD).read_text(encoding="utf-8").split("<!-- BEGIN")[0]
    assert (root / docs.CONFIG_MD).read_text(encoding="utf-8").startswith(before)


def test_regions_that_cannot_be_placed_are_reported_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    root = docs_root(tmp_path)
    config_md = root / docs.CONFIG_MD
    text = config_md.read_text(encoding="utf-8")
    text = text.replace("<!-- END generated: keys -->\n", "")  # unclosed
    text = text.replace("<!-- BEGIN generated: diagnostic-codes ", "<!-- BEGIN generated: codes ")
    config_md.write_text(text, encoding="utf-8")
    readme = root / docs.README
    readme.write_text(readme.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")

    check = codegen(root, "--check")
    write = codegen(root)

    assert check.exit_code == 1, check.output
    for problem in (
        "region 'keys' has no `<!-- END generated: keys -->` line",
        "region 'diagnostic-codes' is missing",
        "region 'codes' has no `<!-- END generated: codes -->` line",
    ):
        assert f"broken: {docs.CONFIG_MD}: {problem}" in check.stderr
    assert write.exit_code == 1
    assert "nothing written" in write.stderr
    assert config_md.read_text(encoding="utf-8") == text
    assert readme.read_text(encoding="utf-8").endswith("\nEdited.\n")


def test_a_region_nothing_generates_is_reported(tmp_path: Path) -> None:
    root = docs_root(tmp_path)
    appliance_md = root / docs.APPLIANCE_MD
    appliance_md.write_text(
        appliance_md.read_text(encoding="utf-8").replace(
            "generated: appliance-modules", "generated: old-modules"
        ),
        encoding="utf-8",
    )
    result = codegen(root, "--check")
    assert result.exit_code == 1
    assert "region 'old-modules' is not generated by anything; remove its markers" in (
        result.stderr
    )


def test_an_example_config_d_with_a_warning_stops_codegen(tmp_path: Path) -> None:
    root = docs_root(tmp_path)
    (root / "config.d" / "README.txt").write_text("not a fragment\n", encoding="utf-8")
    before = {rel: (root / rel).read_bytes() for rel in HAND_WRITTEN}

    result = codegen(root)

    assert result.exit_code == 1
    assert "must compile without errors or warnings to be the docs' example" in result.stderr
    assert "README.txt: warning: ignored: only *.yaml files are fragments" in result.stderr
    assert {rel: (root / rel).read_bytes() for rel in HAND_WRITTEN} == before


def test_the_example_is_what_config_compile_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = compile_example(REPO)
    shutil.copytree(REPO / "config.d", tmp_path / "config.d")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.delenv("FAXBOT_SOURCE_REVISION", raising=False)

    result = CliRunner().invoke(cli, ["config", "compile"])

    assert result.exit_code == 0, result.output
    command, printed = example.compile_console().split("\n", 1)
    assert command == "$ faxbot config compile"
    assert result.stderr == printed
    assert (tmp_path / DEFAULT_PATH).read_bytes() == example.artifact
    assert f"({example.fingerprint})" in printed


def test_the_fingerprint_recipe_prints_the_fingerprint_twice(tmp_path: Path) -> None:
    example = compile_example(REPO)
    (tmp_path / DEFAULT_PATH).parent.mkdir(parents=True)
    (tmp_path / DEFAULT_PATH).write_bytes(example.artifact)
    command = RECOMPUTE.removeprefix("$ python3 ")
    done = subprocess.run(  # the recipe is a shell command line, quoted as the docs show it
        ["bash", "-c", f"{shlex.quote(sys.executable)} {command}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == f"{example.fingerprint} {example.fingerprint}\n"
    assert example.recompute_console() == RECOMPUTE + done.stdout


def test_every_config_key_has_a_type_and_a_description() -> None:
    rows = key_rows(fragment_schema())
    assert len(rows) >= 25
    assert [r.key for r in rows if not (r.description and r.type)] == []
    secret = {r.key: r.secret for r in rows if r.secret}
    assert secret == {
        "`appliance.database_url`": "yes",
        "`appliance.storage_encryption_key`": "yes",
        "`appliance.storage_encryption_previous_keys`": "each item",
    }


def test_a_module_table_row_is_its_docstrings_first_sentence(tmp_path: Path) -> None:
    package = tmp_path / "faxbot"
    (package / "server" / "migrations").mkdir(parents=True)
    (package / "server" / "__init__.py").write_text('"""The server. More."""\n')
    (package / "server" / "app.py").write_text('"""Builds the app, e.g. `create_app`. More."""\n')
    (package / "server" / "migrations" / "env.py").write_text("x = 1\n")
    assert modules(["server"], package) == [
        ("faxbot/server/", "The server."),
        ("faxbot/server/app.py", "Builds the app, e.g. `create_app`."),
    ]
    (package / "server" / "bare.py").write_text("x = 1\n")
    with pytest.raises(MissingDocstring, match=r"faxbot/server/bare\.py has no docstring"):
        modules(["server"], package)


def test_first_sentence_ends_at_the_first_full_stop_after_a_word() -> None:
    assert first_sentence("One (a.b)\ntwo. Three.") == "One (a.b) two."
    assert first_sentence("No full stop at all") == "No full stop at all"
    assert first_sentence("First, i.e. `this`. Then.\n\nNext paragraph.") == ("First, i.e. `this`.")
