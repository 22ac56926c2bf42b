"""Dev-server benchmark: `make dev`'s cluster beside `temporal server start-dev` (CLI v1.5.1), in one run.

    uv run python bench/dev_server.py [--runs 5] [--rest 15] [--write bench/RESULTS.md]

Subjects: `scripts/dev_cluster.py` (our launcher + temporal-server, and ui-server unless headless) and
`temporal server start-dev`, both headless and both with the Web UI. Each run is a separate process tree with a
fresh SQLite file on free ports; runs alternate between the two (order flipped each round). Measured per run:
seconds from spawn to the first completed workflow with an activity (client and worker in this process, retrying
until the server takes the workflow), then the resident memory of the subject's whole process tree (sum of VmRSS)
after `--rest` seconds at rest. One uncounted warm-up run of each subject first (page cache, bytecode).
Exit status 1 when a median is above 1.25x the CLI's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.worker import Worker

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))
from results_file import write_section  # noqa: E402

from support.workflows import GreetingWorkflow, compose_greeting  # noqa: E402

TEMPORAL_CLI = REPO_ROOT / ".tools" / "bin" / "temporal"
DEV_SCRIPT = REPO_ROOT / "scripts" / "dev_cluster.py"
TARGET = 1.25
READY_TIMEOUT = 120.0
Command = Callable[[int, Path], list[str]]


@dataclass(frozen=True)
class Subject:
    """One way to start a dev server: a command for a frontend port and a fresh work directory."""

    name: str
    command: Command


@dataclass
class Runs:
    """What one subject measured."""

    subject: Subject
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)
    exit_codes: list[int] = field(default_factory=list)


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def ours(ui: bool) -> Command:
    """`scripts/dev_cluster.py`, as `make dev` runs it."""

    def command(port: int, workdir: Path) -> list[str]:
        display = ["--ui-port", str(free_port())] if ui else ["--headless"]
        return [sys.executable, str(DEV_SCRIPT), "--port", str(port), *display, "--state-dir", str(workdir)]

    return command


def cli(ui: bool) -> Command:
    """`temporal server start-dev` with a file database."""

    def command(port: int, workdir: Path) -> list[str]:
        display = ["--ui-port", str(free_port())] if ui else ["--headless"]
        database = ["--db-filename", str(workdir / "cli.db")]
        return [
            str(TEMPORAL_CLI),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            *display,
            *database,
        ]

    return command


async def first_workflow(address: str, process: subprocess.Popen[bytes]) -> None:
    """Run GreetingWorkflow through a worker to completion, retrying while the server is not ready for it.

    Not ready: nothing listens, the frontend is not healthy, or the `default` namespace is not known yet.
    """
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the subject exited with code {process.returncode} before its first workflow")
        try:
            client = await Client.connect(address, namespace="default")
            await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace="default"))
            task_queue = f"bench-{uuid.uuid4().hex[:8]}"
            async with Worker(
                client, task_queue=task_queue, workflows=[GreetingWorkflow], activities=[compose_greeting]
            ):
                result = await client.execute_workflow(
                    GreetingWorkflow.run,
                    args=["bench", 0],
                    id=f"bench-{uuid.uuid4().hex[:8]}",
                    task_queue=task_queue,
                    run_timeout=timedelta(seconds=READY_TIMEOUT),
                )
            assert result == "Hello, bench!", result
            return
        except (RuntimeError, RPCError) as error:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no workflow completed within {READY_TIMEOUT:.0f} s: {error}") from None
            await asyncio.sleep(0.02)


def process_tree(root: int) -> list[dict[str, str]]:
    """/proc/PID/status fields of `root` and every process below it."""
    parents: dict[int, list[int]] = {}
    statuses: dict[int, dict[str, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        fields["stat"] = stat.rsplit(")", 1)[1]
        pid = int(entry.name)
        parents.setdefault(int(fields["PPid"]), []).append(pid)
        statuses[pid] = fields
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        if pid in statuses:
            tree.append(statuses[pid])
        pending.extend(parents.get(pid, []))
    return tree


def process_tree_rss_mib(root: int) -> float:
    """Resident memory of `root` and every process below it, in MiB."""
    return sum(int(fields.get("VmRSS", "0 kB").split()[0]) for fields in process_tree(root)) / 1024


def process_tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system, with reaped children) of `root` and every process below it."""
    ticks = sum(sum(map(int, fields["stat"].split()[11:15])) for fields in process_tree(root))
    return ticks / os.sysconf("SC_CLK_TCK")


