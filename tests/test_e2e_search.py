"""End to end: upstream temporal-server through our launcher, persistence on PostgreSQL, visibility on a real
OpenSearch 2.19.6 node (or Elasticsearch 7.10.2), its index made by `schema setup --target visibility`.

Auth `none` talks to the node directly; `aws-sigv4` (static test keys) and `basic` go through the recording
proxy, which verifies every signature or password and records what arrived.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.worker import Worker

from support.postgres import PostgresServer, running_postgres
from support.search_node import SearchNode
from support.search_proxy import ProxyRules, recording_proxy, static_aws_keys
from support.temporal_cluster import (
    LAUNCHER,
    SERVER_MODULE,
    SERVICES,
    base_environment,
    cluster,
    connect_when_ready,
)
from support.temporal_schema import create_temporal_databases
from support.workflows import GreetingWorkflow, compose_greeting

pytestmark = pytest.mark.e2e
ROLE, PASSWORD = "temporal", "os-e2e-Pw-1"
TIER = SearchAttributeKey.for_keyword("GreetingTier")
VISIBLE_WITHIN = 30.0
"""Seconds a healthy cluster may take to show a closed workflow in visibility."""
RECOVERED_WITHIN = 120.0
"""Seconds after the node is back within which every workflow completed during the outage must be listed."""


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with running_postgres() as pg:
        pg.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
        yield pg


def cluster_environment(
    pg: PostgresServer, tmp_path: Path, endpoint: str, index: str, **extra: str
) -> dict[str, str]:
    """Launcher settings: persistence in a fresh PostgreSQL database, visibility in `index` at `endpoint`."""
    database = "t_" + uuid.uuid4().hex[:10]
    create_temporal_databases(pg, ROLE, PASSWORD, database)
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD)
    password_file.chmod(0o600)
    return base_environment(tmp_path / "run") | {
        "TEMPORAL_SQL_PLUGIN_NAME": "postgres12",
        "TEMPORAL_SQL_HOST": pg.host,
        "TEMPORAL_SQL_PORT": str(pg.port),
        "TEMPORAL_SQL_USER": ROLE,
        "TEMPORAL_SQL_PASSWORD_FILE": str(password_file),
        "TEMPORAL_SQL_DATABASE": database,
        "TEMPORAL_SQL_MAX_CONNS": "10",
        "TEMPORAL_SCHEMA_ROOT": str(SERVER_MODULE / "schema"),
        "TEMPORAL_VISIBILITY_STORE": "opensearch",
        "TEMPORAL_OPENSEARCH_ENDPOINT": endpoint,
        "TEMPORAL_OPENSEARCH_VERSION": "v7",
        "TEMPORAL_OPENSEARCH_INDEX": index,
        **extra,
    }


def runtime(environment: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run our CLI as a separate process with exactly `environment`."""
    return subprocess.run([str(LAUNCHER), *args], env=dict(environment), capture_output=True, text=True)


def set_up_index(environment: Mapping[str, str]) -> None:
    result = runtime(environment, "schema", "setup", "--target", "visibility")
    assert result.returncode == 0, result.stdout + result.stderr


