"""`faxbot config check|compile|plan|explain|schema`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import msgspec

from faxbot.artifact import (
    DEFAULT_PATH,
    ArtifactError,
    artifact_bytes,
    load_artifact,
    write_atomic,
)
from faxbot.cli.options import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    config_dir_option,
    format_option,
    fragment_option,
    strict_option,
)
from faxbot.config import plan as planning
from faxbot.config.compiler import BuildInfo, CompileResult, compile_config
from faxbot.config.diagnostics import (
    Diagnostic,
    render_github,
    render_json,
    render_text,
    summary,
)
from faxbot.config.explain import UnknownKey, explain
from faxbot.config.rules import profile_notice
from faxbot.config.structure import fragment_schema
from faxbot.kernel.keypath import parse_path
from faxbot.plugins.discovery import PluginSource


@click.group()
def config() -> None:
    """Validate, compile, plan and explain config.d."""


def _report(result: CompileResult, fmt: str, stream: Any) -> None:
    items = result.diagnostics
    notice = profile_notice(result.data) if result.ok else None
    if fmt == "json":
        stream.write(render_json(items, notices=[notice] if notice else []))
    elif fmt == "github":
        stream.write(render_github(items))
        if notice:
            stream.write(f"::notice title=faxbot profile::{notice}\n")
    else:
        stream.write(render_text(items))
        if notice:
            stream.write(f"note: {notice}\n")
        stream.write(f"{summary(items)}\n" if items else "")


def _source(ctx: click.Context) -> PluginSource:
    source = ctx.find_root().obj
    assert isinstance(source, PluginSource)
    return source


@config.command()
@config_dir_option
@fragment_option
@strict_option
@format_option("text", "json", "github")
@click.pass_context
def check(
    ctx: click.Context, config_dir: Path, fragments: list[Path], strict: bool, fmt: str
) -> None:
    """Validate config.d. Exit 0 valid, 1 invalid (every error listed), 2 usage error."""
    result = compile_config(config_dir, _source(ctx), extra=fragments, now=datetime.now(UTC))
    _report(result, fmt, sys.stdout)
    passed = _passed(result, strict)
    if fmt == "text" and passed:
        count = len(result.fragments)
        click.echo(f"{config_dir}: valid ({count} fragment{'s' * (count != 1)})")
    ctx.exit(EXIT_OK if passed else EXIT_INVALID)


def _passed(result: CompileResult, strict: bool) -> bool:
    """No error; with --strict, no warning either."""
    return result.ok and not (strict and result.diagnostics)


def _build_info() -> BuildInfo:
    try:
        return BuildInfo.from_epoch(
            os.environ.get("SOURCE_DATE_EPOCH"), os.environ.get("FAXBOT_SOURCE_REVISION") or None
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


@config.command(name="compile")
@config_dir_option
@fragment_option
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    default=DEFAULT_PATH,
    show_default=True,
    help="Where to write the artifact ('-': stdout).",
)
@click.option(
    "--source-revision",
    default=None,
    help="Recorded in the artifact (default: $FAXBOT_SOURCE_REVISION); not fingerprinted.",
)
@strict_option
@format_option("text", "json", "github")
@click.pass_context
def compile_(
    ctx: click.Context,
    config_dir: Path,
    fragments: list[Path],
    out: Path,
    source_revision: str | None,
    strict: bool,
    fmt: str,
) -> None:
    """Write the resolved, fingerprinted artifact (atomically), or list every error.

    Byte-stable: no wall-clock time enters it unless SOURCE_DATE_EPOCH is set."""
    build = _build_info()
    if source_revision:
        build = BuildInfo(build.compiled_at, source_revision)
    result = compile_config(
        config_dir, _source(ctx), build=build, extra=fragments, now=datetime.now(UTC)
    )
    _report(result, fmt, sys.stderr)
    if not _passed(result, strict) or result.artifact is None:
        ctx.exit(EXIT_INVALID)
    data = artifact_bytes(result.artifact)
    if str(out) == "-":
        sys.stdout.buffer.write(data)
    else:
        write_atomic(out, data)
        if fmt == "text":
            click.echo(f"wrote {out} ({result.artifact['fingerprint']})", err=True)
    ctx.exit(EXIT_OK)


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)


def _checkout_ref(ref: str, config_dir: Path, into: Path) -> Path | str:
    """Extract `config_dir` as of git `ref` into `into`, or say why that is not possible."""
    where = config_dir.resolve()
    anchor = where if where.is_dir() else where.parent
    while not anchor.exists():
        anchor = anchor.parent
    top = _git(["rev-parse", "--show-toplevel"], anchor)
    if top.returncode != 0:
        return f"{config_dir} is not inside a git repository, so {ref!r} cannot be a git ref"
    root = Path(top.stdout.decode().strip())
    if _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root).returncode != 0:
        return f"{ref!r} is not a commit in {root}"
    rel = where.relative_to(root).as_posix()
    target = into / config_dir.name
    target.mkdir(parents=True)
    archive = _git(["archive", "--format=tar", ref, "--", rel], root)
    if archive.returncode != 0:  # the folder did not exist at that ref: an empty base
        return target
    tar_path = into / "base.tar"
    tar_path.write_bytes(archive.stdout)
    with tarfile.open(tar_path) as tar:
        for member in tar.getmembers():
            if (
                member.isfile()
                and member.name.startswith(rel + "/")
                and "/" not in member.name[len(rel) + 1 :]
            ):
                extracted = tar.extractfile(member)
                if extracted is not None:
                    (target / Path(member.name).name).write_bytes(extracted.read())
    return target


def _base_artifact(ctx: click.Context, base: str, config_dir: Path) -> tuple[dict[str, Any], str]:
    path = Path(base)
    if path.is_dir():
        return _lenient(ctx, path), f"{base}"
    if path.is_file():
        try:
            return json.loads(msgspec.json.encode(load_artifact(path))), f"{base}"
        except ArtifactError as exc:
            raise click.UsageError(f"--base: {exc}") from None
    with tempfile.TemporaryDirectory(prefix="faxbot-plan-") as tmp:
        extracted = _checkout_ref(base, config_dir, Path(tmp))
        if isinstance(extracted, str):
            raise click.UsageError(
                f"--base {base!r} is not a directory, an artifact file or a git ref ({extracted})"
            )
        return _lenient(ctx, extracted), f"{config_dir} at {base}"


def _lenient(ctx: click.Context, config_dir: Path) -> dict[str, Any]:
    """The base was valid when it landed; pins may since have moved, so compile it leniently."""
    result = compile_config(config_dir, _source(ctx), strict_pins=False)
    assert result.artifact is not None
    return result.artifact


@config.command()
@config_dir_option
@click.option(
    "--base", required=True, help="What to compare with: a config dir, an artifact, or a git ref."
)
@format_option("text", "markdown", "json")
@click.option("--exit-code", is_flag=True, help="Exit 1 when there are changes (like git diff).")
@click.pass_context
def plan(ctx: click.Context, config_dir: Path, base: str, fmt: str, exit_code: bool) -> None:
    """Show what config.d changes in the resolved config against a base."""
    head = compile_config(config_dir, _source(ctx))
    if not head.ok or head.artifact is None:
        sys.stderr.write(render_text(head.diagnostics))
        sys.stderr.write(f"cannot plan: {config_dir} is invalid ({summary(head.diagnostics)})\n")
        ctx.exit(EXIT_USAGE)
    assert head.artifact is not None
    base_artifact, base_name = _base_artifact(ctx, base, config_dir)
    changes = planning.diff_artifacts(base_artifact, head.artifact)
    title = f"faxbot config plan: {config_dir} against {base_name}"
    if fmt == "markdown":
        click.echo(planning.render_markdown(changes, title), nl=False)
    elif fmt == "json":
        click.echo(
            planning.render_json(
                changes,
                title,
                base_fingerprint=base_artifact.get("fingerprint"),
                head_fingerprint=head.artifact["fingerprint"],
            ),
            nl=False,
        )
    else:
        click.echo(planning.render_text(changes, title), nl=False)
    ctx.exit(EXIT_INVALID if exit_code and changes else EXIT_OK)


@config.command(name="explain")
@config_dir_option
@click.argument("key")
@format_option("text", "json")
@click.pass_context
def explain_(ctx: click.Context, config_dir: Path, key: str, fmt: str) -> None:
    """Show KEY's resolved value (masked if secret) and every file:line that set it."""
    try:
        path = parse_path(key)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    result = compile_config(config_dir, _source(ctx))
    try:
        found = explain(result, path)
    except UnknownKey as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_INVALID)
    if fmt == "json":
        payload = {
            "path": found.path,
            "value": found.value,
            "secret": found.secret,
            "origins": [o.__dict__ for o in found.origins],
            "valid": result.ok,
        }
        if found.effective:
            payload["effective"] = found.effective
        click.echo(json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        click.echo(f"{found.path} = {json.dumps(found.value, ensure_ascii=False)}")
        if found.origins:
            click.echo("set by, in merge order:")
            width = max(len(o.place) for o in found.origins)
            for origin in found.origins:
                shown = json.dumps(origin.value, ensure_ascii=False)
                where = "" if origin.path == found.path else f"{origin.path} = "
                mark = "  (wins)" if origin.wins else ""
                click.echo(f"  {origin.place:<{width}}  {where}{shown}{mark}")
        if found.effective:
            click.echo("effective policy:")
            for line in found.effective:
                click.echo(f"  {line}")
        if not result.ok:
            click.echo(
                f"note: config.d has errors ({summary(result.diagnostics)}); "
                "run faxbot config check",
                err=True,
            )
    ctx.exit(EXIT_OK)


@config.command()
def schema() -> None:
    """Print the JSON Schema of config.d (for editors)."""
    click.echo(json.dumps(fragment_schema(), indent=2, ensure_ascii=False))


__all__ = ["Diagnostic", "config"]


@config.command()
@click.option(
    "--from-env",
    "env_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The Faxbot v2 environment file (.env).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The config.d folder to write the fragments into (existing fragments are kept).",
)
def migrate(env_file: Path, out: Path) -> None:
    """Turn a Faxbot v2 .env into config.d fragments: settings mapped, secrets as ${env:...}
    references (never their values), API_KEY as its SHA-256, and a report of what could not
    be mapped."""
    from faxbot.config.migrate import MigrationError, migrate, read_env, write

    try:
        migration = migrate(read_env(env_file.read_text("utf-8")))
        written = write(migration, out)
    except MigrationError as exc:
        click.echo(f"{env_file}: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    for path in written:
        click.echo(f"wrote {path}")
    if migration.references:
        names = ", ".join(sorted(set(migration.references)))
        click.echo(f"secrets stay in the environment, referenced by name: {names}")
    for name, why in migration.not_mapped:
        click.echo(f"not mapped: {name}: {why}")
    click.echo(f"next: faxbot config check --dir {out}")
