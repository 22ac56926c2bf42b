"""`temporal-dsql-runtime healthcheck`: the container HEALTHCHECK; exit 0 when all services here serve."""

from __future__ import annotations

from pathlib import Path

import click

from ..cli_support import env_file_option, process_environment, reports_user_errors
from ..errors import UnavailableError
from ..healthcheck import check_services
from ..loading import load_settings


@click.command()
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=60),
    default=3.0,
    show_default=True,
    help="Seconds to wait for the services' answers.",
)
@env_file_option
@reports_user_errors
def healthcheck(timeout: float, env_file: Path | None) -> None:
    """Report in one line whether TEMPORAL_SERVICES answer SERVING to gRPC health checks (69 if not)."""
    settings = load_settings(process_environment(), env_file)
    results = check_services(settings, timeout)
    line = ", ".join(result.describe() for result in results)
    if not all(result.serving for result in results):
        raise UnavailableError(f"unhealthy: {line}")
    click.echo(f"healthy: {line}")