def measure_once(subject: Subject, workdir: Path, rest: float, runs: Runs) -> None:
    """Spawn, time the first workflow, rest, read the tree's RSS, SIGTERM, record the exit code."""
    workdir.mkdir(parents=True)
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    log = (workdir / "output.log").open("wb")
    started = time.perf_counter()
    process = subprocess.Popen(
        subject.command(port, workdir),
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        asyncio.run(first_workflow(f"127.0.0.1:{port}", process))
        runs.seconds.append(time.perf_counter() - started)
        runs.cpu_seconds.append(process_tree_cpu_seconds(process.pid))
        time.sleep(rest)
        runs.rss_mib.append(process_tree_rss_mib(process.pid))
        process.send_signal(signal.SIGTERM)
        runs.exit_codes.append(process.wait(timeout=60))
    except BaseException:
        print((workdir / "output.log").read_text(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        log.close()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def report(pairs: list[tuple[Runs, Runs]], command: str, runs: int, rest: float) -> tuple[str, bool]:
    """Markdown: each pair's medians (with ranges) and ratios against the target."""
    lines = [
        "# Dev server: `make dev` beside `temporal server start-dev`",
        "",
        f"Command: `{command}`  ",
        f"Measured: {time.strftime('%Y-%m-%d %H:%M %Z')} on {platform.machine()}, {os.cpu_count()} CPUs; "
        f"{runs} alternating runs per subject, each a fresh process tree with a fresh SQLite file; memory is the "
        f"sum of VmRSS over the subject's process tree after {rest:g} s at rest; CPU is user + system time of "
        "that tree (the launcher included) when the first workflow completed, which a busy machine does not "
        "stretch the way it stretches wall time.",
        "",
        "| subject | first workflow done (median, range) | CPU used by then (median) "
        "| memory at rest (median, range) | exit codes |",
        "| --- | --- | --- | --- | --- |",
    ]
    met = True
    ratios = []
    for mine, theirs in pairs:
        for runs_ in (mine, theirs):
            lines.append(
                f"| {runs_.subject.name} | {statistics.median(runs_.seconds):.2f} s "
                f"({min(runs_.seconds):.2f}-{max(runs_.seconds):.2f}) | {statistics.median(runs_.cpu_seconds):.2f} s "
                f"| {statistics.median(runs_.rss_mib):.0f} MiB "
                f"({min(runs_.rss_mib):.0f}-{max(runs_.rss_mib):.0f}) | {sorted(set(runs_.exit_codes))} |"
            )
        time_ratio = statistics.median(mine.seconds) / statistics.median(theirs.seconds)
        memory_ratio = statistics.median(mine.rss_mib) / statistics.median(theirs.rss_mib)
        cpu_ratio = statistics.median(mine.cpu_seconds) / statistics.median(theirs.cpu_seconds)
        met = met and time_ratio <= TARGET and memory_ratio <= TARGET
        ratios.append(
            f"- {mine.subject.name} / {theirs.subject.name}: first workflow {time_ratio:.2f}x, "
            f"memory {memory_ratio:.2f}x (target <= {TARGET:g}x each); CPU used by the first workflow "
            f"{cpu_ratio:.2f}x"
        )
    lines += ["", *ratios, "", f"Targets {'met' if met else 'NOT met'}.", ""]
    return "\n".join(lines), met


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="Runs per subject.")
    parser.add_argument("--rest", type=float, default=15.0, help="Seconds at rest before reading memory.")
    parser.add_argument(
        "--write", type=Path, help="Also write the report into this file's dev-server section."
    )
    arguments = parser.parse_args()
    for tool in (
        TEMPORAL_CLI,
        REPO_ROOT / ".tools" / "bin" / "temporal-server",
        REPO_ROOT / ".tools" / "bin" / "ui-server",
    ):
        if not os.access(tool, os.X_OK):
            sys.exit(f"{tool} is missing: run `make tools` first")
    pairs = [
        (
            Runs(Subject("make dev --headless", ours(False))),
            Runs(Subject("start-dev --headless", cli(False))),
        ),
        (Runs(Subject("make dev, Web UI", ours(True))), Runs(Subject("start-dev, Web UI", cli(True)))),
    ]
    with tempfile.TemporaryDirectory(prefix="dev-bench-") as directory:
        workspace = Path(directory)
        for runs in (r for pair in pairs for r in pair):  # warm-up, not counted: page cache, bytecode
            measure_once(runs.subject, workspace / f"warm-up-{id(runs)}", 0, Runs(runs.subject))
        for round_number in range(arguments.runs):
            for pair in pairs:
                for runs in pair if round_number % 2 == 0 else reversed(pair):
                    workdir = workspace / f"{len(runs.seconds)}-{runs.subject.name.replace(' ', '_')}"
                    measure_once(runs.subject, workdir, arguments.rest, runs)
                    print(
                        f"{runs.subject.name}: {runs.seconds[-1]:.2f} s, {runs.rss_mib[-1]:.0f} MiB, "
                        f"exit {runs.exit_codes[-1]}",
                        flush=True,
                    )
    command = shlex.join(["uv", "run", "python", "bench/dev_server.py", *sys.argv[1:]])
    text, met = report(pairs, command, arguments.runs, arguments.rest)
    print(text)
    if arguments.write:
        write_section(arguments.write, "dev-server", text)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
