"""Schema set up or updated by our tool, and temporal-server (through the launcher) starts and runs on it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.postgres import PostgresServer, running_postgres
from support.temporal_cluster import (
    SERVER_MODULE,
    base_environment,
    greet_on_fresh_cluster,
    tool,
)

RUNTIME = Path(sys.executable).with_name("temporal-dsql-runtime")
SCHEMA_ROOT = SERVER_MODULE / "schema"
ROLE, PASSWORD = "temporal", "schema-Pw-1"


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    with running_postgres() as pg:
        pg.execute(f"CREATE ROLE {ROLE} LOGIN CREATEDB PASSWORD '{PASSWORD}'")
        yield pg


def settings_for(pg: PostgresServer, tmp_path: Path) -> dict[str, str]:
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    return base_environment(tmp_path / "run") | {
        "TEMPORAL_SQL_PLUGIN_NAME": "postgres12",
        "TEMPORAL_SQL_HOST": pg.host,
        "TEMPORAL_SQL_PORT": str(pg.port),
        "TEMPORAL_SQL_USER": ROLE,
        "TEMPORAL_SQL_PASSWORD_FILE": str(password_file),
        "TEMPORAL_SCHEMA_ROOT": str(SCHEMA_ROOT),
        "TEMPORAL_SQL_MAX_CONNS": "10",
    }


def our_schema(environment: dict[str, str], *args: str) -> None:
    for target in ("temporal", "visibility"):
        result = subprocess.run(
            [str(RUNTIME), "schema", *args, "--target", target],
            env=environment,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def their_schema(pg: PostgresServer, database: str, *args: str) -> None:
    command = [
        str(tool("temporal-sql-tool")), "--plugin", "postgres12", "--ep", pg.host, "-p", str(pg.port),
        "-u", ROLE, "--pw", PASSWORD, "--db", database, *args,
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)


def test_server_runs_on_a_schema_set_up_by_our_tool(postgres: PostgresServer, tmp_path: Path) -> None:
    environment = settings_for(postgres, tmp_path)
    our_schema(environment, "setup", "--dialect", "postgres")
    for database, target in (("temporal", "temporal"), ("temporal_visibility", "visibility")):
        versioned = SCHEMA_ROOT / "postgresql" / "v12" / target / "versioned"
        their_schema(postgres, database, "update-schema", "-d", str(versioned))  # nothing left to do
    greet_on_fresh_cluster(environment, tmp_path, "schema-e2e", "schema")


def test_server_runs_after_our_tool_updates_a_schema_set_up_by_temporal_sql_tool(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    environment = settings_for(postgres, tmp_path)
    for database, target in (("temporal", "temporal"), ("temporal_visibility", "visibility")):
        postgres.execute(f"CREATE DATABASE {database} OWNER {ROLE}")
        versioned = SCHEMA_ROOT / "postgresql" / "v12" / target / "versioned"
        their_schema(postgres, database, "setup-schema", "-v", "0.0")
        their_schema(postgres, database, "update-schema", "-d", str(versioned), "-v", "1.0")
    stale = subprocess.run(
        [str(RUNTIME), "start", "--service", "frontend"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert stale.returncode == 78 and "schema update" in stale.stderr, stale.stderr
    our_schema(environment, "update")
    greet_on_fresh_cluster(environment, tmp_path, "schema-e2e", "schema")
