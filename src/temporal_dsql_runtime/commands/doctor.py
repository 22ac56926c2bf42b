"""`temporal-dsql-runtime doctor`: find the first layer between here and the database that does not work."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import click

from ..cli_support import env_file_option, process_environment, reports_user_errors
from ..doctor import DEFAULT_CHECK_TIMEOUT, Report, run_doctor, wait_until_healthy
from ..durations import parse_go_duration
from ..loading import load_settings

WAIT_PROBLEM = "expected a finite number of seconds, 0 or more, or a Go duration such as 30s or 2m"


def _seconds(context: click.Context, parameter: click.Parameter, value: str | None) -> float | None:
    """Seconds from `90` or a Go duration such as `2m`: finite and not negative."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parse_go_duration(value).seconds
        except ValueError:
            raise click.BadParameter(WAIT_PROBLEM) from None
    if not 0 <= seconds < math.inf:
        raise click.BadParameter(WAIT_PROBLEM)
    return seconds


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--wait",
    "wait",
    metavar="TIMEOUT",
    callback=_seconds,
    help="Retry until healthy or TIMEOUT (seconds, or 30s, 2m).",
)
@click.option(
    "--schema-dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Versioned schema whose newest version the server needs. "
    "Default: /etc/temporal/schema/<postgresql/v12|dsql>/temporal/versioned when present.",
)
@click.option(
    "--visibility-schema-dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="The same for the sql visibility store's database.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.5),
    default=DEFAULT_CHECK_TIMEOUT,
    show_default=True,
    help="Seconds each network step may take.",
)
@env_file_option
@reports_user_errors
def doctor(
    as_json: bool,
    wait: float | None,
    schema_dir: Path | None,
    visibility_schema_dir: Path | None,
    timeout: float,
    env_file: Path | None,
) -> None:
    """Check DNS, TCP, TLS, login, SELECT 1, schema version and visibility, in that order.

    Exit 0 when all pass, 69 when something cannot be reached, 78 when a setting, credential, certificate or
    the schema is wrong.
    """
    settings = load_settings(process_environment(), env_file)
    if wait is None:
        report = run_doctor(
            settings, schema_dir=schema_dir, visibility_schema_dir=visibility_schema_dir, timeout=timeout
        )
    else:
        report = wait_until_healthy(
            settings,
            wait,
            schema_dir=schema_dir,
            visibility_schema_dir=visibility_schema_dir,
            check_timeout=timeout,
            on_attempt=lambda attempt: None if as_json else _announce(attempt),
        )
    click.echo(report.as_json() if as_json else "\n".join(report.lines()))
    sys.exit(report.exit_code)


def _announce(report: Report) -> None:
    """Say on stderr why the doctor keeps waiting."""
    failure = report.first_failure
    if failure is not None:
        click.echo(f"waiting: {failure.name}: {failure.detail}", err=True)
