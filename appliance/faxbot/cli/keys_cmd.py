"""`faxbot keys new`: make an API token and the config.d entry that holds only its hash."""

from __future__ import annotations

import json
import re

import click

from faxbot.catalog import load_catalog
from faxbot.cli.options import format_option
from faxbot.config.rules import expiry_problem
from faxbot.keys import new_key

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


@click.group()
def keys() -> None:
    """API keys as code."""


@keys.command()
@click.option("--id", "key_id", required=True, help="A name for the key, e.g. ci or billing-app.")
@click.option("--scopes", required=True, help="Comma-separated scopes, e.g. fax:send,fax:read.")
@click.option("--expires", default=None, help="ISO 8601 date or date-time with zone.")
@format_option("text", "json")
def new(key_id: str, scopes: str, expires: str | None, fmt: str) -> None:
    """Print a new token once, and the YAML entry (its SHA-256 only) for config.d."""
    if not _ID.match(key_id):
        raise click.BadParameter(
            "1-64 characters: lowercase letters, digits, '_', '.', '-'", param_hint="--id"
        )
    known = load_catalog().scopes
    wanted = [s.strip() for s in scopes.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in known]
    if unknown or not wanted:
        raise click.BadParameter(
            f"unknown scope(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(known)}",
            param_hint="--scopes",
        )
    problem = expiry_problem(expires) if expires is not None else None
    if problem is not None:
        raise click.BadParameter(problem, param_hint="--expires")
    key = new_key(key_id, wanted, expires)
    if fmt == "json":
        click.echo(json.dumps({"token": key.token, "entry": key.entry}, indent=2))
        return
    click.echo("Token (shown once; keep it in your secret store, never in git):", err=True)
    click.echo(key.token)
    click.echo(
        f"\nSave this as a fragment of its own, e.g. config.d/50-api-key-{key_id}.yaml "
        "(keys merge by id):",
        err=True,
    )
    click.echo(key.yaml)
