"""Our schema tool and the pinned temporal-sql-tool hand a real PostgreSQL database over to each other."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from schema_support import (
    UPSTREAM_TEMPORAL,
    UPSTREAM_VISIBILITY,
    add_login,
    invoke,
    postgres_environment,
    schema_dump,
    sql_tool,
    version_rows,
)
from support.postgres import PostgresServer, running_postgres

SCHEMAS = {"temporal": UPSTREAM_TEMPORAL, "visibility": UPSTREAM_VISIBILITY}


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    with running_postgres() as running:
        add_login(running)
        yield running


@pytest.fixture(scope="module")
def reference(server: PostgresServer) -> dict[str, str]:
    """Databases set up entirely by temporal-sql-tool, one per target: the rows and tables to match."""
    databases = {}
    for target, schema_dir in SCHEMAS.items():
        database = f"go_{target}"
        sql_tool(server, database, "create-database")
        sql_tool(server, database, "setup-schema", "-v", "0.0")
        sql_tool(server, database, "update-schema", "-d", str(schema_dir))
        databases[target] = database
    return databases


def our_tool(server: PostgresServer, target: str, database: str, command: str) -> str:
    environment = postgres_environment(server, database="temporal", TEMPORAL_VISIBILITY_DATABASE="unused")
    args = [
        "schema",
        command,
        "--target",
        target,
        "--database",
        database,
        "--schema-dir",
        str(SCHEMAS[target]),
    ]
    result = invoke(args, environment)
    assert result.exit_code == 0, result.output
    return result.output


def assert_same_bookkeeping(server: PostgresServer, ours: str, theirs: str) -> None:
    our_versions, our_history = version_rows(server, ours)
    their_versions, their_history = version_rows(server, theirs)
    assert [(p, v, m) for p, _, v, m in our_versions] == [(p, v, m) for p, _, v, m in their_versions]
    assert [db for _, db, _, _ in our_versions] == [ours]
    assert our_history == their_history


@pytest.mark.parametrize("target", SCHEMAS)
def test_our_setup_leaves_nothing_for_temporal_sql_tool(
    server: PostgresServer, reference: dict[str, str], target: str
) -> None:
    database = f"ours_{target}"
    output = our_tool(server, target, database, "setup")
    assert f"database {database} does not exist: creating it" in output
    latest = max(
        (path.name[1:] for path in SCHEMAS[target].iterdir()), key=lambda v: tuple(map(int, v.split(".")))
    )
    assert f"now at version {latest}" in output
    assert_same_bookkeeping(server, database, reference[target])
    assert schema_dump(server, database) == schema_dump(server, reference[target])

    history_before = version_rows(server, database)
    sql_tool(server, database, "update-schema", "-d", str(SCHEMAS[target]))
    assert version_rows(server, database) == history_before

    again = our_tool(server, target, database, "setup")
    assert f"at version {latest}, nothing to do" in again
    assert version_rows(server, database) == history_before


@pytest.mark.parametrize("target", SCHEMAS)
def test_our_update_continues_from_temporal_sql_tool(
    server: PostgresServer, reference: dict[str, str], target: str
) -> None:
    database = f"handover_{target}"
    sql_tool(server, database, "create-database")
    sql_tool(server, database, "setup-schema", "-v", "0.0")
    sql_tool(server, database, "update-schema", "-d", str(SCHEMAS[target]), "-v", "1.0")
    output = our_tool(server, target, database, "update")
    assert "version 1.0 -> " in output
    assert_same_bookkeeping(server, database, reference[target])
    assert schema_dump(server, database) == schema_dump(server, reference[target])


def test_version_reports_current_and_newest(server: PostgresServer, reference: dict[str, str]) -> None:
    environment = postgres_environment(server, database=reference["temporal"])
    result = invoke(["schema", "version", "--schema-dir", str(UPSTREAM_TEMPORAL)], environment)
    assert result.exit_code == 0, result.output
    newest = max(Path(UPSTREAM_TEMPORAL).iterdir(), key=lambda p: tuple(map(int, p.name[1:].split("."))))
    assert (
        result.output.strip() == f"database go_temporal: version {newest.name[1:]}, newest {newest.name[1:]}"
    )
