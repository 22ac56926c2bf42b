"""`temporal-dsql-runtime schema`: set up, update, inspect and plan a versioned SQL schema.

With `--target visibility` and an OpenSearch/Elasticsearch visibility store, the same commands work on the
visibility index instead (`schema.search`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import click

from ..cli_support import env_file_option, process_environment, reports_user_errors
from ..loading import load_settings
from ..schema.locations import TARGETS, SchemaTarget
from ..schema.plan import DIALECTS, Dialect, describe
from ..schema.search import (
    describe_search_plan,
    load_schema,
    plan_search_schema,
    run_search_schema,
    search_schema_dir,
)
from ..schema.tasks import Target, plan_changes, resolve_target, schema_status, setup_schema, update_schema
from ..settings import Settings


def target_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options every schema subcommand shares: which database, schema directory and dialect."""
    options = [
        click.option(
            "--schema-dir",
            type=click.Path(path_type=Path, file_okay=False),
            help="Versioned schema directory (vX.Y/manifest.json + SQL). "
            "Default: by the target's plugin under TEMPORAL_SCHEMA_ROOT: postgresql/v12/<target>/versioned, "
            "or dsql/temporal/versioned for dsql; for an OpenSearch visibility store, the directory holding "
            "versioned/vN/index_template_v7.json (default: <TEMPORAL_SCHEMA_ROOT>/elasticsearch/visibility).",
        ),
        click.option(
            "--dialect",
            type=click.Choice(DIALECTS),
            help="dsql: one DDL per transaction, waits for ASYNC indexes; postgres: plain PostgreSQL. "
            "Default: dsql for a DSQL host.",
        ),
        click.option(
            "--target",
            type=click.Choice(TARGETS),
            default="temporal",
            show_default=True,
            help="temporal (in TEMPORAL_SQL_DATABASE) or visibility (in TEMPORAL_VISIBILITY_DATABASE).",
        ),
        click.option("--database", help="Database to work on instead of the target's configured one."),
        env_file_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _settings(env_file: Path | None) -> Settings:
    """The settings from the environment (and the --env-file)."""
    return load_settings(process_environment(), env_file)


def _is_search_index(settings: Settings, target: str, dialect: str | None, database: str | None) -> bool:
    """Whether `target` is an OpenSearch/Elasticsearch visibility index (where SQL-only options are refused)."""
    if target != "visibility" or settings.visibility_store not in ("opensearch", "elasticsearch"):
        return False
    for option, value in (("--dialect", dialect), ("--database", database)):
        if value is not None:
            raise click.UsageError(
                f"{option}: not used for visibility store {settings.visibility_store} "
                "(the index is TEMPORAL_OPENSEARCH_INDEX)"
            )
    return True


def _target(
    settings: Settings, schema_dir: Path | None, dialect: str | None, target: str, database: str | None
) -> tuple[Settings, Target]:
    """The settings of the chosen target's database server, and the database the options choose."""
    chosen = resolve_target(
        settings,
        target=cast(SchemaTarget, target),
        database=database,
        schema_dir=schema_dir,
        dialect=cast(Dialect | None, dialect),
    )
    return (settings.visibility_sql() if target == "visibility" else settings), chosen


@click.group()
def schema() -> None:
    """Versioned SQL schema, kept the way temporal-sql-tool keeps it (either tool can take over).

    With --target visibility and an OpenSearch/Elasticsearch visibility store: the index template and index.
    """


SchemaTask = Callable[..., object]
to_version_option = click.option("--to-version", help="Stop at this version. Default: the newest.")
dry_run_option = click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")


def _changing_command(name: str, run: SchemaTask, summary: str) -> click.Command:
    """`setup` or `update`: the same options, a different task."""

    @schema.command(name=name, help=summary)
    @target_options
    @to_version_option
    @dry_run_option
    @reports_user_errors
    def command(
        schema_dir: Path | None,
        dialect: str | None,
        target: str,
        database: str | None,
        env_file: Path | None,
        to_version: str | None,
        dry_run: bool,
    ) -> None:
        settings = _settings(env_file)
        if _is_search_index(settings, target, dialect, database):
            run_search_schema(
                settings,
                schema_dir,
                create_index=name == "setup",
                to_version=to_version,
                dry_run=dry_run,
                echo=click.echo,
            )
            return
        server_settings, chosen = _target(settings, schema_dir, dialect, target, database)
        run(server_settings, chosen, to_version=to_version, dry_run=dry_run, echo=click.echo)

    return command


setup = _changing_command(
    "setup", setup_schema, "Create the database and version tables if missing, then apply every version."
)
update = _changing_command("update", update_schema, "Apply every version newer than the database's.")


@schema.command()
@target_options
@reports_user_errors
def version(
    schema_dir: Path | None, dialect: str | None, target: str, database: str | None, env_file: Path | None
) -> None:
    """Print the database's schema version and the newest available; exit 1 when behind."""
    settings = _settings(env_file)
    if _is_search_index(settings, target, dialect, database):
        schema = load_schema(search_schema_dir(settings, schema_dir))
        plan = plan_search_schema(settings, schema, create_index=True)
        click.echo(describe_search_plan(plan)[0])
        if not plan.is_empty:
            raise SystemExit(1)
        return
    status = schema_status(*_target(settings, schema_dir, dialect, target, database))
    click.echo(f"database {status.database}: version {status.current or 'none'}, newest {status.latest}")
    if not status.up_to_date:
        raise SystemExit(1)


@schema.command()
@target_options
@to_version_option
@click.option(
    "--from-version",
    help="Plan offline from this version ('none': a database without schema_version) instead of connecting.",
)
@reports_user_errors
def plan(
    schema_dir: Path | None,
    dialect: str | None,
    target: str,
    database: str | None,
    env_file: Path | None,
    to_version: str | None,
    from_version: str | None,
) -> None:
    """Print the transactions `setup` would run, in order, without running them."""
    settings = _settings(env_file)
    if _is_search_index(settings, target, dialect, database):
        if from_version is not None:
            raise click.UsageError(
                "--from-version: not used for an OpenSearch visibility index (it is read live)"
            )
        schema = load_schema(search_schema_dir(settings, schema_dir), to_version)
        for line in describe_search_plan(plan_search_schema(settings, schema, create_index=True)):
            click.echo(line)
        return
    server_settings, chosen = _target(settings, schema_dir, dialect, target, database)
    for line in describe(
        plan_changes(server_settings, chosen, to_version=to_version, from_version=from_version)
    ):
        click.echo(line)
