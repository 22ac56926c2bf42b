"""docker-compose.services.yml, up for real with the CI override: one container per role on PostgreSQL 15 + TLS.

The override (docker-compose.services-ci.yml) adds PostgreSQL 15 (plugin postgres12, TLS checked against a CA
made here, password from the stack's Compose secret, server encoding SQL_ASCII) and SQL visibility. Secret files
are made the way the file's header says (0644 in a 0700 directory). All four roles report healthy, workflows
complete, a `docker kill` of history in the middle of a timer loses nothing, and `down` stops every role with
exit 0. Inside a role's container: uid 1000, read-only root, rendered config 0600 in the tmpfs, no secret in
`docker inspect` or the environment, health going from starting to healthy.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.worker import Worker

from support.docker import REPO_ROOT, Compose, compose_project, docker, images, inspect, wait_for_health
from support.ports import free_port
from support.temporal_cluster import find_in_visibility, run_greeting
from support.tls import make_ca, make_server_certificate
from support.workflows import GreetingWorkflow, compose_greeting

pytestmark = pytest.mark.timeout(1800)  # the first test of a session builds the images (minutes when fresh)

COMPOSE_FILES = [REPO_ROOT / "docker-compose.services.yml", REPO_ROOT / "docker-compose.services-ci.yml"]
ROLES = ("temporal-history", "temporal-matching", "temporal-frontend", "temporal-worker")
SECRET_NAMES = ("aws-credentials", "aws-config", "sql-password", "opensearch-password")
STOP_GRACE_SECONDS = 45


def integration_env() -> str:
    """What a user puts in .env.integration for this database."""
    settings = {
        "TEMPORAL_SQL_PLUGIN_NAME": "postgres12",
        "TEMPORAL_SQL_HOST": "postgres",
        "TEMPORAL_SQL_USER": "postgres",
        "TEMPORAL_SQL_DATABASE": "temporal",
        "TEMPORAL_SQL_PASSWORD_FILE": "/run/secrets/sql-password",
        "TEMPORAL_SQL_TLS_ENABLED": "true",
        "TEMPORAL_SQL_CA_FILE": "/certs/ca.crt",
        "TEMPORAL_SQL_TLS_ENABLE_HOST_VERIFICATION": "true",
        "TEMPORAL_SQL_MAX_CONNS": "10",
        "TEMPORAL_VISIBILITY_STORE": "sql",
        "TEMPORAL_VISIBILITY_DATABASE": "temporal_visibility",
        "TEMPORAL_HISTORY_SHARDS": "4",
        "TEMPORAL_LOG_LEVEL": "warn",
        "TEMPORAL_PREFLIGHT_WAIT": "60s",
    }
    return "".join(f"{name}={value}\n" for name, value in settings.items())


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Compose]:
    built = images()
    project_dir = tmp_path_factory.mktemp("services-stack")
    (project_dir / ".env.integration").write_text(integration_env())
    secrets_dir = project_dir / "secrets"
    secrets_dir.mkdir(mode=0o700)
    for name in SECRET_NAMES:
        (secrets_dir / name).touch(mode=0o644)
    password = secrets.token_urlsafe(24)
    (secrets_dir / "sql-password").write_text(password + "\n")
    certs = project_dir / "certs"
    certs.mkdir()
    ca = make_ca(certs, "ca")
    certificate, key = make_server_certificate(certs, ca, ["postgres"])
    assert (certificate.name, key.name) == ("server.crt", "server.key"), "the names the override mounts"
    variables = {
        "TEMPORAL_RUNTIME_IMAGE": built.runtime,
        "TEMPORAL_UI_IMAGE": built.ui,
        "CI_POSTGRES_IMAGE": built.postgres,
        "CI_CERTS_DIR": str(certs),
        "TEMPORAL_SECRETS_DIR": str(secrets_dir),
        "TEMPORAL_GRPC_PORT": str(free_port()),
        "TEMPORAL_HTTP_PORT": str(free_port()),
        "TEMPORAL_UI_PORT": str(free_port()),
    }
    project = Compose(f"tdr-services-{os.getpid()}", COMPOSE_FILES, project_dir, variables)
    with compose_project(project):
        project("--profile", "schema", "run", "--rm", "temporal-schema", "setup", timeout=300)
        project("--profile", "schema", "run", "--rm", "temporal-schema", "setup", "--target", "visibility")
        project.variables["UP_AT"] = str(time.monotonic())
        project(
            "up", "--detach"
        )  # returns once the roles others depend on are healthy; the worker is starting
        project.variables["SECRET"] = password
        yield project


def frontend(stack: Compose) -> str:
    return f"127.0.0.1:{stack.variables['TEMPORAL_GRPC_PORT']}"


def test_every_role_goes_from_starting_to_healthy(stack: Compose) -> None:
    seen = {role: wait_for_health(stack.container(role), timeout=240) for role in ROLES}
    elapsed = time.monotonic() - float(stack.variables["UP_AT"])
    print(f"\nservices stack: four roles healthy {elapsed:.1f} s after `up --detach`")
    assert seen["temporal-worker"] == ["starting", "healthy"], seen
    assert all(states[-1] == "healthy" for states in seen.values()), seen
    stack("up", "--wait", "--wait-timeout", "120", timeout=180)


def test_workflows_complete_and_visibility_lists_them(stack: Compose) -> None:
    async def scenario() -> tuple[str, str, list[str]]:
        client = await Client.connect(frontend(stack))
        workflow_id, result = await run_greeting(client, "services")
        return workflow_id, result, await find_in_visibility(client, workflow_id)

    workflow_id, result, statuses = asyncio.run(scenario())
    assert result == "Hello, services!" and statuses == ["COMPLETED"], (workflow_id, statuses)


def test_killing_history_in_the_middle_of_a_timer_loses_nothing(stack: Compose) -> None:
    """The timer and the workflow survive; callers may see UNAVAILABLE while history is down, then it completes."""
    history = stack.container("temporal-history")

    async def scenario() -> str:
        client = await Client.connect(frontend(stack))
        task_queue = f"tq-{uuid.uuid4().hex[:8]}"
        async with Worker(
            client, task_queue=task_queue, workflows=[GreetingWorkflow], activities=[compose_greeting]
        ):
            handle = await client.start_workflow(
                GreetingWorkflow.run,
                args=["timer", 10],
                id=f"timer-{uuid.uuid4().hex[:8]}",
                task_queue=task_queue,
            )
            await asyncio.sleep(3)
            docker("kill", history)
            await asyncio.sleep(1)
            docker("start", history)
            deadline = time.monotonic() + 240
            while True:
                try:
                    return await handle.result()
                except RPCError:
                    assert time.monotonic() < deadline, stack.logs()
                    await asyncio.sleep(1)

    assert asyncio.run(scenario()) == "Hello, timer!"
    assert inspect(history)["RestartCount"] == 0, "restarted by this test, not by a crash loop"
    assert wait_for_health(history, timeout=180)[-1] == "healthy"


def test_inside_a_role_container(stack: Compose) -> None:
    container = stack.container("temporal-frontend")
    assert docker("exec", container, "id", "-u").stdout.strip() == "1000"
    attempt = docker("exec", container, "touch", "/usr/local/bin/probe", check=False)
    assert attempt.returncode != 0 and "Read-only file system" in attempt.stderr
    listing = docker(
        "exec", container, "find", "/run/temporal-dsql-runtime", "-name", "*.yaml", "-printf", "%m %U\n"
    )
    assert set(listing.stdout.splitlines()) == {"600 1000"}, listing.stdout
    mounts = docker("exec", container, "grep", " /run/temporal-dsql-runtime ", "/proc/mounts").stdout
    assert mounts.startswith("tmpfs "), mounts
    password = stack.variables["SECRET"]
    inspected = json.dumps(inspect(container))
    environment = (
        docker("exec", container, "env").stdout + docker("exec", container, "cat", "/proc/1/environ").stdout
    )
    assert password not in inspected and password not in environment
    assert "TEMPORAL_SQL_PASSWORD_FILE=/run/secrets/sql-password" in environment
    assert docker("exec", container, "cat", "/run/secrets/sql-password").stdout.strip() == password


def test_down_stops_every_role_with_exit_0(stack: Compose) -> None:
    containers = {role: stack.container(role) for role in ROLES}
    stack("stop", "--timeout", str(STOP_GRACE_SECONDS), *ROLES, timeout=240)
    codes = {role: inspect(container)["State"]["ExitCode"] for role, container in containers.items()}
    assert codes == dict.fromkeys(ROLES, 0), (codes, stack.logs())
    stack("down", "--timeout", str(STOP_GRACE_SECONDS), timeout=240)
    assert stack("ps", "--all", "--quiet").stdout.strip() == ""


def test_a_secret_file_of_mode_0600_is_refused_with_the_fix_named(tmp_path: Path) -> None:
    """What a user who follows the old header (`install -m 600`) sees: the error says what to change."""
    built = images()
    secret = tmp_path / "sql-password"
    secret.write_text("not-the-password\n")
    secret.chmod(0o600)
    result = docker(
        "run", "--rm", "--read-only", "--tmpfs", "/run/temporal-dsql-runtime:uid=1000,gid=1000,mode=0700",
        "--volume", f"{secret}:/run/secrets/sql-password:ro",
        "--env", "TEMPORAL_SQL_PLUGIN_NAME=postgres12", "--env", "TEMPORAL_SQL_HOST=db.invalid",
        "--env", "TEMPORAL_SQL_PASSWORD_FILE=/run/secrets/sql-password",
        built.runtime, check=False,
    )  # fmt: skip
    assert result.returncode == 78, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        "error: TEMPORAL_SQL_PASSWORD_FILE: cannot read /run/secrets/sql-password: Permission denied; make it "
        "readable by uid 1000 (this process's user): Compose and `docker run -v` mount a secret file with its "
        "host owner and mode, so give it mode 0644 inside a 0700 directory, or owner 1000"
    ], result.stderr
