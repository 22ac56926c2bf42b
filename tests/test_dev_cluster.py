"""`make dev` (scripts/dev_cluster.py): quiet start, one banner, a workflow, the CLI, the Web UI in chromium, Ctrl-C.

Every cluster here runs on free ports (never 7233/8233) with its own state directory, on a pseudo-terminal so
Ctrl-C is a real keypress.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.client import Client

from support.chromium import rendered_dom, screenshot
from support.ports import free_port
from support.temporal_cluster import REPO_ROOT, run_greeting, tool
from support.terminal import Terminal

DEV_SCRIPT = REPO_ROOT / "scripts" / "dev_cluster.py"
ARTIFACTS = REPO_ROOT / ".tools" / "artifacts"
READY = "Press Ctrl-C to stop."
START_TIMEOUT = 120.0
pytestmark = pytest.mark.e2e


@dataclass
class DevCluster:
    """A running `dev_cluster.py` on a terminal, and where it listens."""

    terminal: Terminal
    port: int
    ui_port: int
    state_dir: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def dev_environment() -> dict[str, str]:
    """The test's environment minus anything that would pin the dev cluster's ports or state."""
    for name in ("temporal-server", "ui-server", "temporal"):
        tool(name)
    return {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "BIND_ON_IP"))}


def start_dev(tmp_path: Path, *extra: str, environment: dict[str, str] | None = None) -> DevCluster:
    """Run the dev script on a terminal with free ports and a fresh state directory."""
    port, ui_port = free_port(), free_port()
    state_dir = tmp_path / "dev"
    argv = [sys.executable, str(DEV_SCRIPT), "--port", str(port), "--ui-port", str(ui_port), "--state-dir"]
    terminal = Terminal([*argv, str(state_dir), *extra], environment or dev_environment(), REPO_ROOT)
    return DevCluster(terminal, port, ui_port, state_dir)


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[DevCluster]:
    """A dev cluster that is ready; killed at the end whatever happened."""
    running = start_dev(tmp_path)
    try:
        running.terminal.read_until(READY, START_TIMEOUT)
        yield running
    finally:
        running.terminal.kill()


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    pending = [pid]
    while pending:
        children = parents.get(pending.pop(), [])
        found.update(children)
        pending.extend(children)
    return found


def test_start_is_quiet_then_a_workflow_shows_in_the_cli_and_the_web_ui_and_ctrl_c_exits_0(
    dev: DevCluster,
) -> None:
    output = dev.terminal.output
    # Quiet: the launcher's steps and the banner; no server log line (JSON) and nothing at level error.
    assert "temporal-dsql-runtime [info] exec:" in output, output
    assert not [line for line in output.splitlines() if line.lstrip().startswith("{")], output
    assert not re.search(r"\berror\b", output, re.IGNORECASE), output
    assert output.count("Temporal is ready") == 1, output
    for shown in (
        f"gRPC       {dev.address}",
        f"Web UI     http://127.0.0.1:{dev.ui_port}",
        "namespace  default",
        f"data       {dev.state_dir / 'temporal.db'}",
        f"server log {dev.state_dir / 'temporal-server.log'}",
    ):
        assert shown in output, output
    server_log = (dev.state_dir / "temporal-server.log").read_text()
    assert '"level":"' in server_log, "the server's own log lines belong in the log file"

    async def run_workflow() -> str:
        client = await Client.connect(dev.address, namespace="default")
        workflow_id, result = await run_greeting(client, "dev")
        assert result == "Hello, dev!"
        return workflow_id

    workflow_id = asyncio.run(run_workflow())

    listed = subprocess.run(
        [str(tool("temporal")), "workflow", "list", "--address", dev.address, "--namespace", "default"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0 and workflow_id in listed.stdout, listed

    page = f"http://127.0.0.1:{dev.ui_port}/namespaces/default/workflows"
    dom = rendered_dom(page)
    picture = screenshot(page, ARTIFACTS / "dev-web-ui-workflows.png")
    print(f"Web UI screenshot: {picture}")
    assert workflow_id in dom, f"{workflow_id} not on {page}; screenshot: {picture}\n{dom[-3000:]}"

    children = descendants(dev.terminal.pid)
    assert len(children) >= 2, "the server and the UI run below the dev script"
    dev.terminal.interrupt()
    assert dev.terminal.wait(timeout=60) == 0, dev.terminal.output
    assert "Temporal stopped" in dev.terminal.output
    assert not {pid for pid in children if Path(f"/proc/{pid}").exists()}, "a child outlived Ctrl-C"


def test_follow_shows_the_server_log_live(tmp_path: Path) -> None:
    running = start_dev(tmp_path, "--follow", "--headless")
    try:
        output = running.terminal.read_until(READY, START_TIMEOUT)
        assert '"level":"' in output, "--follow prints the server's own log lines"
        assert "Web UI     off (--headless)" in output
        running.terminal.interrupt()
        assert running.terminal.wait(timeout=60) == 0, running.terminal.output
    finally:
        running.terminal.kill()


def test_a_busy_frontend_port_is_named_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                str(DEV_SCRIPT),
                "--port",
                str(busy),
                "--headless",
                "--state-dir",
                str(tmp_path),
            ],
            env=dev_environment(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 69, result
    assert result.stderr.strip() == (
        f"error: port {busy} (frontend gRPC) is already in use (pass --port/--ui-port, or stop what holds it)"
    )


def test_a_busy_internal_port_is_named_with_the_end_of_the_server_log(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        environment = dev_environment() | {"TEMPORAL_HISTORY_GRPC_PORT": str(busy)}
        running = start_dev(tmp_path, "--headless", environment=environment)
        try:
            code = running.terminal.wait(timeout=START_TIMEOUT)
        finally:
            running.terminal.kill()
    output = running.terminal.output
    assert code == 69, output
    reason = f"error: temporal-server could not start: port {busy} is already in use"
    assert reason in output, output
    tail = output.split(f"last lines of {running.state_dir / 'temporal-server.log'}:", 1)[1]
    assert "address already in use" in tail, output


def test_make_dev_is_quiet_and_ctrl_c_makes_it_exit_0(tmp_path: Path) -> None:
    port, ui_port = free_port(), free_port()
    dev_args = f"--port {port} --ui-port {ui_port} --state-dir {tmp_path / 'dev'}"
    terminal = Terminal(["make", "dev", f"DEV_ARGS={dev_args}"], dev_environment(), REPO_ROOT)
    try:
        output = terminal.read_until(READY, START_TIMEOUT)
        assert not re.search(r'"level":"error"|\berror\b', output, re.IGNORECASE), output
        terminal.interrupt()
        assert terminal.wait(timeout=60) == 0, terminal.output
    finally:
        terminal.kill()
    assert "Temporal stopped (server exit code 0)." in terminal.output
    assert "Interrupt" not in terminal.output, "make must not see the Ctrl-C"


def test_a_restart_on_the_same_data_keeps_its_ports_and_runs_a_workflow_at_once(tmp_path: Path) -> None:
    """Membership rows of the last run seed the next start: with other ports the first workflow waits ~30 s."""
    first = start_dev(tmp_path, "--headless")
    try:
        first.terminal.read_until(READY, START_TIMEOUT)
        first.terminal.interrupt()
        assert first.terminal.wait(timeout=60) == 0, first.terminal.output
    finally:
        first.terminal.kill()
    ports = (first.state_dir / "ports.json").read_text()
    argv = [sys.executable, str(DEV_SCRIPT), "--port", str(first.port), "--headless", "--state-dir"]
    second = Terminal([*argv, str(first.state_dir)], dev_environment(), REPO_ROOT)
    try:
        second.read_until(READY, START_TIMEOUT)
        assert (first.state_dir / "ports.json").read_text() == ports

        async def run_workflow() -> None:
            client = await Client.connect(first.address, namespace="default")
            _, result = await run_greeting(client, "again", timeout=15)
            assert result == "Hello, again!"

        asyncio.run(run_workflow())
        second.interrupt()
        assert second.wait(timeout=60) == 0, second.output
    finally:
        second.kill()


def test_the_cli_reports_its_release_not_a_dev_build() -> None:
    version = subprocess.run(
        [str(tool("temporal")), "--version"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert re.match(r"temporal version \d+\.\d+\.\d+ ", version) and "0.0.0-DEV" not in version, version
