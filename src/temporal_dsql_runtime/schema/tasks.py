"""`schema setup`, `update`, `version` and `plan` as library calls: connect, read the version, plan, apply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from ..connect import DatabaseMissing, open_connection, statement_failure
from ..errors import ConfigError
from ..settings import Settings
from . import bookkeeping
from .apply import DEFAULT_RETRY, RetryPolicy, apply_plan
from .locations import SchemaTarget, default_schema_dir
from .manifest import latest_version, version_directories, version_key
from .plan import Dialect, Plan, describe, setup_plan, update_plan

Echo = Callable[[str], None]
MAINTENANCE_DATABASE = "postgres"


@dataclass(frozen=True)
class Target:
    """Which database a command works on, with which schema directory and dialect."""

    database: str
    schema_dir: Path
    dialect: Dialect


@dataclass(frozen=True)
class Status:
    """A database's schema version beside the newest its schema directory offers."""

    database: str
    current: str | None
    latest: str

    @property
    def up_to_date(self) -> bool:
        """Whether the database has the newest version (or a newer one)."""
        return self.current is not None and version_key(self.current) >= version_key(self.latest)


def resolve_target(
    settings: Settings,
    *,
    target: SchemaTarget = "temporal",
    database: str | None = None,
    schema_dir: Path | None = None,
    dialect: Dialect | None = None,
) -> Target:
    """Fill in the database, dialect and schema directory from the settings where not given.

    The schema directory follows the plugin of the target's store (the schema its server reads), never the
    dialect: `--dialect postgres` on a dsql store still applies the fork's DSQL schema, without ASYNC.
    The visibility target is on `Settings.visibility_sql()`: its own server and plugin when it has them.
    """
    store = settings.visibility_sql() if target == "visibility" else settings
    chosen_dialect: Dialect = dialect or ("dsql" if store.uses_dsql else "postgres")
    chosen_database = database or store.sql_database or MAINTENANCE_DATABASE
    shares_server = settings.visibility_sql_host is None
    if target == "visibility" and shares_server and chosen_database == settings.sql_database:
        raise ConfigError(
            f"--target visibility: database {chosen_database} holds the temporal schema and both would "
            "share one schema_version row; give the visibility schema its own database "
            "(TEMPORAL_VISIBILITY_DATABASE or --database)"
        )
    return Target(
        chosen_database,
        schema_dir or default_schema_dir(store.sql_plugin_name, target, settings.schema_root),
        chosen_dialect,
    )


def schema_status(settings: Settings, target: Target) -> Status:
    """The database's version and the newest in the schema directory."""
    latest = latest_version(target.schema_dir)
    with open_connection(settings, database=target.database) as conn:
        return Status(target.database, _read_version(settings, conn, target), latest)


def plan_changes(
    settings: Settings, target: Target, *, to_version: str | None = None, from_version: str | None = None
) -> Plan:
    """What `setup` would run; offline when `from_version` is given ("none": no schema_version row yet)."""
    version_directories(target.schema_dir)
    if from_version is not None:
        current = None if from_version.lower() == "none" else from_version
    else:
        current = _current_version(settings, target)
    return setup_plan(target.schema_dir, target.dialect, target.database, current, to_version)


def setup_schema(
    settings: Settings,
    target: Target,
    *,
    to_version: str | None = None,
    dry_run: bool = False,
    echo: Echo = lambda line: None,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> Plan:
    """Create the database (PostgreSQL) and version tables if missing, then apply every pending version."""
    version_directories(target.schema_dir)
    try:
        conn = open_connection(settings, database=target.database)
    except DatabaseMissing:
        if target.dialect == "dsql":
            raise
        echo(f"database {target.database} does not exist: {'would create' if dry_run else 'creating'} it")
        if dry_run:
            return _run(
                None,
                setup_plan(target.schema_dir, target.dialect, target.database, None, to_version),
                echo=echo,
                retry=retry,
            )
        _create_database(settings, target.database)
        conn = open_connection(settings, database=target.database)
    with conn:
        current = _read_version(settings, conn, target)
        plan = setup_plan(target.schema_dir, target.dialect, target.database, current, to_version)
        return _run(None if dry_run else conn, plan, echo=echo, retry=retry)


def update_schema(
    settings: Settings,
    target: Target,
    *,
    to_version: str | None = None,
    dry_run: bool = False,
    echo: Echo = lambda line: None,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> Plan:
    """Apply every version newer than the database's; the database must have been set up."""
    version_directories(target.schema_dir)
    with open_connection(settings, database=target.database) as conn:
        current = _read_version(settings, conn, target)
        if current is None:
            raise ConfigError(
                f"database {target.database} has no schema_version row: "
                "run `temporal-dsql-runtime schema setup` first"
            )
        plan = update_plan(target.schema_dir, target.dialect, target.database, current, to_version)
        return _run(None if dry_run else conn, plan, echo=echo, retry=retry)


def _run(conn: psycopg.Connection | None, plan: Plan, *, echo: Echo, retry: RetryPolicy) -> Plan:
    """Run the plan on `conn`, reporting each step; without a connection (a dry run), show it instead."""
    lines = describe(plan)
    if conn is None or plan.is_empty:
        for line in lines:
            echo(line)
        return plan
    echo(lines[0])
    apply_plan(conn, plan, retry=retry, echo=echo)
    echo(f"database {plan.database}: now at version {plan.target_version}")
    return plan


def _current_version(settings: Settings, target: Target) -> str | None:
    """The database's version; None when it has none or (PostgreSQL) the database does not exist yet."""
    try:
        conn = open_connection(settings, database=target.database)
    except DatabaseMissing:
        if target.dialect == "dsql":
            raise
        return None
    with conn:
        return _read_version(settings, conn, target)


def _read_version(settings: Settings, conn: psycopg.Connection, target: Target) -> str | None:
    """The database's version; a failed query (a missing privilege, a lost connection) or a version newer
    than the schema directory knows (another plugin's schema, or the wrong directory) is a one-line error."""
    database = target.database
    try:
        current = bookkeeping.read_version(conn, database)
    except psycopg.Error as error:
        raise statement_failure(error, settings, database, f"reading schema_version in {database}") from None
    latest = latest_version(target.schema_dir)
    if current is not None and version_key(current) > version_key(latest):
        raise ConfigError(
            f"database {database} is at version {current}, newer than the newest in {target.schema_dir} "
            f"({latest}): that directory is not the schema this database has; check --schema-dir and "
            "TEMPORAL_SQL_PLUGIN_NAME"
        )
    return current


def _create_database(settings: Settings, database: str) -> None:
    with open_connection(settings, database=MAINTENANCE_DATABASE) as conn:
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        except psycopg.Error as error:
            raise statement_failure(
                error, settings, MAINTENANCE_DATABASE, f"creating database {database}"
            ) from None
