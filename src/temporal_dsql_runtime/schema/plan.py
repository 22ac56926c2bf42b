"""The ordered transactions that bring a database from its version to the target, per dialect.

Both dialects run every schema statement in a transaction of its own, as temporal-sql-tool does (upstream's
`CREATE INDEX CONCURRENTLY` cannot run inside a larger one), and write each version's bookkeeping rows
together in one DML-only transaction after that version's statements.

- `dsql`: Aurora DSQL allows one DDL statement per transaction and never DDL beside DML, which this layout
  satisfies by construction; `CREATE INDEX ASYNC` runs as written and is followed by
  `CALL sys.wait_for_job(job_id)` on the job id it returns, so no later version builds on a missing index.
- `postgres`: the same files with `ASYNC` removed (PostgreSQL builds the index before the statement returns).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import ConfigError, describe_os_error
from .bookkeeping import (
    INITIAL_RECORD,
    INITIAL_VERSION,
    VERSION_TABLES_SOURCE,
    VERSION_TABLES_SQL,
    VersionRecord,
)
from .manifest import Manifest, pending_manifests
from .statements import Statement, StatementKind, shorten, split_sql

Dialect = Literal["dsql", "postgres"]
DIALECTS: tuple[Dialect, ...] = ("dsql", "postgres")
WAIT_FOR_JOB = "CALL sys.wait_for_job(%s)"
KIND_LABELS: dict[StatementKind, str] = {"ddl": "DDL", "dml": "DML", "procedural": "PROC"}


@dataclass(frozen=True)
class RunStatement:
    """One schema statement, alone in its transaction; on DSQL an ASYNC index is then waited for."""

    statement: Statement
    sql: str
    waits_for_job: bool


@dataclass(frozen=True)
class RecordVersion:
    """The bookkeeping rows of one version, in one DML-only transaction."""

    record: VersionRecord


Step = RunStatement | RecordVersion


@dataclass(frozen=True)
class Plan:
    """What `schema setup` or `schema update` would run against one database."""

    dialect: Dialect
    database: str
    current_version: str | None
    """The database's version before the plan; None when it has no `schema_version` row yet."""
    target_version: str
    steps: tuple[Step, ...]

    @property
    def is_empty(self) -> bool:
        """Whether the database is already at the target."""
        return not self.steps


def setup_plan(
    schema_dir: Path, dialect: Dialect, database: str, current: str | None, target: str | None = None
) -> Plan:
    """Create the version tables and record 0.0 if missing, then apply every version up to `target`."""
    steps: list[Step] = []
    if current is None:
        steps += [
            _run(statement, dialect) for statement in split_sql(VERSION_TABLES_SQL, VERSION_TABLES_SOURCE)
        ]
        steps.append(RecordVersion(INITIAL_RECORD))
    return _with_versions(schema_dir, dialect, database, current, current or INITIAL_VERSION, target, steps)


def update_plan(
    schema_dir: Path, dialect: Dialect, database: str, current: str, target: str | None = None
) -> Plan:
    """Apply every version newer than `current`, up to `target` (default: the newest)."""
    return _with_versions(schema_dir, dialect, database, current, current, target, [])


def _with_versions(
    schema_dir: Path,
    dialect: Dialect,
    database: str,
    current: str | None,
    start: str,
    target: str | None,
    steps: list[Step],
) -> Plan:
    version = start
    for manifest in pending_manifests(schema_dir, start, target):
        steps += [_run(statement, dialect) for statement in manifest_statements(schema_dir, manifest)]
        record = VersionRecord(
            version, manifest.version, manifest.min_compatible_version, manifest.md5, manifest.description
        )
        steps.append(RecordVersion(record))
        version = manifest.version
    return Plan(dialect, database, current, version, tuple(steps))


def manifest_statements(schema_dir: Path, manifest: Manifest) -> list[Statement]:
    """The statements of a version's files, in manifest order."""
    statements: list[Statement] = []
    for name in manifest.files:
        path = manifest.directory / name
        source = path.relative_to(schema_dir).as_posix()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = describe_os_error(error) if isinstance(error, OSError) else "not UTF-8 text"
            raise ConfigError(
                f"{source}: listed in {manifest.directory.name}/manifest.json, cannot read: {reason}"
            ) from None
        statements += split_sql(text, source)
    if not statements and manifest.files:
        raise ConfigError(f"{manifest.directory.name}: its files hold no statements")
    return statements


def _run(statement: Statement, dialect: Dialect) -> RunStatement:
    if dialect == "dsql":
        return RunStatement(statement, statement.text, waits_for_job=statement.async_index)
    return RunStatement(statement, statement.postgres_text, waits_for_job=False)


def describe(plan: Plan) -> list[str]:
    """The plan as lines for a person: one per transaction, in order."""
    before = plan.current_version or "none (no schema_version row)"
    if plan.is_empty:
        return [f"database {plan.database} ({plan.dialect}): at version {before}, nothing to do"]
    lines = [
        f"database {plan.database} ({plan.dialect}): version {before} -> {plan.target_version}, "
        f"{len(plan.steps)} transactions"
    ]
    width = len(str(len(plan.steps)))
    for number, step in enumerate(plan.steps, start=1):
        lines.append(f"  {number:>{width}}. {describe_step(step)}")
    return lines


def describe_step(step: Step) -> str:
    """One step on one line."""
    if isinstance(step, RecordVersion):
        record = step.record
        return f"DML  record version {record.new_version} in schema_version and schema_update_history"
    wait = "; then CALL sys.wait_for_job(<job id>)" if step.waits_for_job else ""
    return f"{KIND_LABELS[step.statement.kind]:<4} {step.statement.where}: {shorten(step.sql)}{wait}"
