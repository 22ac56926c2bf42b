"""End to end (a): the SQLite profile, all services in one launcher process, runs a workflow."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from support.temporal_cluster import (
    base_environment,
    cluster,
    connect_when_ready,
    find_in_visibility,
    run_greeting,
)


def test_sqlite_cluster_runs_a_workflow_and_finds_it_in_visibility(tmp_path: Path) -> None:
    environment = base_environment(tmp_path / "run") | {
        "TEMPORAL_SQL_PLUGIN_NAME": "sqlite",
        "TEMPORAL_SQL_DATABASE": str(tmp_path / "temporal.db"),
    }
    with cluster(environment, tmp_path) as running:
        launched = running.start("frontend", "history", "matching", "worker")

        async def scenario() -> None:
            client = await connect_when_ready(running, "e2e-sqlite")
            workflow_id, result = await run_greeting(client, "SQLite")
            assert result == "Hello, SQLite!"
            statuses = await find_in_visibility(client, workflow_id)
            assert statuses and all("COMPLETED" in s for s in statuses), statuses

        asyncio.run(scenario())
        assert launched.stop(signal.SIGTERM) == 0, running.logs()
    assert (tmp_path / "temporal.db").stat().st_size > 0
