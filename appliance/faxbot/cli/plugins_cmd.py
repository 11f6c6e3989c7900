"""`faxbot plugins list`: what is installed, at which version, for which slots."""

from __future__ import annotations

import json
from typing import Any

import click

from faxbot.cli.options import EXIT_INVALID, EXIT_OK, format_option
from faxbot.plugins.discovery import PluginLoadError, PluginSource


@click.group()
def plugins() -> None:
    """Installed plugins."""


@plugins.command(name="list")
@format_option("text", "json")
@click.pass_context
def list_(ctx: click.Context, fmt: str) -> None:
    """List installed plugins: id, version, slots, capabilities."""
    source = ctx.find_root().obj
    assert isinstance(source, PluginSource)
    rows: list[dict[str, Any]] = []
    broken = False
    for plugin_id in source.ids():
        try:
            plugin = source.load(plugin_id)
        except PluginLoadError as exc:
            broken = True
            rows.append({"id": plugin_id, "error": str(exc)})
            continue
        rows.append(
            {
                "id": plugin.id,
                "version": plugin.version,
                "distribution": plugin.distribution,
                "slots": list(plugin.manifest.categories),
                "capabilities": list(plugin.manifest.capabilities),
                "description": plugin.manifest.description,
            }
        )
    if fmt == "json":
        click.echo(json.dumps({"plugins": rows}, indent=2, sort_keys=True))
    elif not rows:
        click.echo("no faxbot plugins installed")
    else:
        for row in rows:
            if "error" in row:
                click.echo(f"{row['id']}  BROKEN: {row['error']}")
                continue
            slots = ",".join(row["slots"])
            caps = ",".join(row["capabilities"])
            click.echo(
                f"{row['id']:<10} {row['version']:<10} slots={slots:<18} capabilities={caps}"
            )
    ctx.exit(EXIT_INVALID if broken else EXIT_OK)
