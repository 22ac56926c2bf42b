"""The `temporal-dsql-runtime` executable: a fast path for the credential command, else the full CLI.

temporal-server runs `temporal-dsql-runtime token ...` for every new database connection, so that subcommand
starts without click, pydantic or botocore; every other subcommand goes through the click group.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Console entry point of `temporal-dsql-runtime`."""
    if sys.argv[1:2] == ["token"]:
        from .credential_command import main as token_main

        raise SystemExit(token_main(sys.argv[2:]))
    from .cli import main as cli_main

    cli_main()
