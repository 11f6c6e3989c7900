"""Subcommands other distributions add through the entry point group `faxbot.commands`:
`faxbot codegen` from the build tool, listed when it is installed and explained when not;
any other distribution's command; and the appliance's own commands, which none can replace."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from tests.cli.test_commands import FAXBOT, faxbot

HELLO = '''
import click


@click.command()
def hello() -> None:
    """Say hello from another distribution."""
    click.echo("hello from faxbot_hello")


@click.command()
def serve() -> None:
    click.echo("not the appliance's serve")
'''


def distribution(folder: Path, entry_points: str, module: str | None = None) -> Path:
    """A distribution as pip leaves it: a module and its .dist-info, on a path entry."""
    info = folder / "faxbot_hello-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: faxbot_hello\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[faxbot.commands]\n{entry_points}")
    if module is not None:
        (folder / "faxbot_hello.py").write_text(module)
    return folder


def faxbot_with(path_entry: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(path_entry)}
    return subprocess.run(
        [FAXBOT, *args], cwd=path_entry, env=env, capture_output=True, text=True, check=False
    )


def test_codegen_is_a_subcommand_when_the_build_tool_is_installed() -> None:
    listed = faxbot("--help")
    assert listed.returncode == 0
    assert "  codegen  " in listed.stdout
    helped = faxbot("codegen", "--help")
    assert helped.returncode == 0, helped.stderr
    assert "--check" in helped.stdout


def test_without_the_build_tool_codegen_is_not_listed_and_running_it_says_why(
    tmp_path: Path,
) -> None:
    # This environment's site-packages minus the faxbot_codegen distribution (its metadata and
    # its editable-install hook): the appliance exactly as installed, without the build tool.
    site = Path(sysconfig.get_paths()["purelib"])
    mirror = tmp_path / "site-packages"
    mirror.mkdir()
    for entry in site.iterdir():
        if "faxbot_codegen" not in entry.name:
            (mirror / entry.name).symlink_to(entry)
    probe = (
        "import site, sys; site.addsitedir(sys.argv.pop(1)); "
        "from faxbot.cli.main import main; sys.argv[0] = 'faxbot'; main()"
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-S", "-c", probe, str(mirror), *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )

    listed = run("--help")
    assert listed.returncode == 0, listed.stderr
    assert "  serve  " in listed.stdout
    assert "codegen" not in listed.stdout
    refused = run("codegen", "--check")
    assert refused.returncode == 2
    assert (
        "Error: No such command 'codegen': it belongs to the build tool faxbot_codegen, "
        "which is not installed here (from a source checkout: pip install -e codegen)."
    ) in refused.stderr


def test_another_distribution_adds_a_command(tmp_path: Path) -> None:
    folder = distribution(tmp_path, "hello = faxbot_hello:hello\n", HELLO)
    listed = faxbot_with(folder, "--help")
    assert "  hello    Say hello from another distribution." in listed.stdout
    ran = faxbot_with(folder, "hello")
    assert (ran.returncode, ran.stdout) == (0, "hello from faxbot_hello\n")


def test_a_distribution_cannot_replace_the_appliances_own_command(tmp_path: Path) -> None:
    folder = distribution(tmp_path, "serve = faxbot_hello:serve\n", HELLO)
    ran = faxbot_with(folder, "serve", "--help")
    assert ran.returncode == 0
    assert "Serve the fax API from ARTIFACT" in ran.stdout
    assert faxbot_with(folder, "--help").stdout.count("  serve  ") == 1


def test_a_contributed_command_that_fails_to_import_is_not_hidden(tmp_path: Path) -> None:
    folder = distribution(tmp_path, "broken = faxbot_hello_missing:broken\n")
    ran = faxbot_with(folder, "broken")
    assert ran.returncode == 1
    assert "ModuleNotFoundError: No module named 'faxbot_hello_missing'" in ran.stderr
