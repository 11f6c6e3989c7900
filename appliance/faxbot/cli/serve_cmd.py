"""`faxbot serve`: run the appliance on a compiled artifact."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import click

from faxbot.artifact import DEFAULT_PATH

if TYPE_CHECKING:
    from faxbot.server.lifecycle import Appliance

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
@click.option(
    "--new-database",
    is_flag=True,
    help="Create an empty database even though data_dir's marker says this appliance had "
    "one (it was deleted, or database_url changed): its jobs are then gone for good.",
)
@click.pass_context
def serve(
    ctx: click.Context,
    artifact: Path,
    host: str | None,
    port: int | None,
    registry: Path | None,
    log_level: str,
    new_database: bool,
) -> None:
    """Serve the fax API from ARTIFACT: read-only config, only the pinned plugins it names."""
    import uvicorn

    from faxbot.artifact import ArtifactError
    from faxbot.plugins.discovery import PluginSource
    from faxbot.plugins.host import StartupError
    from faxbot.server.app import create_app
    from faxbot.server.drain import GRACE_BACKSTOP_SECONDS, DrainingServer
    from faxbot.server.http_limits import (
        RESPONSE_HEADERS,
        bounded_protocol,
        reserve_file_descriptors,
    )
    from faxbot.server.listen import CannotListen, address, bind

    source = ctx.find_root().obj
    try:
        app = create_app(
            artifact,
            registry_path=registry,
            log_level=log_level,
            new_database=new_database,
            source=source.without_schema_checks() if isinstance(source, PluginSource) else None,
        )
    except (ArtifactError, StartupError) as exc:
        click.echo(f"faxbot serve: cannot start: {exc}", err=True)
        ctx.exit(EXIT_CANNOT_START)
    appliance: Appliance = app.state.appliance
    listen = appliance.artifact.appliance.listen
    try:
        sock = bind(host or listen.host, listen.port if port is None else port)
    except CannotListen as exc:
        click.echo(f"faxbot serve: cannot start: {exc}", err=True)
        ctx.exit(EXIT_CANNOT_START)
    appliance.address = address(sock)
    bounds = appliance.artifact.appliance.limits.http
    reserve_file_descriptors(bounds)
    settings = appliance.artifact.appliance
    server = DrainingServer(
        uvicorn.Config(
            app,
            http=bounded_protocol(bounds),
            ws="none",
            timeout_keep_alive=bounds.idle_timeout_seconds,
            headers=list(RESPONSE_HEADERS),
            log_config=None,
            access_log=False,
            lifespan="on",
            server_header=False,
            # The drain cuts what is left at the grace period's end itself (server/drain.py);
            # uvicorn's own timeout is only a backstop should a cut request not go away.
            timeout_graceful_shutdown=int(settings.shutdown_grace_seconds) + GRACE_BACKSTOP_SECONDS,
        ),
        appliance,
        grace=settings.shutdown_grace_seconds,
        delay=settings.shutdown_delay_seconds,
    )
    logging.getLogger("uvicorn.error").addFilter(_ExplainedStartFailure(appliance))
    try:
        server.run(sockets=[sock])
    except SystemExit:  # uvicorn exits (code 3) when the lifespan's start fails
        if server.started:
            raise
    finally:
        sock.close()
    if not server.started:
        reason = appliance.startup_error
        click.echo(
            f"faxbot serve: cannot start: {reason}"
            if reason
            else "faxbot serve: the appliance failed to start; see the log above",
            err=True,
        )
        ctx.exit(EXIT_STARTUP_FAILED)


class _ExplainedStartFailure(logging.Filter):
    """Drops the traceback uvicorn logs when the lifespan fails (Litestar hands it the
    formatted exception) once the appliance has logged the reason itself: a missing secret is
    one clear line, not forty lines of JSON-escaped stack. Any other failure keeps it."""

    def __init__(self, appliance: Appliance) -> None:
        super().__init__()
        self.appliance = appliance

    def filter(self, record: logging.LogRecord) -> bool:
        first_line = record.getMessage().partition("\n")[0]
        return not (
            self.appliance.startup_error is not None
            and "Traceback (most recent call last)" in first_line  # or "Exception Group Tr..."
        )
