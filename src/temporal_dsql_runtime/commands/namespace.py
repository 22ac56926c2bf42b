"""`temporal-dsql-runtime namespace`: make sure namespaces exist on a running cluster (one-shot Compose service)."""

from __future__ import annotations

import re

import click

from ..cli_support import echo_lines, reports_user_errors
from ..namespaces import ensure_namespaces

NAMESPACE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
ENDPOINT = re.compile(r"https?://[^/\s]+/?")


def _namespace_names(_: click.Context, __: click.Parameter, values: tuple[str, ...]) -> list[str]:
    for value in values:
        if not NAMESPACE_NAME.fullmatch(value):
            raise click.BadParameter(f"{value!r}: accepts letters, digits, '.', '_' and '-' (at most 255)")
    return list(values)


def _endpoint(_: click.Context, __: click.Parameter, value: str) -> str:
    if not ENDPOINT.fullmatch(value):
        raise click.BadParameter(f"{value!r}: accepts http(s)://host:port (the frontend's HTTP API)")
    return value


@click.command()
@click.argument("names", nargs=-1, required=True, callback=_namespace_names)
@click.option(
    "--endpoint",
    default="http://127.0.0.1:7243",
    show_default=True,
    callback=_endpoint,
    help="The frontend's HTTP API.",
)
@click.option(
    "--retention-days",
    type=click.IntRange(min=1, max=3650),
    default=1,
    show_default=True,
    help="Workflow execution retention of a namespace registered here.",
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0, max=3600),
    default=120.0,
    show_default=True,
    help="Seconds to keep retrying while the frontend is not ready.",
)
@reports_user_errors
def namespace(names: list[str], endpoint: str, retention_days: int, wait: float) -> None:
    """Register NAMES on the cluster unless they exist already (69 if the frontend never answers)."""
    results = ensure_namespaces(endpoint, names, retention_days * 86_400, wait)
    echo_lines([result.describe() for result in results])
