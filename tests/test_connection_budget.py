"""The DSQL connection budget counts what temporal-server really holds: measured on PostgreSQL, per process.

One cluster, six launcher processes on one persistence database, each naming itself with `application_name`:
the four roles alone (two at pool size 1, two at 2) and two processes with all four roles (pool size 1, and
pool size 1 with one role asking for 2, which gives every pool of that process 2). Bursts of concurrent
workflows fill the pools; each process's connections to the persistence database, read from
`pg_stat_activity` once they stop changing, equal
`rules.process_connections`: one pool per role, each at the process's pool size. The fork's warm-up opens
every pool to that size at start; upstream opens them as it needs them, and at these sizes reaches the same.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support.postgres import PostgresServer, running_postgres
from support.temporal_cluster import (
    SERVICES,
    Cluster,
    base_environment,
    cluster,
    connect_when_ready,
    port_settings,
    run_greeting,
)
from support.temporal_schema import create_temporal_databases
from temporal_dsql_runtime.loading import load_settings
from temporal_dsql_runtime.rules import process_connections

ROLE = "temporal"
PASSWORD = "budget-pw"
DATABASE = "budget"
HOLD = 10.0
SETTLE_TIMEOUT = 180.0
CONCURRENT_WORKFLOWS = 8
PROCESSES: list[tuple[str, tuple[str, ...], dict[str, str]]] = [
    ("frontend-1", ("frontend",), {}),
    ("history-2", ("history",), {"TEMPORAL_HISTORY_SQL_MAX_CONNS": "2"}),
    ("matching-1", ("matching",), {}),
    ("worker-2", ("worker",), {"TEMPORAL_WORKER_SQL_MAX_CONNS": "2"}),
    ("all-1", SERVICES, {}),
    ("all-2", tuple(reversed(SERVICES)), {"TEMPORAL_MATCHING_SQL_MAX_CONNS": "2"}),
]
"""(name, roles, settings of its own); every process starts from pool size 1. (The two all-role processes
list their roles in different orders only so the test harness keeps a handle on each.)"""


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with running_postgres() as pg:
        pg.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
        create_temporal_databases(pg, ROLE, PASSWORD, DATABASE)
        yield pg


def connections(pg: PostgresServer) -> dict[str, int]:
    """Client connections to the persistence database, by application name."""
    with pg.connect() as conn:
        rows = conn.execute(
            "SELECT application_name, count(*) FROM pg_stat_activity "
            "WHERE datname = %s AND usename = %s GROUP BY application_name",
            (DATABASE, ROLE),
        ).fetchall()
    return {str(name): int(count) for name, count in rows}


def settled_connections(
    pg: PostgresServer, expected: dict[str, int], drive: Callable[[], None]
) -> dict[str, int]:
    """The counts once they equal `expected` and stay so for HOLD seconds; else the last counts seen.

    Upstream opens connections as it needs them, so a pool reaches its size only once enough requests ran
    at once: while any process is below its count, `drive` runs another burst of concurrent workflows.
    Never reaching `expected`, or going past it, fails the test.
    """
    deadline = time.monotonic() + SETTLE_TIMEOUT
    equal_since: float | None = None
    while True:
        found = connections(pg)
        now = {name: found.get(name, 0) for name in expected}
        if now != expected:
            equal_since = None
        elif equal_since is None:
            equal_since = time.monotonic()
        if equal_since is not None and time.monotonic() - equal_since >= HOLD:
            return now
        if time.monotonic() > deadline or any(now[name] > expected[name] for name in expected):
            return now
        if any(now[name] < expected[name] for name in expected):
            drive()
        time.sleep(1)


async def concurrent_greetings(running: Cluster) -> None:
    """CONCURRENT_WORKFLOWS greeting workflows at once, each through its own worker."""
    client = await connect_when_ready(running, "budget")
    names = [f"budget-{index}" for index in range(CONCURRENT_WORKFLOWS)]
    results = await asyncio.gather(*(run_greeting(client, name) for name in names))
    assert [result for _, result in results] == [f"Hello, {name}!" for name in names]


def test_connections_per_process_equal_the_budget_rule(postgres: PostgresServer, tmp_path: Path) -> None:
    environment = base_environment(tmp_path / "run") | {
        "TEMPORAL_SQL_PLUGIN_NAME": "postgres12",
        "TEMPORAL_SQL_HOST": postgres.host,
        "TEMPORAL_SQL_PORT": str(postgres.port),
        "TEMPORAL_SQL_USER": ROLE,
        "TEMPORAL_SQL_PASSWORD": PASSWORD,
        "TEMPORAL_SQL_DATABASE": DATABASE,
        "TEMPORAL_VISIBILITY_STORE": "sql",
        "TEMPORAL_VISIBILITY_DATABASE": f"{DATABASE}_visibility",
        "TEMPORAL_SQL_MAX_CONNS": "1",
    }
    # One frontend address for all: a process with other ports would otherwise rewrite the cluster metadata.
    environment["TEMPORAL_FRONTEND_ADDRESS"] = f"127.0.0.1:{environment['TEMPORAL_FRONTEND_GRPC_PORT']}"
    expected: dict[str, int] = {}
    with cluster(environment, tmp_path) as running:
        for index, (name, roles, own) in enumerate(PROCESSES):
            extra = own | {"TEMPORAL_SQL_CONNECT_ATTRIBUTES": f"application_name={name}"}
            if len(roles) > 1:
                extra |= port_settings()
            expected[name] = process_connections(load_settings(environment | extra), roles)
            running.start(*roles, extra=extra)
            if index == 0:  # the first writes the cluster metadata alone (the start-up race)

                async def first_ready() -> None:
                    await connect_when_ready(running, "budget")

                asyncio.run(first_ready())

        measured = settled_connections(postgres, expected, lambda: asyncio.run(concurrent_greetings(running)))
    assert expected == {
        "frontend-1": 1,
        "history-2": 2,
        "matching-1": 1,
        "worker-2": 2,
        "all-1": 4,
        "all-2": 8,
    }
    assert measured == expected
