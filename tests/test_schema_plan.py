"""The ordered transaction plan per dialect, built from the DSQL-style fixture schema, and its manifests."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from schema_support import FIXTURE_SCHEMA, invoke
from temporal_dsql_runtime.errors import ConfigError
from temporal_dsql_runtime.schema.manifest import latest_version, pending_manifests, read_manifest
from temporal_dsql_runtime.schema.plan import (
    Plan,
    RecordVersion,
    RunStatement,
    describe,
    setup_plan,
    update_plan,
)
from temporal_dsql_runtime.schema.statements import split_sql

ASYNC_INDEXES = ("namespaces_by_name", "executions_by_run", "tasks_by_queue")
DSQL_ENVIRONMENT = {
    "TEMPORAL_SQL_HOST": "abcdefghijklmnopqrstuvwxyz.dsql.us-east-1.on.aws",
    "TEMPORAL_OPENSEARCH_ENDPOINT": "https://search.example:443",
}


def dsql_plan() -> Plan:
    return setup_plan(FIXTURE_SCHEMA, "dsql", "postgres", None)


def test_dsql_plan_runs_one_statement_per_transaction_and_never_mixes_ddl_with_dml() -> None:
    for step in dsql_plan().steps:
        if isinstance(step, RunStatement):
            (statement,) = split_sql(step.sql, "step")
            assert statement.kind == step.statement.kind
        else:
            assert isinstance(step, RecordVersion)
    kinds = [step.statement.kind if isinstance(step, RunStatement) else "dml" for step in dsql_plan().steps]
    assert kinds.count("ddl") == 2 + 4 + 4 + 1 and kinds.count("dml") == 1 + 4


def test_dsql_plan_waits_for_each_async_index_right_after_creating_it() -> None:
    waits = [step for step in dsql_plan().steps if isinstance(step, RunStatement) and step.waits_for_job]
    assert [re.search(r"(\w+)\s+on\s", step.sql, re.IGNORECASE)[1] for step in waits] == list(ASYNC_INDEXES)
    assert all(" ASYNC " in step.sql.upper() for step in waits)
    others = [step for step in dsql_plan().steps if isinstance(step, RunStatement) and not step.waits_for_job]
    assert all("ASYNC" not in step.sql.upper() for step in others)
    lines = describe(dsql_plan())
    assert sum("then CALL sys.wait_for_job(<job id>)" in line for line in lines) == 3


def test_dsql_plan_order_creates_version_tables_then_records_each_version_after_its_statements() -> None:
    labels = [
        f"record {step.record.old_version}->{step.record.new_version}"
        if isinstance(step, RecordVersion)
        else step.statement.source
        for step in dsql_plan().steps
    ]
    assert labels == [
        "(schema_version tables)",
        "(schema_version tables)",
        "record 0->0.0",
        *["v1.0/schema.sql"] * 5,
        "record 0.0->1.0",
        *["v1.1/tasks.sql"] * 3,
        "v1.1/functions.sql",
        "record 1.0->1.1",
        "v1.2/views.sql",
        "record 1.1->1.2",
    ]


def test_postgres_plan_runs_the_same_statements_without_async() -> None:
    dsql, postgres = dsql_plan(), setup_plan(FIXTURE_SCHEMA, "postgres", "temporal", None)
    assert len(dsql.steps) == len(postgres.steps)
    runs = [step for step in postgres.steps if isinstance(step, RunStatement)]
    assert not any(step.waits_for_job for step in runs)
    assert not any(token == "ASYNC" for step in runs for token in step.sql.upper().split())
    assert "CREATE UNIQUE INDEX namespaces_by_name ON namespaces (name)" in [step.sql for step in runs]


def test_update_plan_starts_after_the_current_version_and_stops_at_the_target() -> None:
    plan = update_plan(FIXTURE_SCHEMA, "dsql", "postgres", "1.0", "1.1")
    assert (plan.current_version, plan.target_version) == ("1.0", "1.1")
    assert {step.statement.source.split("/")[0] for step in plan.steps if isinstance(step, RunStatement)} == {
        "v1.1"
    }
    assert update_plan(FIXTURE_SCHEMA, "dsql", "postgres", "1.2").is_empty
    with pytest.raises(ConfigError, match=r"--to-version: 1\.5 is not in .*; it offers 1\.0, 1\.1, 1\.2"):
        update_plan(FIXTURE_SCHEMA, "dsql", "postgres", "1.0", "1.5")


def test_manifest_md5_is_of_the_file_bytes_and_versions_sort_numerically(tmp_path: Path) -> None:
    manifest = read_manifest(FIXTURE_SCHEMA / "v1.1")
    raw = (FIXTURE_SCHEMA / "v1.1" / "manifest.json").read_bytes()
    assert manifest.md5 == hashlib.md5(raw).hexdigest()
    assert (manifest.version, manifest.min_compatible_version, manifest.files) == (
        "1.1",
        "1.0",
        ("tasks.sql", "functions.sql"),
    )
    for version in ("1.9", "1.10", "1.2"):
        (tmp_path / f"v{version}").mkdir()
        document = {"CurrVersion": version, "MinCompatibleVersion": "1.0", "SchemaUpdateCqlFiles": ["a.sql"]}
        (tmp_path / f"v{version}" / "manifest.json").write_text(json.dumps(document))
        (tmp_path / f"v{version}" / "a.sql").write_text("SELECT 1;")
    assert latest_version(tmp_path) == "1.10"
    assert [m.version for m in pending_manifests(tmp_path, "1.2")] == ["1.9", "1.10"]


def test_a_manifest_whose_version_differs_from_its_directory_is_refused(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE_SCHEMA / "v1.0", tmp_path / "v2.0")
    with pytest.raises(ConfigError, match=r"CurrVersion 1\.0 does not match its directory v2\.0"):
        read_manifest(tmp_path / "v2.0")


def test_plan_command_prints_the_dsql_plan_offline_for_a_dsql_host() -> None:
    args = ["schema", "plan", "--schema-dir", str(FIXTURE_SCHEMA), "--from-version", "1.0"]
    result = invoke(args, DSQL_ENVIRONMENT)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "database postgres (dsql): version 1.0 -> 1.2, 7 transactions"
    assert [line.split(": ")[0] for line in lines[1:]] == [
        "  1. DDL  v1.1/tasks.sql statement 1 (line 1)",
        "  2. DDL  v1.1/tasks.sql statement 2 (line 3)",
        "  3. DDL  v1.1/tasks.sql statement 3 (line 11)",
        "  4. DDL  v1.1/functions.sql statement 1 (line 2)",
        "  5. DML  record version 1.1 in schema_version and schema_update_history",
        "  6. DDL  v1.2/views.sql statement 1 (line 1)",
        "  7. DML  record version 1.2 in schema_version and schema_update_history",
    ]
    assert lines[3].endswith(
        "create index async if not exists tasks_by_queue on tasks (namespace_id, task_queue); "
        "then CALL sys.wait_for_job(<job id>)"
    )
