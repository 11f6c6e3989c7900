"""`faxbot serve`: run the appliance on a compiled artifact."""

from __future__ import annotations

from pathlib import Path

import click

from faxbot.artifact import DEFAULT_PATH

EXIT_CANNOT_START = 2
EXIT_STARTUP_FAILED = 3


@click.command()
@click.option(
    "--artifact",
    type=click.Path(path_type=Path, dir_okay=False),
    default=DEFAULT_PATH,
    show_default=True,
    envvar="FAXBOT_ARTIFACT",
    help="The compiled artifact (faxbot config compile).",
)
@click.option(
    "--host",
    default=None,
    envvar="FAXBOT_HOST",
    help="Listen address [default: the artifact's appliance.listen.host].",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    envvar="FAXBOT_PORT",
    help="Listen port [default: the artifact's appliance.listen.port].",
)
@click.option(
    "--registry",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    envvar="FAXBOT_REGISTRY",
    help="A plugin registry to serve instead of the curated one shipped with faxbot.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
@click.pass_context
def serve(
    ctx: click.Context,
    artifact: Path,
    host: str | None,
    port: int | None,
    registry: Path | None,
    log_level: str,
) -> None:
    """Serve the fax API from ARTIFACT: read-only config, only the pinned plugins it names."""
    import uvicorn

    from faxbot.artifact import ArtifactError
    from faxbot.plugins.discovery import PluginSource
    from faxbot.plugins.host import StartupError
    from faxbot.server.app import create_app
    from faxbot.server.lifecycle import Appliance

    source = ctx.find_root().obj
    try:
        app = create_app(
            artifact,
            registry_path=registry,
            log_level=log_level,
            source=source.without_schema_checks() if isinstance(source, PluginSource) else None,
        )
    except (ArtifactError, StartupError) as exc:
        click.echo(f"faxbot serve: cannot start: {exc}", err=True)
        ctx.exit(EXIT_CANNOT_START)
    appliance: Appliance = app.state.appliance
    listen = appliance.artifact.appliance.listen
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host or listen.host,
            port=listen.port if port is None else port,
            log_config=None,
            access_log=False,
            lifespan="on",
            server_header=False,
            timeout_graceful_shutdown=10,
        )
    )
    try:
        server.run()
    except SystemExit:  # uvicorn exits (code 3) when the lifespan's start fails
        if server.started:
            raise
    if not server.started:
        reason = appliance.startup_error
        click.echo(
            f"faxbot serve: cannot start: {reason}"
            if reason
            else "faxbot serve: the appliance failed to start; see the log above",
            err=True,
        )
        ctx.exit(EXIT_STARTUP_FAILED)
