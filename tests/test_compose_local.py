"""docker-compose.local-test.yml, up for real: SQLite in one container, the `default` namespace, the Web UI.

A client with the SDK's defaults (namespace `default`) runs a workflow with an activity through the published
port; the container runs as uid 1000 on a read-only root with its rendered config 0600; `down` stops it with
exit 0 within its grace period; the data survives `down` and `up`.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import urllib.request
from collections.abc import Iterator

import pytest
from temporalio.client import Client

from support.docker import REPO_ROOT, Compose, compose_project, docker, images, inspect
from support.ports import free_port
from support.temporal_cluster import run_greeting

pytestmark = pytest.mark.timeout(1800)  # the first test of a session builds the images (minutes when fresh)

COMPOSE_FILE = REPO_ROOT / "docker-compose.local-test.yml"
STOP_GRACE_SECONDS = 30
RUNTIME_DIR = "/run/temporal-dsql-runtime"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Compose]:
    built = images()
    variables = {
        "TEMPORAL_RUNTIME_IMAGE": built.runtime,
        "TEMPORAL_UI_IMAGE": built.ui,
        "TEMPORAL_GRPC_PORT": str(free_port()),
        "TEMPORAL_HTTP_PORT": str(free_port()),
        "TEMPORAL_UI_PORT": str(free_port()),
    }
    project = Compose(
        f"tdr-local-{os.getpid()}", [COMPOSE_FILE], tmp_path_factory.mktemp("local-stack"), variables
    )
    with compose_project(project):
        started = time.monotonic()
        project("up", "--wait", "--wait-timeout", "180", timeout=240)
        print(f"\nlocal-test stack: `up --wait` returned after {time.monotonic() - started:.1f} s")
        yield project


def frontend(stack: Compose) -> str:
    return f"127.0.0.1:{stack.variables['TEMPORAL_GRPC_PORT']}"


def test_a_client_with_default_settings_runs_a_workflow_with_an_activity(stack: Compose) -> None:
    async def scenario() -> tuple[str, str]:
        client = await Client.connect(frontend(stack))  # namespace "default", as a new user writes it
        return await run_greeting(client, "compose")

    workflow_id, result = asyncio.run(scenario())
    assert result == "Hello, compose!"
    (stack.project_dir / "workflow-id").write_text(workflow_id)


def test_the_namespace_job_ran_once_and_exited_0(stack: Compose) -> None:
    codes = stack.exit_codes()
    assert codes["temporal-namespace"] == 0
    logs = docker("logs", stack.container("temporal-namespace")).stdout
    assert logs.strip() in {"default: registered", "default: already registered"}


def test_the_web_ui_answers_through_its_published_port(stack: Compose) -> None:
    url = f"http://127.0.0.1:{stack.variables['TEMPORAL_UI_PORT']}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                page = response.read().decode()
                break
        except OSError:
            assert time.monotonic() < deadline, f"{url} did not answer"
            time.sleep(1)
    assert response.status == 200 and page.startswith("<!doctype html>")
    entry = re.search(r'href="(/_app/immutable/entry/start\.[\w-]+\.js)"', page)
    assert entry, "the page names the UI's embedded SvelteKit entry"
    with urllib.request.urlopen(f"{url.rstrip('/')}{entry[1]}", timeout=10) as response:
        assert response.status == 200 and "javascript" in response.headers["Content-Type"]
    with urllib.request.urlopen(f"{url}api/v1/namespaces", timeout=10) as response:
        assert '"default"' in response.read().decode(), "the UI server reaches the frontend through gRPC"


def test_inside_the_container_uid_1000_read_only_root_and_a_0600_config(stack: Compose) -> None:
    container = stack.container("temporal")
    assert docker("exec", container, "id", "-u").stdout.strip() == "1000"
    attempt = docker("exec", container, "touch", "/opt/probe", check=False)
    assert attempt.returncode != 0 and "Read-only file system" in attempt.stderr
    modes = docker("exec", container, "find", RUNTIME_DIR, "-name", "*.yaml", "-printf", "%m %U\n").stdout
    assert modes.split("\n")[:-1] and set(modes.splitlines()) == {"600 1000"}, modes
    config = inspect(container)["HostConfig"]
    assert config["ReadonlyRootfs"] is True and inspect(container)["Config"]["User"] == "1000:1000"
    assert inspect(container)["State"]["Health"]["Status"] == "healthy"


def test_down_exits_0_within_the_grace_period_and_the_data_survives(stack: Compose) -> None:
    workflow_id = (stack.project_dir / "workflow-id").read_text()
    container = stack.container("temporal")
    started = time.monotonic()
    stack("stop", "--timeout", str(STOP_GRACE_SECONDS), "temporal")
    stopped_after = time.monotonic() - started
    state = inspect(container)["State"]
    assert state["ExitCode"] == 0, state
    assert stopped_after < STOP_GRACE_SECONDS, f"took {stopped_after:.1f} s: killed at the grace period?"
    print(f"\nlocal-test stack: temporal stopped with exit 0 in {stopped_after:.1f} s")
    stack("down", "--timeout", str(STOP_GRACE_SECONDS))  # keeps the named volume
    stack("up", "--wait", "--wait-timeout", "180", timeout=240)

    async def listed() -> list[str]:
        client = await Client.connect(frontend(stack))
        return [execution.id async for execution in client.list_workflows(f"WorkflowId = '{workflow_id}'")]

    assert asyncio.run(listed()) == [workflow_id]
