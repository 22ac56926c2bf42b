"""Run a plan: a transaction per step, retrying optimistic-concurrency conflicts, stopping at a failure."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg

from ..errors import UnavailableError, UserError
from .bookkeeping import write_version
from .plan import WAIT_FOR_JOB, Plan, RecordVersion, RunStatement, Step, describe_step

T = TypeVar("T")
EX_DATAERR = 65
SERIALIZATION_FAILURE = "40001"
ALREADY_PRESENT = {
    "42P07": "relation already exists",
    "42701": "column already exists",
    "42710": "object already exists",
    "42P06": "schema already exists",
    "42723": "function already exists",
}
"""Errors of a statement an earlier, interrupted run already applied; temporal-sql-tool skips these too."""


class JobFailed(Exception):
    """DSQL reported that an asynchronous index build failed."""


class StatementFailed(UserError):
    """A schema statement failed; the message names its file and position and the database's version."""

    exit_code = EX_DATAERR


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter for SQLSTATE 40001 (DSQL's OCC conflict)."""

    attempts: int = 8
    first_delay: float = 0.05
    max_delay: float = 5.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (from 1)."""
        base = min(self.max_delay, self.first_delay * 2.0 ** (attempt - 1))
        return base * random.uniform(1.0, 1.25)


DEFAULT_RETRY = RetryPolicy()


def apply_plan(
    conn: psycopg.Connection,
    plan: Plan,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    echo: Callable[[str], None] = lambda line: None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Run every step of `plan` on an autocommit connection, in order; raise at the first failure."""
    if not conn.autocommit:
        raise ValueError("apply_plan needs an autocommit connection: every step owns its transaction")
    version = plan.current_version
    total = len(plan.steps)
    for number, step in enumerate(plan.steps, start=1):
        try:
            outcome = _step(conn, plan.database, step, lambda action: _retrying(action, retry, sleep))
        except psycopg.Error as error:
            raise _failure(step, error, version, retry) from None
        except JobFailed as failed:
            raise StatementFailed(f"{_what(step)}: {failed}; {_at(version)}") from None
        echo(f"  {number:>{len(str(total))}}. {describe_step(step)}: {outcome}")
        if isinstance(step, RecordVersion):
            version = step.record.new_version


Retrying = Callable[[Callable[[], T]], T]


def _step(conn: psycopg.Connection, database: str, step: Step, retrying: Retrying[Any]) -> str:
    """Run one step; return how it ended."""
    if isinstance(step, RecordVersion):

        def record() -> None:
            with conn.transaction():
                write_version(conn, database, step.record)

        retrying(record)
        return "done"
    try:
        cursor = retrying(lambda: conn.execute(step.sql))
    except psycopg.Error as error:
        if error.sqlstate in ALREADY_PRESENT:
            return f"skipped ({ALREADY_PRESENT[error.sqlstate]}: applied by an earlier run)"
        raise
    if not step.waits_for_job:
        return "done"
    row = cursor.fetchone() if cursor.description else None
    if row is None:
        return "done (no job id returned)"
    waited = retrying(lambda: conn.execute(WAIT_FOR_JOB, (row[0],)))
    succeeded = waited.fetchone() if waited.description else None
    if succeeded is not None and succeeded[0] is False:
        raise JobFailed(f"index build job {row[0]} failed (sys.wait_for_job returned false; see sys.jobs)")
    return f"done (waited for job {row[0]})"


def _retrying(action: Callable[[], T], retry: RetryPolicy, sleep: Callable[[float], None]) -> T:
    """Run `action`; while it fails with SQLSTATE 40001, back off and run it again, up to `retry.attempts`."""
    for attempt in range(1, retry.attempts):
        try:
            return action()
        except psycopg.Error as error:
            if error.sqlstate != SERIALIZATION_FAILURE:
                raise
            sleep(retry.delay(attempt))
    return action()


def _what(step: Step) -> str:
    if isinstance(step, RunStatement):
        return f"{step.statement.where}: {step.statement.summary}"
    return f"recording version {step.record.new_version}"


def _at(version: str | None) -> str:
    return f"the database stays at version {version}" if version else "the database has no schema version yet"


def _failure(step: Step, error: psycopg.Error, version: str | None, retry: RetryPolicy) -> UserError:
    at, what = _at(version), _what(step)
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if error.sqlstate == SERIALIZATION_FAILURE:
        return UnavailableError(
            f"{what}: still conflicting with concurrent changes (SQLSTATE 40001) "
            f"after {retry.attempts} attempts; "
            f"{at}; run again when other schema changes have finished"
        )
    if error.sqlstate is None or isinstance(error, psycopg.OperationalError):
        return UnavailableError(
            f"{what}: {first_line}; {at}; run again (statements already applied are skipped)"
        )
    return StatementFailed(f"{what}: {first_line} (SQLSTATE {error.sqlstate}); {at}")
