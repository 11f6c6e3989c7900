"""`faxbot codegen [--check]`."""

from __future__ import annotations

import time
from pathlib import Path

import click

from faxbot_codegen.generate import generate_all, generators
from faxbot_codegen.outputs import RegionError, SourceError, compare, write


@click.command()
@click.option(
    "--check",
    is_flag=True,
    help="Regenerate in memory and exit 1 with a diff summary if a committed output "
    "differs from what its source produces.",
)
@click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path(),
    show_default=True,
    help="The repository root the outputs live under.",
)
@click.option("--only", default=None, help="Comma-separated generators to run (default: all).")
@click.pass_context
def codegen(ctx: click.Context, check: bool, root: Path, only: str | None) -> None:
    """Write docs/openapi.json, docs/mcp/tools.json, the SDKs under sdks/ and the console's
    API types under console/src/api/generated/ from the route handlers and the capability
    catalog, and the generated regions of docs/config.md, docs/plugins.md, docs/appliance.md
    and README.md from the code and config.d."""
    chosen = set(only.split(",")) if only else None
    unknown = (chosen or set()) - set(generators())
    if unknown:
        raise click.BadParameter(
            f"unknown generator(s) {', '.join(sorted(unknown))}; known: {', '.join(generators())}",
            param_hint="--only",
        )
    began = time.perf_counter()
    try:
        outputs = generate_all(chosen, root)
    except SourceError as exc:
        click.echo(f"faxbot codegen: {exc}", err=True)
        ctx.exit(1)
    seconds = time.perf_counter() - began
    if check:
        drift = compare(outputs, root)
        if drift.any:
            click.echo(
                "faxbot codegen --check: committed outputs differ from their source; "
                "run `faxbot codegen` and commit:",
                err=True,
            )
            click.echo(drift.summary(), err=True)
            ctx.exit(1)
        click.echo(
            f"faxbot codegen --check: {len(outputs.paths())} files up to date ({seconds:.2f} s)"
        )
        return
    try:
        touched = write(outputs, root)
    except RegionError as exc:
        click.echo(
            f"faxbot codegen: nothing written; generated regions cannot be placed:\n{exc}", err=True
        )
        ctx.exit(1)
    click.echo(
        f"faxbot codegen: {len(outputs.paths())} files, {len(touched)} written ({seconds:.2f} s)"
    )
    for path in touched:
        click.echo(f"  {path}")
