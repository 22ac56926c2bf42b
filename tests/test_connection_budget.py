"""The DSQL connection budget counts what temporal-server really holds: measured on PostgreSQL, per process.

One cluster, six launcher processes on one persistence database, each naming itself with `application_name`:
the four roles alone (two at pool size 1, two at 2) and two processes with all four roles (pool size 1, and
pool size 1 with one role asking for 2, which gives every pool of that process 2). Connections are read from
`pg_stat_activity` and must equal `rules.process_connections`: one pool per role, each at the process's pool
size.

A pool reaches its size only when that many of its requests wait at once: upstream opens a connection only when
a request finds none idle, and the fork's warm-up stops one short (`maxConns - 1`). So the test makes every
pool's requests overlap, the way a busy cluster does: it locks every table of the
persistence database, and each role's two refresh loops (namespaces and cluster metadata, both every second
here) soon wait on it together, each holding a connection. With the lock released, a workflow completes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
from temporal_dsql_runtime.healthcheck import check_services
from temporal_dsql_runtime.loading import load_settings
from temporal_dsql_runtime.rules import process_connections
from temporal_dsql_runtime.settings import Settings

ROLE = "temporal"
PASSWORD = "budget-pw"
DATABASE = "budget"
LOCK_SECONDS = 30.0
READY_SECONDS = 120.0
STARTED = ("SERVING", "NOT_SERVING")
REFRESH_EVERY_SECOND = """\
system.namespaceCacheRefreshInterval:
  - value: 1s
system.clusterMetadataRefreshInterval:
  - value: 1s
"""
"""Two loops every role runs on its persistence pool, each a request at a time, each every second."""
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


@contextmanager
def every_table_locked(pg: PostgresServer) -> Iterator[None]:
    """Every table of the persistence database locked: each request to it waits, holding its connection."""
    with pg.connect(dbname=DATABASE) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT format('%I', tablename) FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        ]
        assert tables, "no Temporal tables to lock"
        with conn.transaction():
            conn.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
            yield


def held_connections(pg: PostgresServer, expected: dict[str, int]) -> dict[str, int]:
    """The most connections each process held, read every half second until every process holds what the
    rule says (or LOCK_SECONDS pass)."""
    peak = dict.fromkeys(expected, 0)
    deadline = time.monotonic() + LOCK_SECONDS
    while time.monotonic() < deadline:
        found = connections(pg)
        now = {name: found.get(name, 0) for name in expected}
        peak = {name: max(peak[name], now[name]) for name in expected}
        if now == expected:
            break
        time.sleep(0.5)
    return peak


def wait_started(running: Cluster, settings: Sequence[Settings]) -> None:
    """Until every role of every process answers its gRPC health check (a history role that owns no shard
    yet answers NOT_SERVING: started all the same)."""
    deadline = time.monotonic() + READY_SECONDS
    while True:
        answers = [answer for one in settings for answer in check_services(one, timeout=2.0)]
        started = [answer for answer in answers if answer.status in STARTED]
        if len(started) == len(answers):
            return
        assert time.monotonic() < deadline, (
            f"not started after {READY_SECONDS}s: "
            f"{[a.describe() for a in answers if a not in started]}\n{running.logs()}"
        )
        time.sleep(0.5)


def test_connections_per_process_equal_the_budget_rule(postgres: PostgresServer, tmp_path: Path) -> None:
    dynamic_config = tmp_path / "dynamic-config.yaml"
    dynamic_config.write_text(REFRESH_EVERY_SECOND)
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
        "TEMPORAL_DYNAMIC_CONFIG_FILE": str(dynamic_config),
    }
    # One frontend address for all: a process with other ports would otherwise rewrite the cluster metadata.
    environment["TEMPORAL_FRONTEND_ADDRESS"] = f"127.0.0.1:{environment['TEMPORAL_FRONTEND_GRPC_PORT']}"
    expected: dict[str, int] = {}
    settings: list[Settings] = []
    with cluster(environment, tmp_path) as running:
        for index, (name, roles, own) in enumerate(PROCESSES):
            extra = own | {"TEMPORAL_SQL_CONNECT_ATTRIBUTES": f"application_name={name}"}
            if len(roles) > 1:
                extra |= port_settings()
            settings.append(load_settings(environment | extra | {"TEMPORAL_SERVICES": ",".join(roles)}))
            expected[name] = process_connections(settings[-1], roles)
            running.start(*roles, extra=extra)
            if index == 0:  # the first writes the cluster metadata alone (the start-up race)
                asyncio.run(connect_when_ready(running, "budget"))
        wait_started(running, settings)

        with every_table_locked(postgres):
            measured = held_connections(postgres, expected)

        async def after_the_lock() -> str:
            client = await connect_when_ready(running, "budget")
            _, result = await run_greeting(client, "budget")
            return result

        greeting = asyncio.run(after_the_lock())

    assert expected == {
        "frontend-1": 1,
        "history-2": 2,
        "matching-1": 1,
        "worker-2": 2,
        "all-1": 4,
        "all-2": 8,
    }
    print(f"measured {measured}")
    assert measured == expected
    assert greeting == "Hello, budget!"
