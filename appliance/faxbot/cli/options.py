"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def config_dir_option(func: F) -> F:
    return click.option(
        "--dir",
        "config_dir",
        type=click.Path(path_type=Path),
        default=Path("config.d"),
        show_default=True,
        help="The config.d folder of YAML fragments.",
    )(func)


def _fragment_file(
    ctx: click.Context, param: click.Parameter, value: tuple[Path, ...]
) -> list[Path]:
    for path in value:
        if not path.name.endswith(".yaml"):
            raise click.BadParameter(f"{path}: fragments end in .yaml", ctx, param)
    return list(value)


def fragment_option(func: F) -> F:
    return click.option(
        "--fragment",
        "fragments",
        multiple=True,
        type=click.Path(path_type=Path, exists=True, dir_okay=False),
        callback=_fragment_file,
        help="A fragment file from outside --dir, merged after its fragments; repeatable, "
        "in the order given (scripts/run adds its development key this way).",
    )(func)


def strict_option(func: F) -> F:
    return click.option(
        "--strict",
        is_flag=True,
        help="Warnings are errors too (for CI: an ignored file fails the build).",
    )(func)


def format_option(*choices: str) -> Callable[[F], F]:
    def wrap(func: F) -> F:
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(choices),
            default=choices[0],
            show_default=True,
            help="Output format.",
        )(func)

    return wrap
