"""`temporal-dsql-runtime start`: the container ENTRYPOINT."""

from __future__ import annotations

from pathlib import Path

import click

from ..cli_support import env_file_option, process_environment, reports_user_errors
from ..launch_log import StepLog
from ..launcher import exec_server, prepare_launch
from ..loading import settings_from, unknown_names
from ..settings import SERVICES
from ..sources import collect


@click.command(context_settings={"ignore_unknown_options": True})
@click.option(
    "--service",
    "services",
    multiple=True,
    type=click.Choice(SERVICES),
    help="Service to run (repeatable). Default: TEMPORAL_SERVICES.",
)
@env_file_option
@click.argument("server_args", nargs=-1, type=click.UNPROCESSED)
@reports_user_errors
def start(services: tuple[str, ...], env_file: Path | None, server_args: tuple[str, ...]) -> None:
    """Render this process's config and exec temporal-server (arguments after -- go to the server)."""
    environment = process_environment()
    collected = collect(environment, env_file)
    settings = settings_from(collected)
    log = StepLog(settings.launcher_log_format)
    for warning in unknown_names(collected.values):
        log("settings", warning, level="warn")
    chosen = services or settings.services
    log("settings", f"loaded; persistence {settings.sql_plugin_name}, visibility {settings.visibility_store}")
    plan = prepare_launch(settings, environment, chosen, server_args, log)
    exec_server(plan, log)
