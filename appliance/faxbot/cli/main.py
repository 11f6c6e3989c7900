"""`faxbot`: the command group. Subcommands are imported when they are run (click's lazy
group pattern), so `faxbot serve` does not pay for the compiler and `faxbot config check`
does not pay for the server. The plugin source is created here once and handed down, so
tests can give their own."""

from __future__ import annotations

import importlib

import click

from faxbot.plugins.discovery import PluginSource

SUBCOMMANDS = {
    "codegen": "faxbot_codegen.cli:codegen",
    "config": "faxbot.cli.config_cmds:config",
    "keys": "faxbot.cli.keys_cmd:keys",
    "plugins": "faxbot.cli.plugins_cmd:plugins",
    "serve": "faxbot.cli.serve_cmd:serve",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Faxbot appliance: compile config.d, serve the fax API, inspect plugins, manage API keys."""
    if ctx.obj is None:
        ctx.obj = PluginSource()


def main() -> None:
    cli(prog_name="faxbot")
