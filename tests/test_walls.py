"""The walls between the parts (PRODUCT.md §6, docs/walls.md), as `lint-imports` checks them
with the contracts in pyproject.toml: the tree keeps them, each contract breaks on a
deliberate breach in a scratch copy of the packages, and the contracts name every package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO

LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))
CONFIG = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "importlinter"
]
CONTRACTS = {contract["id"]: contract for contract in CONFIG["contracts"]}
# Where each root package lives in the repository.
PACKAGES = {
    "faxbot": "appliance/faxbot",
    "faxbot_codegen": "codegen/faxbot_codegen",
    "faxbot_plugin_test": "plugins/test/faxbot_plugin_test",
    "faxbot_plugin_local": "plugins/local/faxbot_plugin_local",
    "faxbot_plugin_phaxio": "plugins/phaxio/faxbot_plugin_phaxio",
    "faxbot_plugin_sinch": "plugins/sinch/faxbot_plugin_sinch",
    "faxbot_plugin_sip": "plugins/sip/faxbot_plugin_sip",
    "faxbot_plugin_s3": "plugins/s3/faxbot_plugin_s3",
    "faxbot_client": "sdks/python/faxbot_client",
    "faxbot_mcp": "sdks/python/faxbot_mcp",
}


def lint_imports(cwd: Path, *args: str, path: list[Path] | None = None) -> str:
    env = {**os.environ, "COLUMNS": "200"}  # rich wraps long contract names at 80
    if path is not None:
        env["PYTHONPATH"] = os.pathsep.join(map(str, path))
    result = subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--no-logo", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return f"exit {result.returncode}\n{result.stdout}{result.stderr}"


def test_the_tree_keeps_its_walls() -> None:
    output = lint_imports(REPO)
    assert output.startswith("exit 0\n"), output
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in output


def test_every_package_is_linted_and_every_first_party_plugin_is_walled() -> None:
    # A package left out of root_packages is checked by no contract; a plugin left out of
    # the plugins contract may import anything.
    assert sorted(CONFIG["root_packages"]) == sorted(PACKAGES)
    plugins = sorted(path.parent.name for path in REPO.glob("plugins/*/*/__init__.py"))
    assert plugins == sorted(CONTRACTS["plugins"]["source_modules"])
    for name, location in PACKAGES.items():
        assert (REPO / location / "__init__.py").is_file(), name


@pytest.fixture
def scratch(tmp_path: Path) -> tuple[Path, list[Path]]:
    """The linted packages, the custom contract type and pyproject.toml, copied; returns the
    copy's root and the path entries that make the copies the packages lint-imports finds."""
    entries = []
    for location in PACKAGES.values():
        shutil.copytree(
            REPO / location,
            tmp_path / location,
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
        )
        entries.append(tmp_path / Path(location).parent)
    shutil.copytree(REPO / "tools", tmp_path / "tools", ignore=shutil.ignore_patterns("__py*"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path, entries


# (contract id, file written in the scratch copy, its text, the import lint-imports names)
BREACHES = [
    (
        "compiler",
        "appliance/faxbot/config/breach.py",
        "import faxbot.server\n",
        "-   faxbot.config.breach -> faxbot.server (l.1)",
    ),
    (
        "kernel",
        "appliance/faxbot/kernel/breach.py",
        '"""A key path helper."""\n\nfrom faxbot.catalog import load_catalog\n',
        "-   faxbot.kernel.breach -> faxbot.catalog (l.3)",
    ),
    (
        "plugin-host",
        "appliance/faxbot/plugins/breach.py",
        "from faxbot.config.compiler import compile_config\n",
        "-   faxbot.plugins.breach -> faxbot.config.compiler (l.1)",
    ),
    (
        "build-tool",
        "appliance/faxbot/server/breach.py",
        "import faxbot_codegen\n",
        "-   faxbot.server.breach -> faxbot_codegen (l.1)",
    ),
    (
        "plugins",
        "plugins/test/faxbot_plugin_test/breach.py",
        "import faxbot.store\n",
        "-   faxbot_plugin_test.breach -> faxbot.store (l.1)",
    ),
    (
        "plugins",  # one plugin may not import another
        "plugins/local/faxbot_plugin_local/breach.py",
        "from faxbot_plugin_test import TestTransport\n",
        "-   faxbot_plugin_local.breach -> faxbot_plugin_test (l.1)",
    ),
    (
        "sdk",
        "sdks/python/faxbot_client/breach.py",
        "import faxbot\n",
        "-   faxbot_client.breach -> faxbot (l.1)",
    ),
    (
        "mcp",  # an MCP server is an HTTP client of the appliance, through the SDK
        "sdks/python/faxbot_mcp/breach.py",
        "from faxbot.catalog import load_catalog\n",
        "-   faxbot_mcp.breach -> faxbot.catalog (l.1)",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("contract", "file", "text", "named"),
    BREACHES,
    ids=[f"{contract}:{Path(file).parent.name}" for contract, file, _, _ in BREACHES],
)
def test_a_breach_breaks_its_contract(
    scratch: tuple[Path, list[Path]], contract: str, file: str, text: str, named: str
) -> None:
    root, path = scratch
    (root / file).write_text(text, encoding="utf-8")
    output = lint_imports(root, "--contract", contract, path=path)
    assert output.startswith("exit 1\n"), output
    assert f"{CONTRACTS[contract]['name']} BROKEN" in output
    assert named in output, output


@pytest.mark.slow
def test_a_package_added_later_is_behind_the_plugin_wall(
    scratch: tuple[Path, list[Path]],
) -> None:
    # What a forbidden list of today's subpackages would miss.
    root, path = scratch
    (root / "appliance/faxbot/newpart").mkdir()
    (root / "appliance/faxbot/newpart/__init__.py").write_text("")
    (root / "plugins/local/faxbot_plugin_local/breach.py").write_text("import faxbot.newpart\n")
    output = lint_imports(root, "--contract", "plugins", path=path)
    assert "-   faxbot_plugin_local.breach -> faxbot.newpart (l.1)" in output, output


@pytest.mark.slow
def test_a_misspelt_package_breaks_the_contract_instead_of_checking_nothing(
    scratch: tuple[Path, list[Path]],
) -> None:
    root, path = scratch
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        text.replace('source_modules = ["faxbot.kernel"]', 'source_modules = ["faxbot.kernal"]')
    )
    output = lint_imports(root, "--contract", "kernel", path=path)
    assert output.startswith("exit 1\n"), output
    assert "faxbot.kernal: no such module among the root packages" in output
