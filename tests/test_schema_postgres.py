"""The postgres dialect applies the DSQL-style fixture schema to a real PostgreSQL: idempotent, stops at the
first failure naming file and statement, retries SQLSTATE 40001, and runs the DSQL job wait it is given."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from schema_support import (
    FIXTURE_SCHEMA,
    PASSWORD,
    add_login,
    create_database,
    invoke,
    postgres_environment,
    schema_dump,
    settings_for,
    version_rows,
)
from support.postgres import PostgresServer, running_postgres
from temporal_dsql_runtime.connect import open_connection
from temporal_dsql_runtime.errors import UnavailableError
from temporal_dsql_runtime.schema.apply import RetryPolicy, StatementFailed, apply_plan
from temporal_dsql_runtime.schema.plan import Plan, RunStatement
from temporal_dsql_runtime.schema.statements import split_sql
from temporal_dsql_runtime.schema.tasks import resolve_target, setup_schema

FAST_RETRY = RetryPolicy(attempts=4, first_delay=0.001, max_delay=0.01)


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    with running_postgres() as running:
        add_login(running)
        yield running


def setup(server: PostgresServer, database: str, schema_dir: Path, *extra: str) -> tuple[int, str]:
    args = ["schema", "setup", "--dialect", "postgres", "--schema-dir", str(schema_dir), *extra]
    result = invoke(args, postgres_environment(server, database=database))
    return result.exit_code, result.output


def add_version(schema_dir: Path, version: str, sql: str) -> None:
    directory = schema_dir / f"v{version}"
    directory.mkdir()
    manifest = (
        f'{{"CurrVersion": "{version}", "MinCompatibleVersion": "1.0", "Description": "test {version}", '
        '"SchemaUpdateCqlFiles": ["change.sql"]}'
    )
    (directory / "manifest.json").write_text(manifest)
    (directory / "change.sql").write_text(sql)


def test_fixture_schema_lands_whole_and_a_second_run_changes_nothing(server: PostgresServer) -> None:
    code, output = setup(server, "fixture", FIXTURE_SCHEMA)
    assert code == 0, output
    assert "now at version 1.2" in output
    with server.connect("fixture") as conn:
        assert conn.execute("SELECT notes FROM namespaces").fetchone() == ("seeded; -- not a comment",)
        assert conn.execute("SELECT task_key('q', 7)").fetchone() == ("q;7",)
        indexes = {
            row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")
        }
        assert {"namespaces_by_name", "executions_by_run", "tasks_by_queue"} <= indexes
        assert conn.execute("SELECT count(*) FROM open_executions").fetchone() == (0,)
    before = (schema_dump(server, "fixture"), version_rows(server, "fixture"))

    code, output = setup(server, "fixture", FIXTURE_SCHEMA)
    assert code == 0, output
    assert output.strip() == "database fixture (postgres): at version 1.2, nothing to do"
    assert (schema_dump(server, "fixture"), version_rows(server, "fixture")) == before


def test_dry_run_prints_the_plan_and_changes_nothing(server: PostgresServer) -> None:
    create_database(server, "dry")
    code, output = setup(server, "dry", FIXTURE_SCHEMA, "--dry-run")
    assert code == 0, output
    assert "version none (no schema_version row) -> 1.2, 16 transactions" in output
    with server.connect("dry") as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)


def test_first_failure_stops_naming_file_and_statement_and_a_rerun_resumes(
    server: PostgresServer, tmp_path: Path
) -> None:
    schema_dir = tmp_path / "schema"
    shutil.copytree(FIXTURE_SCHEMA, schema_dir)
    add_version(
        schema_dir, "1.3", "CREATE TABLE audit (id UUID PRIMARY KEY);\n\nCREATE INDEX ON missing (x);\n"
    )
    code, output = setup(server, "broken", schema_dir)
    assert code == 65, output
    assert output.splitlines()[-1] == (
        "error: v1.3/change.sql statement 2 (line 3): CREATE INDEX ON missing (x): "
        'relation "missing" does not exist (SQLSTATE 42P01); the database stays at version 1.2'
    )
    assert version_rows(server, "broken")[0][0][2] == "1.2"

    (schema_dir / "v1.3" / "change.sql").write_text(
        "CREATE TABLE audit (id UUID PRIMARY KEY);\n\nCREATE INDEX ON audit (id);\n"
    )
    code, output = setup(server, "broken", schema_dir)
    assert code == 0, output
    assert (
        "statement 1 (line 1): CREATE TABLE audit (id UUID PRIMARY KEY): skipped (relation already exists"
        in output
    )
    assert version_rows(server, "broken")[0][0][2] == "1.3"


def test_serialization_failures_are_retried_then_given_up_on(server: PostgresServer, tmp_path: Path) -> None:
    schema_dir = tmp_path / "schema"
    shutil.copytree(FIXTURE_SCHEMA, schema_dir)
    conflict = (
        "DO $$ BEGIN IF nextval('attempts') < {n} THEN "
        "RAISE EXCEPTION 'concurrent change' USING ERRCODE = 'serialization_failure'; END IF; END $$;"
    )
    add_version(schema_dir, "1.3", "CREATE SEQUENCE attempts;\n" + conflict.format(n=3))
    settings = settings_for(postgres_environment(server, database="conflicts"))
    target = resolve_target(settings, schema_dir=schema_dir, dialect="postgres")
    setup_schema(settings, target, retry=FAST_RETRY)
    with server.connect("conflicts") as conn:
        assert conn.execute("SELECT last_value FROM attempts").fetchone() == (3,)
    assert version_rows(server, "conflicts")[0][0][2] == "1.3"

    add_version(schema_dir, "1.4", conflict.format(n=1000))
    with pytest.raises(UnavailableError) as raised:
        setup_schema(settings, target, retry=FAST_RETRY)
    assert raised.value.problems[0].startswith(
        "v1.4/change.sql statement 1 (line 1): DO $$ BEGIN IF nextval('attempts') < 1000"
    )
    assert "(SQLSTATE 40001) after 4 attempts; the database stays at version 1.3" in raised.value.problems[0]
    with server.connect("conflicts") as conn:
        assert conn.execute("SELECT last_value FROM attempts").fetchone() == (3 + 4,)


def test_an_async_step_waits_for_the_job_id_its_statement_returns(server: PostgresServer) -> None:
    create_database(server, "jobs")
    server.execute("CREATE SCHEMA sys AUTHORIZATION temporal", dbname="jobs")
    settings = settings_for(postgres_environment(server, database="jobs"))
    with open_connection(settings) as conn:
        conn.execute("CREATE TABLE sys.waited (job TEXT)")
        conn.execute(
            "CREATE PROCEDURE sys.wait_for_job(job TEXT, INOUT succeeded BOOLEAN DEFAULT NULL) "
            "LANGUAGE plpgsql AS $$ BEGIN INSERT INTO sys.waited VALUES (job); "
            "succeeded := job <> 'job-bad'; END $$"
        )
        lines: list[str] = []
        apply_plan(conn, job_plan("job-7", "1.0"), echo=lines.append)
        assert lines == [
            "  1. DML  v1.0/jobs.sql statement 1 (line 1): SELECT 'job-7'; "
            "then CALL sys.wait_for_job(<job id>): done (waited for job job-7)"
        ]
        with pytest.raises(StatementFailed) as raised:
            apply_plan(conn, job_plan("job-bad", "1.0"))
        assert raised.value.problems == (
            "v1.0/jobs.sql statement 1 (line 1): SELECT 'job-bad': index build job job-bad failed "
            "(sys.wait_for_job returned false; see sys.jobs); the database stays at version 1.0",
        )
        assert conn.execute("SELECT job FROM sys.waited").fetchall() == [("job-7",), ("job-bad",)]


def job_plan(job: str, version: str) -> Plan:
    """A DSQL plan of one step whose statement returns `job` as its job id, as CREATE INDEX ASYNC does."""
    (statement,) = split_sql(f"SELECT '{job}'", "v1.0/jobs.sql")
    return Plan(
        "dsql", "jobs", version, version, (RunStatement(statement, statement.text, waits_for_job=True),)
    )


def test_a_user_who_may_not_read_schema_version_is_told_so_by_every_command(server: PostgresServer) -> None:
    code, output = setup(server, "guarded", FIXTURE_SCHEMA)
    assert code == 0, output
    for user in ("inserter", "outsider"):  # only INSERT on schema_version; no privilege on it at all
        server.execute(f"CREATE ROLE {user} LOGIN PASSWORD '{PASSWORD}'")
    server.execute("GRANT INSERT ON schema_version TO inserter", "guarded")
    for user, command in itertools.product(("inserter", "outsider"), ("version", "update", "setup", "plan")):
        result = invoke(
            ["schema", command, "--dialect", "postgres", "--schema-dir", str(FIXTURE_SCHEMA)],
            postgres_environment(server, database="guarded", TEMPORAL_SQL_USER=user),
        )
        assert (result.exit_code, result.stderr) == (
            78,
            f"error: 127.0.0.1:{server.port}: reading schema_version in guarded failed for user {user}: "
            "permission denied for table schema_version: grant the privilege, or set TEMPORAL_SQL_USER to "
            "a user that has it\n",
        ), (user, command)


def test_setup_without_the_createdb_privilege_names_it(server: PostgresServer) -> None:
    server.execute(f"CREATE ROLE nocreate LOGIN PASSWORD '{PASSWORD}'")
    environment = postgres_environment(
        server, TEMPORAL_SQL_USER="nocreate", TEMPORAL_VISIBILITY_DATABASE="uncreated_visibility"
    )
    args = ["schema", "setup", "--target", "visibility", "--dialect", "postgres"]
    result = invoke([*args, "--schema-dir", str(FIXTURE_SCHEMA)], environment)
    assert (result.exit_code, result.stderr) == (
        78,
        f"error: 127.0.0.1:{server.port}: creating database uncreated_visibility failed for user nocreate: "
        "permission denied to create database: grant the privilege, or set TEMPORAL_SQL_USER to a user "
        "that has it\n",
    )
