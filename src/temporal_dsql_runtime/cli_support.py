"""What every command shares: the process environment at the edge, and one-line errors instead of tracebacks."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from .errors import UserError

P = ParamSpec("P")
R = TypeVar("R")


def process_environment() -> dict[str, str]:
    """A copy of this process's environment: the one place the CLI reads it, to hand it to the library."""
    return dict(os.environ)


def reports_user_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Print a `UserError` as one line per problem on stderr and exit with its code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except UserError as error:
            for problem in error.problems:
                click.echo(f"error: {problem}", err=True)
            sys.exit(error.exit_code)

    return wrapper


env_file_option = click.option(
    "--env-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Read settings from this .env file too (the environment wins).",
)


def echo_lines(lines: list[str], **kwargs: Any) -> None:
    """Print lines, one each."""
    for line in lines:
        click.echo(line, **kwargs)
