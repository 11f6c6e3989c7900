"""`faxbot`: the command group. Subcommands live in their own modules; the plugin source is
created here once and handed down, so tests can give their own."""

from __future__ import annotations

import click

from faxbot.cli.config_cmds import config
from faxbot.cli.keys_cmd import keys
from faxbot.cli.plugins_cmd import plugins
from faxbot.plugins.discovery import PluginSource


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Faxbot appliance: compile config.d, inspect plugins, manage API keys."""
    if ctx.obj is None:
        ctx.obj = PluginSource()


cli.add_command(config)
cli.add_command(keys)
cli.add_command(plugins)


def main() -> None:
    cli(prog_name="faxbot")