def doctor(environment: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
    """`doctor --json`: exit code and the visibility check."""
    result = runtime(environment, "doctor", "--json", "--timeout", "5")
    report = json.loads(result.stdout)
    return result.returncode, next(c for c in report["checks"] if c["name"] == "visibility")


async def start_greetings(
    client: Client, task_queue: str, names: list[str], tier: str, delay: float = 0
) -> list[WorkflowHandle[Any, Any]]:
    return [
        await client.start_workflow(
            GreetingWorkflow.run,
            args=[name, delay],
            id=f"greet-{name}-{uuid.uuid4().hex[:6]}",
            task_queue=task_queue,
            search_attributes=TypedSearchAttributes([SearchAttributePair(TIER, tier)]),
        )
        for name in names
    ]


async def register_tier(client: Client, namespace: str) -> None:
    """Add the custom keyword search attribute through the operator API (a mapping update on the index)."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=namespace, search_attributes={TIER.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD}
        )
    )


async def counts_settle(client: Client, expected: dict[str, int], timeout: float) -> dict[str, int]:
    """Poll until every query's count and list length equal `expected`; return what was last seen."""
    deadline = time.monotonic() + timeout
    while True:
        seen: dict[str, int] = {}
        for query in expected:
            listed = [w async for w in client.list_workflows(query)]
            counted = (await client.count_workflows(query)).count
            seen[query] = len(listed) if len(listed) == counted else -1
        if seen == expected or time.monotonic() > deadline:
            return seen
        await asyncio.sleep(0.5)


async def greet_and_query(client: Client, task_queue: str) -> tuple[dict[str, int], WorkflowHandle[Any, Any]]:
    """Five greetings complete and one sleeps; list and count agree on type, status and tier.

    Returns the queries with their counts, and the sleeping workflow.
    """
    gold = await start_greetings(client, task_queue, ["ada", "bo", "cy"], "gold")
    silver = await start_greetings(client, task_queue, ["di", "ed"], "silver")
    sleeping = await start_greetings(client, task_queue, ["zz"], "silver", delay=600)
    results = [await handle.result() for handle in gold + silver]
    assert results == [f"Hello, {n}!" for n in ["ada", "bo", "cy", "di", "ed"]]
    expected = {
        "WorkflowType = 'GreetingWorkflow'": 6,
        "ExecutionStatus = 'Completed'": 5,
        "ExecutionStatus = 'Running'": 1,
        "GreetingTier = 'gold'": 3,
        "GreetingTier = 'silver' AND ExecutionStatus = 'Completed'": 2,
    }
    assert await counts_settle(client, expected, VISIBLE_WITHIN) == expected
    return expected, sleeping[0]


Scenario = Callable[[Client, str], Awaitable[None]]


def run_on_cluster(environment: Mapping[str, str], workdir: Path, namespace: str, scenario: Scenario) -> None:
    """All services in one launcher; `scenario(client, task_queue)` runs with the tier registered and a worker
    polling the task queue; then every process must exit 0 on SIGTERM."""
    with cluster(environment, workdir) as running:
        running.start(*SERVICES)

        async def main() -> None:
            client = await connect_when_ready(running, namespace)
            await register_tier(client, namespace)
            task_queue = f"tq-{uuid.uuid4().hex[:8]}"
            async with Worker(
                client, task_queue=task_queue, workflows=[GreetingWorkflow], activities=[compose_greeting]
            ):
                await scenario(client, task_queue)

        asyncio.run(main())
        assert running.stop_all(timeout=30) == {tuple(SERVICES): 0}, running.logs()


def test_visibility_queries_and_an_outage_of_the_node(
    postgres: PostgresServer, opensearch_node: SearchNode, tmp_path: Path
) -> None:
    index = f"temporal_visibility_v1_{uuid.uuid4().hex[:8]}"
    environment = cluster_environment(postgres, tmp_path, opensearch_node.url, index)
    set_up_index(environment)
    code, check = doctor(environment)
    assert (code, check["status"]) == (0, "pass"), check

    async def scenario(client: Client, task_queue: str) -> None:
        expected, sleeping = await greet_and_query(client, task_queue)
        opensearch_node.stop()
        down = time.monotonic()
        try:
            code, check = doctor(environment)
            assert (code, check["status"]) == (69, "fail"), check
            assert check["detail"] == f"127.0.0.1:{opensearch_node.http_port} refused the connection"
            during = []
            for round_ in range(6):
                during += await start_greetings(client, task_queue, [f"outage{round_}"], "outage")
                await asyncio.sleep(2)
            assert [await h.result() for h in during] == [f"Hello, outage{r}!" for r in range(6)]
        finally:
            opensearch_node.start()
        back = time.monotonic()
        after = expected | {"GreetingTier = 'outage' AND ExecutionStatus = 'Completed'": 6}
        after["WorkflowType = 'GreetingWorkflow'"] = 12
        after["ExecutionStatus = 'Completed'"] = 11
        assert await counts_settle(client, after, RECOVERED_WITHIN) == after
        recovered = time.monotonic() - back
        print(f"\nnode down {back - down:.1f} s; visibility complete {recovered:.1f} s after it was back")
        await sleeping.terminate()

    run_on_cluster(environment, tmp_path, "e2e-opensearch", scenario)


def test_elasticsearch_7_serves_the_same_queries(
    postgres: PostgresServer, elasticsearch_node: SearchNode, tmp_path: Path
) -> None:
    index = f"temporal_visibility_v1_{uuid.uuid4().hex[:8]}"
    environment = cluster_environment(
        postgres, tmp_path, elasticsearch_node.url, index, TEMPORAL_VISIBILITY_STORE="elasticsearch"
    )
    set_up_index(environment)
    assert doctor(environment)[0] == 0

    async def scenario(client: Client, task_queue: str) -> None:
        _, sleeping = await greet_and_query(client, task_queue)
        await sleeping.terminate()

    run_on_cluster(environment, tmp_path, "e2e-elasticsearch", scenario)


@pytest.mark.parametrize("auth", ["aws-sigv4", "basic"])
def test_signed_or_basic_requests_reach_the_node_through_the_proxy(
    postgres: PostgresServer, opensearch_node: SearchNode, tmp_path: Path, auth: str
) -> None:
    keys = static_aws_keys()
    password = uuid.uuid4().hex
    if auth == "aws-sigv4":
        rules = ProxyRules(
            "sigv4",
            opensearch_node.http_port,
            key_id=keys["AWS_ACCESS_KEY_ID"],
            secret_key=keys["AWS_SECRET_ACCESS_KEY"],
            region="eu-west-1",
        )
        extra = {"TEMPORAL_OPENSEARCH_REGION": "eu-west-1", **keys}
    else:
        rules = ProxyRules("basic", opensearch_node.http_port, user="temporal", password=password)
        extra = {"TEMPORAL_OPENSEARCH_USER": "temporal", "TEMPORAL_OPENSEARCH_PASSWORD": password}
    index = f"temporal_visibility_v1_{uuid.uuid4().hex[:8]}"

    async def scenario(client: Client, task_queue: str) -> None:
        handles = await start_greetings(client, task_queue, ["one", "two"], auth)
        assert [await h.result() for h in handles] == ["Hello, one!", "Hello, two!"]
        expected = {f"GreetingTier = '{auth}' AND ExecutionStatus = 'Completed'": 2}
        assert await counts_settle(client, expected, VISIBLE_WITHIN) == expected

    with recording_proxy(rules) as proxy:
        environment = cluster_environment(
            postgres, tmp_path, proxy.url, index, TEMPORAL_OPENSEARCH_AUTH=auth, **extra
        )
        set_up_index(environment)
        run_on_cluster(environment, tmp_path, f"e2e-{auth}", scenario)
    seen = proxy.seen()
    kind = "sigv4" if auth == "aws-sigv4" else "basic"
    assert {(r.auth, r.accepted) for r in seen} == {(kind, True)}, [r for r in seen if not r.accepted][:5]
    paths = {r.path.split("?")[0] for r in seen}
    assert "/_bulk" in paths or any(p.startswith(f"/{index}/_doc/") for p in paths), sorted(paths)
    assert any(p.endswith("/_search") or p.endswith("/_count") for p in paths), sorted(paths)
    assert any(r.method == "PUT" and r.path == f"/{index}/_mapping" for r in seen), sorted(paths)
