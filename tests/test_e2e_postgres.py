"""End to end on a real PostgreSQL: four launcher processes, faults, secrets, TLS and password rotation."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.postgres import PostgresServer, running_postgres
from support.temporal_cluster import (
    SERVICES,
    Cluster,
    base_environment,
    cluster,
    connect_when_ready,
    find_in_visibility,
    greet_on_fresh_cluster,
    run_greeting,
)
from support.temporal_schema import create_temporal_databases
from support.tls import make_ca, make_server_certificate

ROLE = "temporal"
PASSWORD = "s3cret-Pa55;$word"


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with running_postgres() as pg:
        pg.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
        yield pg


@pytest.fixture
def database(postgres: PostgresServer, request: pytest.FixtureRequest) -> str:
    """Fresh temporal and visibility databases for one test's cluster."""
    name = "t_" + request.node.name.removeprefix("test_")[:40]
    create_temporal_databases(postgres, ROLE, PASSWORD, name)
    return name


def postgres_settings(pg: PostgresServer, password_file: Path, database: str = "temporal") -> dict[str, str]:
    password_file.write_text(PASSWORD + "\n")
    password_file.chmod(0o600)
    return {
        "TEMPORAL_SQL_PLUGIN_NAME": "postgres12",
        "TEMPORAL_SQL_HOST": pg.host,
        "TEMPORAL_SQL_PORT": str(pg.port),
        "TEMPORAL_SQL_USER": ROLE,
        "TEMPORAL_SQL_DATABASE": database,
        "TEMPORAL_VISIBILITY_STORE": "sql",
        "TEMPORAL_VISIBILITY_DATABASE": f"{database}_visibility",
        "TEMPORAL_SQL_PASSWORD_FILE": str(password_file),
        "TEMPORAL_SQL_MAX_CONNS": "10",
        "TEMPORAL_SQL_MAX_IDLE_CONNS": "5",
    }


def start_all(running: Cluster, pg: PostgresServer, database: str, timeout: float = 60.0) -> None:
    """One launcher per service; the first alone until it has written the cluster metadata.

    temporal-server processes that initialise a fresh database at the same moment race on that row and the
    losers exit ("failed to initialize current cluster metadata"); an orchestrator would restart them.
    """
    first, *others = SERVICES
    running.start(first)
    deadline = time.monotonic() + timeout
    with pg.connect(database) as conn:
        while not conn.execute("SELECT 1 FROM cluster_metadata_info").fetchone():
            assert running.processes[(first,)].process.poll() is None, running.logs()
            assert time.monotonic() < deadline, f"no cluster metadata after {timeout}s\n{running.logs()}"
            time.sleep(0.2)
    for service in others:
        running.start(service)


def test_four_processes_run_a_workflow_and_stop_cleanly_on_sigterm(
    postgres: PostgresServer, database: str, tmp_path: Path
) -> None:
    """(b) one launcher per service, and (d) the password only through a _FILE with a trailing newline."""
    environment = base_environment(tmp_path / "run") | postgres_settings(
        postgres, tmp_path / "password", database
    )
    with cluster(environment, tmp_path) as running:
        start_all(running, postgres, database)

        async def scenario() -> None:
            client = await connect_when_ready(running, "e2e-pg")
            workflow_id, result = await run_greeting(client, "PostgreSQL")
            assert result == "Hello, PostgreSQL!"
            assert await find_in_visibility(client, workflow_id)

        asyncio.run(scenario())
        for launched in running.processes.values():
            assert PASSWORD not in launched.log()
        codes = running.stop_all(timeout=30)
        assert codes == {(s,): 0 for s in SERVICES}, running.logs()


def test_history_killed_mid_timer_loses_nothing(
    postgres: PostgresServer, database: str, tmp_path: Path
) -> None:
    """(c) SIGKILL history while a workflow sleeps on a 10 s timer; restarted through the launcher, it completes."""
    environment = base_environment(tmp_path / "run") | postgres_settings(
        postgres, tmp_path / "password", database
    )
    with cluster(environment, tmp_path) as running:
        start_all(running, postgres, database)

        async def scenario() -> None:
            client = await connect_when_ready(running, "e2e-fault")
            task = asyncio.create_task(run_greeting(client, "timer", delay_seconds=10, timeout=150))
            await asyncio.sleep(2)
            assert not task.done()
            running.processes[("history",)].stop(signal.SIGKILL)
            running.start("history")
            _, result = await task
            assert result == "Hello, timer!"

        asyncio.run(scenario())
        # The servers are stopped by the cluster context (graceful stop is what test (b) checks).


