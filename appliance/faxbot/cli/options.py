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
