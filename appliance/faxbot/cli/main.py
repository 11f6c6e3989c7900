"""`faxbot`: the command group. Subcommands are imported when they are run (click's lazy
group pattern), so `faxbot serve` does not pay for the compiler and `faxbot config check`
does not pay for the server. Other installed distributions add commands through the entry
point group `faxbot.commands` (the build tool adds `faxbot codegen`): the appliance lists
them without knowing them. The plugin source is created here once and handed down, so tests
can give their own."""

from __future__ import annotations

import importlib
from importlib.metadata import EntryPoint, entry_points

import click

from faxbot.plugins.discovery import PluginSource

SUBCOMMANDS = {
    "config": "faxbot.cli.config_cmds:config",
    "keys": "faxbot.cli.keys_cmd:keys",
    "plugins": "faxbot.cli.plugins_cmd:plugins",
    "serve": "faxbot.cli.serve_cmd:serve",
}
CONTRIBUTED = "faxbot.commands"

# Said when one of these is run and no installed distribution provides it. Only a hint: the
# appliance imports nothing of them and works without them.
ELSEWHERE = {
    "codegen": "it belongs to the build tool faxbot_codegen, which is not installed here "
    "(from a source checkout: pip install -e codegen)",
}


def _contributed(name: str | None = None) -> list[EntryPoint]:
    found = entry_points(group=CONTRIBUTED)
    chosen = found if name is None else found.select(name=name)
    # The appliance's own commands win: an installed distribution cannot replace `serve`.
    return [entry for entry in chosen if entry.name not in SUBCOMMANDS]


def _load(entry: EntryPoint) -> click.Command:
    command = entry.load()  # an ImportError is the contributor's bug: let it be seen
    if not isinstance(command, click.Command):
        distribution = entry.dist.name if entry.dist else "?"
        raise click.ClickException(
            f"entry point {entry.name} = {entry.value} (group {CONTRIBUTED}, distribution "
            f"{distribution}) is not a click command"
        )
    return command


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*SUBCOMMANDS, *(entry.name for entry in _contributed())})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is not None:
            module, _, attribute = target.partition(":")
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command)
            return command
        contributed = _contributed(cmd_name)
        if len(contributed) > 1:
            distributions = sorted(entry.dist.name if entry.dist else "?" for entry in contributed)
            raise click.ClickException(
                f"command {cmd_name!r} is contributed by more than one distribution "
                f"({', '.join(distributions)}); uninstall all but one"
            )
        return _load(contributed[0]) if contributed else None

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else None
        if name in ELSEWHERE and self.get_command(ctx, name) is None:
            ctx.fail(f"No such command {name!r}: {ELSEWHERE[name]}.")
        return super().resolve_command(ctx, args)


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
