"""`temporal-dsql-runtime token`: the credential command, when reached through the click group.

The console script normally takes the fast path in `entrypoint.py` and never gets here; this wrapper keeps
`temporal-dsql-runtime --help` listing the command and makes `cli.main()` behave the same.
"""

from __future__ import annotations

import sys

import click

from ..credential_command import main as token_main


@click.command(
    add_help_option=False,
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
def token(arguments: tuple[str, ...]) -> None:
    """Print a database password for passwordCommand: an IAM token (cached) or a password file's content."""
    sys.exit(token_main(list(arguments)))
