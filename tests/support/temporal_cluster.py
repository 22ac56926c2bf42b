"""Start Temporal through our launcher (never temporal-server directly) and talk to it with the Python SDK."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from .ports import free_low_port, free_port
from .workflows import GreetingWorkflow, compose_greeting

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = REPO_ROOT / ".tools" / "bin"
SERVER_MODULE = REPO_ROOT / ".tools" / "server-module"
LAUNCHER = Path(
    os.environ.get("TEMPORAL_DSQL_RUNTIME", REPO_ROOT / ".venv" / "bin" / "temporal-dsql-runtime")
)
SERVICES = ("frontend", "history", "matching", "worker")
READY_TIMEOUT = 120.0


def tool(name: str) -> Path:
    """A built Temporal tool (temporal-server, temporal-sql-tool); fails the test if `make tools` was not run."""
    path = TOOLS_BIN / name
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: run `make tools` (scripts/build-temporal-tools.sh) first")
    return path


def port_settings() -> dict[str, str]:
    """Distinct free ports for every service, as launcher settings."""
    ports = {f"TEMPORAL_{s.upper()}_GRPC_PORT": str(free_port()) for s in SERVICES}
    ports |= {f"TEMPORAL_{s.upper()}_MEMBERSHIP_PORT": str(free_low_port()) for s in SERVICES}
    ports["TEMPORAL_FRONTEND_HTTP_PORT"] = str(free_port())
    return ports


def base_environment(runtime_dir: Path) -> dict[str, str]:
    """What every launcher in a test gets: loopback addresses, our server binary, a private runtime dir."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "BIND_ON_IP": "127.0.0.1",
        "TEMPORAL_SERVER_BINARY": str(tool("temporal-server")),
        "TEMPORAL_RUNTIME_DIR": str(runtime_dir),
        "TEMPORAL_LOG_LEVEL": "warn",
        "TEMPORAL_HISTORY_SHARDS": "2",
        **port_settings(),
    }


@dataclass
class LauncherProcess:
    """One `temporal-dsql-runtime start` process and its log."""

    services: tuple[str, ...]
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        """Everything it printed so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Signal it and wait for the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


@dataclass
class Cluster:
    """Launcher processes sharing one environment."""

    environment: dict[str, str]
    workdir: Path
    processes: dict[tuple[str, ...], LauncherProcess] = field(default_factory=dict)

    @property
    def frontend(self) -> str:
        """The frontend's gRPC address."""
        return f"127.0.0.1:{self.environment['TEMPORAL_FRONTEND_GRPC_PORT']}"

    def start(self, *services: str, extra: Mapping[str, str] | None = None) -> LauncherProcess:
        """Start one launcher process for `services`."""
        name = "-".join(services)
        log_path = self.workdir / f"{name}.log"
        handle = log_path.open("ab")
        command = [str(LAUNCHER), "start", *[arg for s in services for arg in ("--service", s)]]
        process = subprocess.Popen(
            command, env={**self.environment, **(extra or {})}, stdout=handle, stderr=subprocess.STDOUT
        )
        handle.close()
        launched = LauncherProcess(tuple(services), process, log_path)
        self.processes[tuple(services)] = launched
        return launched

    def stop_all(self, timeout: float = 30.0) -> dict[tuple[str, ...], int]:
        """SIGTERM every process (workers first) and collect exit codes."""
        codes = {}
        for key in reversed(list(self.processes)):
            codes[key] = self.processes[key].stop(timeout=timeout)
        return codes

    def kill_all(self) -> None:
        """Make sure nothing is left running."""
        for launched in self.processes.values():
            if launched.process.poll() is None:
                launched.process.kill()
                launched.process.wait(timeout=30)

    def logs(self) -> str:
        """All process logs, for failure messages."""
        return "\n".join(f"==== {'-'.join(k)}\n{p.log()[-4000:]}" for k, p in self.processes.items())


@contextmanager
def cluster(environment: Mapping[str, str], workdir: Path) -> Iterator[Cluster]:
    """A Cluster whose processes are all killed on exit, whatever happened."""
    running = Cluster(dict(environment), workdir)
    try:
        yield running
    finally:
        running.kill_all()


async def connect_when_ready(cluster: Cluster, namespace: str, timeout: float = READY_TIMEOUT) -> Client:
    """Register `namespace` once the cluster accepts it, then return a client for it.

    Readiness is a successful call, retried until `timeout`; a launcher that exits early fails at once.
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        for launched in cluster.processes.values():
            if launched.process.poll() is not None:
                raise AssertionError(
                    f"launcher for {launched.services} exited {launched.process.returncode}:\n"
                    f"{cluster.logs()}"
                )
        try:
            client = await Client.connect(cluster.frontend, namespace=namespace)
            await _register(client, namespace)
            await client.count_workflows()
            return client
        except (RPCError, RuntimeError) as error:
            last_error = error
            await asyncio.sleep(0.5)
    raise AssertionError(f"cluster not ready after {timeout}s: {last_error}\n{cluster.logs()}")


async def _register(client: Client, namespace: str) -> None:
    try:
        await client.workflow_service.register_namespace(
            RegisterNamespaceRequest(
                namespace=namespace, workflow_execution_retention_period=Duration(seconds=86400)
            )
        )
    except RPCError as error:
        if error.status != RPCStatusCode.ALREADY_EXISTS:
            raise


async def run_greeting(
    client: Client, name: str, delay_seconds: float = 0, timeout: float = 120
) -> tuple[str, str]:
    """Run GreetingWorkflow through a real worker; returns (workflow id, result)."""
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    workflow_id = f"greet-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client, task_queue=task_queue, workflows=[GreetingWorkflow], activities=[compose_greeting]
    ):
        result = await asyncio.wait_for(
            client.execute_workflow(
                GreetingWorkflow.run,
                args=[name, delay_seconds],
                id=workflow_id,
                task_queue=task_queue,
                run_timeout=timedelta(seconds=timeout),
            ),
            timeout=timeout,
        )
    return workflow_id, result


async def find_in_visibility(client: Client, workflow_id: str, timeout: float = 30) -> list[str]:
    """Statuses of the executions a visibility list query finds for `workflow_id` (visibility is eventual)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [
            w.status.name if w.status else "UNKNOWN"
            async for w in client.list_workflows(f'WorkflowId = "{workflow_id}"')
        ]
        if (found and all("COMPLETED" in status for status in found)) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.5)


def greet_on_fresh_cluster(environment: Mapping[str, str], workdir: Path, namespace: str, name: str) -> None:
    """Start one launcher running every service, run GreetingWorkflow for `name`, check its result."""
    with cluster(environment, workdir) as running:
        running.start(*SERVICES)

        async def scenario() -> None:
            client = await connect_when_ready(running, namespace)
            _, result = await run_greeting(client, name)
            assert result == f"Hello, {name}!"

        asyncio.run(scenario())
