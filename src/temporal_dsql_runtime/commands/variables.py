"""`temporal-dsql-runtime variables`: every setting with type, default and description."""

from __future__ import annotations

import click

from ..variables_doc import as_env_example, as_json, as_table

FORMATS = {"table": as_table, "json": as_json, "env": as_env_example}


@click.command()
@click.option("--format", "style", type=click.Choice(sorted(FORMATS)), default="table", show_default=True)
def variables(style: str) -> None:
    """List every variable the runtime reads (`--format env` prints .env.example)."""
    click.echo(FORMATS[style](), nl=style != "env")
