"""The DSQL connection budget counts what temporal-server really holds: measured on PostgreSQL, per process.

One cluster, six launcher processes on one persistence database, each naming itself with `application_name`:
the four roles alone (two at pool size 1, two at 2) and two processes with all four roles (pool size 1, and
pool size 1 with one role asking for 2, which gives every pool of that process 2), read from
`pg_stat_activity` while bursts of concurrent workflows run. `rules.process_connections` (one pool per role,
each at the process's pool size) is the ceiling: the fork's warm-up fills every pool at start, upstream opens
connections only as its requests overlap. So at pool size 1 the measured count equals the rule exactly; at size
2 it lies between the number of pools and the rule (seen: 2, 2 and 8 in one run, 1, 2 and 6 in others).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from temporalio.service import RPCError

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
BURSTS = 4
BURST_TIMEOUT = 60.0
CONCURRENT_WORKFLOWS = 8
POOLS = {"frontend-1": 1, "history-2": 1, "matching-1": 1, "worker-2": 1, "all-1": 4, "all-2": 4}
"""Pools per process: one per role. At pool size 1 the rule is exactly this many connections."""
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


def peak_connections(
    pg: PostgresServer, expected: dict[str, int], drive: Callable[[], bool]
) -> tuple[dict[str, int], int]:
    """The most connections each process held, read after each of up to BURSTS bursts of workflows, and how
    many bursts completed.

    Upstream opens connections as it needs them (idle ones stay: the idle limit follows the pool size), so a
    pool grows to its size only when that many of its role's requests overlap; stops early once every process
    holds what the rule says.
    """
    peak = dict.fromkeys(expected, 0)
    completed = 0
    for _ in range(BURSTS):
        completed += drive()
        found = connections(pg)
        peak = {name: max(peak[name], found.get(name, 0)) for name in expected}
        if peak == expected:
            break
    return peak, completed


async def concurrent_greetings(running: Cluster) -> bool:
    """CONCURRENT_WORKFLOWS greeting workflows at once, each through its own worker; False when they did not
    finish within BURST_TIMEOUT (six processes joining move shards for a while), which still made load."""
    client = await connect_when_ready(running, "budget")
    names = [f"budget-{index}" for index in range(CONCURRENT_WORKFLOWS)]
    try:
        results = await asyncio.wait_for(
            asyncio.gather(*(run_greeting(client, name) for name in names)), BURST_TIMEOUT
        )
    except (RPCError, TimeoutError):
        return False
    assert [result for _, result in results] == [f"Hello, {name}!" for name in names]
    return True


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

        measured, completed = peak_connections(
            postgres, expected, lambda: asyncio.run(concurrent_greetings(running))
        )
    print(f"bursts completed: {completed} of the bursts run; measured {measured}")
    assert expected == {
        "frontend-1": 1,
        "history-2": 2,
        "matching-1": 1,
        "worker-2": 2,
        "all-1": 4,
        "all-2": 8,
    }
    # Every pool opened (exact at pool size 1), and no process ever past the rule: the rule is the ceiling,
    # which the fork's warm-up reaches at start and upstream only when enough requests overlap.
    assert all(POOLS[name] <= measured[name] <= expected[name] for name in expected), (measured, expected)