def test_wrong_password_fails_fast_naming_the_setting(
    postgres: PostgresServer, database: str, tmp_path: Path
) -> None:
    """(d) a wrong password in the file: the launcher stops before exec with a one-line error, no secret."""
    environment = base_environment(tmp_path / "run") | postgres_settings(
        postgres, tmp_path / "password", database
    )
    wrong = "not-the-Password-42"
    (tmp_path / "password").write_text(wrong + "\n")
    with cluster(environment, tmp_path) as running:
        launched = running.start("frontend")
        code = launched.process.wait(timeout=60)
        output = launched.log()
    assert code != 0
    assert "TEMPORAL_SQL_PASSWORD" in output
    assert wrong not in output and PASSWORD not in output
    assert "Traceback" not in output


@pytest.fixture(scope="module")
def tls_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PostgresServer, Path]]:
    directory = tmp_path_factory.mktemp("tls")
    ca = make_ca(directory, "e2e-ca")
    certificate, key = make_server_certificate(directory, ca, hosts=["127.0.0.1", "localhost"])
    with running_postgres(ssl_files=(certificate, key)) as pg:
        pg.execute("ALTER SYSTEM SET ssl_min_protocol_version = 'TLSv1.2'")
        pg.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
        create_temporal_databases(pg, ROLE, PASSWORD)
        hba = pg.data_dir / "pg_hba.conf"
        rules = hba.read_text().replace("host    all", "hostssl all")
        hba.write_text(rules)
        pg.execute("SELECT pg_reload_conf()")
        yield pg, ca.certificate


def test_tls_with_host_verification(tls_postgres: tuple[PostgresServer, Path], tmp_path: Path) -> None:
    """(e) PostgreSQL with ssl=on and hostssl-only rules: the cluster connects with TLS and verification on."""
    pg, ca_file = tls_postgres
    environment = (
        base_environment(tmp_path / "run")
        | postgres_settings(pg, tmp_path / "password")
        | {
            "TEMPORAL_SQL_TLS_ENABLED": "true",
            "TEMPORAL_SQL_CA_FILE": str(ca_file),
            "TEMPORAL_SQL_TLS_ENABLE_HOST_VERIFICATION": "true",
        }
    )
    greet_on_fresh_cluster(environment, tmp_path, "e2e-tls", "TLS")


def test_tls_with_the_wrong_ca_fails_clearly(
    tls_postgres: tuple[PostgresServer, Path], tmp_path: Path
) -> None:
    pg, _ = tls_postgres
    other_ca = make_ca(tmp_path, "unrelated-ca")
    environment = (
        base_environment(tmp_path / "run")
        | postgres_settings(pg, tmp_path / "password")
        | {
            "TEMPORAL_SQL_TLS_ENABLED": "true",
            "TEMPORAL_SQL_CA_FILE": str(other_ca.certificate),
        }
    )
    with cluster(environment, tmp_path) as running:
        launched = running.start(*SERVICES)
        code = launched.process.wait(timeout=90)
        output = launched.log()
    assert code != 0
    assert "TEMPORAL_SQL_CA_FILE" in output, output[-3000:]
    assert "Traceback" not in output


def test_password_rotation_without_restart(postgres: PostgresServer, database: str, tmp_path: Path) -> None:
    """(g) passwordCommand re-reads the file: rotate in PostgreSQL and the file, kill connections, keep working."""
    password_file = tmp_path / "password"
    environment = (
        base_environment(tmp_path / "run")
        | postgres_settings(postgres, password_file, database)
        | {
            "TEMPORAL_SQL_PASSWORD_DELIVERY": "command",
        }
    )
    rotated = "rotated-Secret-77"
    with cluster(environment, tmp_path) as running:
        running.start(*SERVICES)
        pids = {key: launched.process.pid for key, launched in running.processes.items()}

        async def scenario() -> None:
            client = await connect_when_ready(running, "e2e-rotate")
            _, before = await run_greeting(client, "before")
            assert before == "Hello, before!"
            postgres.execute(f"ALTER ROLE {ROLE} PASSWORD '{rotated}'")
            replacement = password_file.with_suffix(".new")
            replacement.write_text(rotated + "\n")
            os.replace(replacement, password_file)
            postgres.execute(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{ROLE}'"
            )
            _, after = await run_greeting(client, "after")
            assert after == "Hello, after!"

        try:
            asyncio.run(scenario())
            assert {k: p.process.pid for k, p in running.processes.items()} == pids
            assert all(p.process.poll() is None for p in running.processes.values())
        finally:
            postgres.execute(f"ALTER ROLE {ROLE} PASSWORD '{PASSWORD}'")
