"""`make dev`: a local Temporal cluster on SQLite through our launcher, with the Web UI, quiet by default.

    python scripts/dev_cluster.py [--port 7233] [--ui-port PORT+1000 | --headless] [--follow] [--state-dir DIR]

All four services run in one temporal-server process started by `temporal-dsql-runtime start`; its log goes to a
file under the state directory and the terminal shows the launcher's steps and one ready banner. The `default`
namespace is registered through the frontend's HTTP API, without the Temporal SDK. Once ready, this process execs
scripts/dev_supervisor.py in its place (same PID, a few MiB), which stops the UI and the server on Ctrl-C or
SIGTERM and exits 0. Standard library only: the launcher is a child process, not an import.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

REPO_ROOT = Path(__file__).resolve().parents[1]
TOOLS_BIN = REPO_ROOT / ".tools" / "bin"
SUPERVISOR = Path(__file__).with_name("dev_supervisor.py")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
DYNAMIC_CONFIG = REPO_ROOT / "src" / "temporal_dsql_runtime" / "dynamicconfig" / "single-process.yaml"
NAMESPACE = "default"
READY_TIMEOUT = 120.0
POLL_SECONDS = 0.05
SERVER_POLL_SECONDS = 0.01
"""Once the server runs: a client asking for the namespace before it exists makes the frontend answer
"not found" for that name for the next second (its read-through cache), so registering early matters."""
STOP_TIMEOUT = 30.0
TAIL_LINES = 20
EX_UNAVAILABLE = 69
EXEC_LINE = "temporal-dsql-runtime [info] exec: "
LAUNCHER_LINE = re.compile(r"^(temporal-dsql-runtime \[|error: )")
BUSY_PORT = re.compile(r"(\d+): bind: address already in use")
INTERNAL_PORTS = (
    *(f"TEMPORAL_{service}_GRPC_PORT" for service in ("HISTORY", "MATCHING", "WORKER")),
    "TEMPORAL_FRONTEND_HTTP_PORT",
)
MEMBERSHIP_PORTS = tuple(
    f"TEMPORAL_{service}_MEMBERSHIP_PORT" for service in ("FRONTEND", "HISTORY", "MATCHING", "WORKER")
)


class DevError(Exception):
    """Start-up failed for a reason a person can act on: one line, then an exit code."""

    def __init__(self, message: str, exit_code: int = EX_UNAVAILABLE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Options:
    """What the command line asked for."""

    port: int
    ui_port: int | None
    follow: bool
    state_dir: Path

    @property
    def address(self) -> str:
        """The frontend's gRPC address."""
        return f"127.0.0.1:{self.port}"


def parse_options(argv: list[str], environment: dict[str, str]) -> Options:
    """The command line, with TEMPORAL_FRONTEND_GRPC_PORT, TEMPORAL_DEV_FOLLOW and TEMPORAL_DEV_STATE_DIR."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(environment.get("TEMPORAL_FRONTEND_GRPC_PORT", 7233)))
    parser.add_argument("--ui-port", type=int, help="Web UI port (default: --port + 1000).")
    parser.add_argument("--headless", action="store_true", help="Do not start the Web UI.")
    parser.add_argument(
        "--follow",
        action="store_true",
        default=environment.get("TEMPORAL_DEV_FOLLOW", "").lower() in {"1", "true", "yes"},
        help="Show the server's log live (also TEMPORAL_DEV_FOLLOW=1).",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(environment.get("TEMPORAL_DEV_STATE_DIR", REPO_ROOT / ".tools" / "dev")),
        help="Where the database, configs and logs live (default .tools/dev).",
    )
    parsed = parser.parse_args(argv)
    ui_port = None if parsed.headless else (parsed.ui_port or parsed.port + 1000)
    return Options(parsed.port, ui_port, parsed.follow, parsed.state_dir.resolve())


def free_port(below: int = 65536, taken: frozenset[int] = frozenset()) -> int:
    """A loopback port nothing listens on now and not in `taken` (membership ports must stay below 32768)."""
    for _ in range(1000):
        if below > 32768:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                candidate: int = probe.getsockname()[1]
        else:
            candidate = random.randint(20000, below - 1)
        if candidate not in taken and port_is_free(candidate):
            return candidate
    raise DevError(f"no free loopback port below {below}")


def port_is_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:`port` now.

    SO_REUSEADDR as Go's listeners use it: connections of the last run still in TIME_WAIT do not count, a listener does.
    """
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def server_environment(options: Options, environment: dict[str, str]) -> dict[str, str]:
    """The launcher's settings: SQLite on loopback, one history shard; internal ports free unless given.

    PYTHONDONTWRITEBYTECODE is dropped for the launcher: without cached bytecode each start compiles its
    imports again (about 0.8 s of CPU here); with it the launcher takes about 0.2 s.
    """
    defaults = {
        "TEMPORAL_SQL_PLUGIN_NAME": "sqlite",
        "TEMPORAL_SQL_DATABASE": str(options.state_dir / "temporal.db"),
        "TEMPORAL_RUNTIME_DIR": str(options.state_dir / "run"),
        "TEMPORAL_SERVER_BINARY": str(TOOLS_BIN / "temporal-server"),
        "TEMPORAL_LAUNCHER_LOG_FORMAT": "text",
        "TEMPORAL_LOG_LEVEL": "warn",
        "TEMPORAL_HISTORY_SHARDS": "1",
        "TEMPORAL_DYNAMIC_CONFIG_FILE": str(DYNAMIC_CONFIG),
        "BIND_ON_IP": "127.0.0.1",
        "GOGC": "50",  # Go collects at 1.5x the live heap, not 2x: ~5 MiB less at rest for a little CPU
    }
    chosen = internal_ports(options, environment)
    inherited = {name: value for name, value in environment.items() if name != "PYTHONDONTWRITEBYTECODE"}
    return (
        defaults
        | chosen
        | inherited
        | {
            "TEMPORAL_FRONTEND_GRPC_PORT": str(options.port),
            "TEMPORAL_FRONTEND_ADDRESS": options.address,
        }
    )


def internal_ports(options: Options, environment: dict[str, str]) -> dict[str, str]:
    """Ports for the services' other listeners: the ones the last start used (kept in the state directory),
    else free ones; a `TEMPORAL_*_PORT` variable wins.

    Keeping them matters: membership rows from the last run seed the next start, and seeds at ports nobody
    listens on any more keep the ring from forming ("Not enough hosts to serve the request").
    """
    saved_file = options.state_dir / "ports.json"
    saved: dict[str, int] = json.loads(saved_file.read_text()) if saved_file.exists() else {}
    chosen: dict[str, int] = {}
    for name in (*INTERNAL_PORTS, *MEMBERSHIP_PORTS):
        if name in environment:
            continue
        taken = frozenset({options.port, options.ui_port or 0, *chosen.values()})
        previous = saved.get(name)
        if previous is not None and previous not in taken and port_is_free(previous):
            chosen[name] = previous
        else:
            chosen[name] = free_port(32768 if name in MEMBERSHIP_PORTS else 65536, taken)
    saved_file.write_text(json.dumps(saved | chosen, indent=2) + "\n")
    return {name: str(port) for name, port in chosen.items()}


def ui_command(options: Options, ui_port: int) -> list[str]:
    """Write the Web UI's config (loopback, embedded assets, no version check) and return its command."""
    config_dir = options.state_dir / "ui" / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "temporalGrpcAddress": options.address,
        "host": "127.0.0.1",
        "port": ui_port,
        "enableUi": True,
        "defaultNamespace": NAMESPACE,
        "notifyOnNewVersion": False,
        "hideLogs": True,
        "cors": {"cookieInsecure": True},
    }
    (config_dir / "development.yaml").write_text(json.dumps(config, indent=2) + "\n")
    root = str(options.state_dir / "ui")
    return [
        str(TOOLS_BIN / "ui-server"),
        "--root",
        root,
        "--config",
        "config",
        "--env",
        "development",
        "start",
    ]


def die_with_parent() -> None:
    """In the child before exec: get SIGTERM if this script dies, so nothing is left behind."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def spawn(command: list[str], environment: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start `command` in its own process group (Ctrl-C reaches only this script), output to `log_path`."""
    executable = Path(command[0])
    if not os.access(executable, os.X_OK):
        raise DevError(f"{executable} is missing: run `make tools` (scripts/build-temporal-tools.sh) first")
    with log_path.open("wb") as log:
        return subprocess.Popen(
            command,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            process_group=0,
            preexec_fn=die_with_parent,
        )


class LogFollower:
    """New complete lines of a log file, read as it grows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.partial = b""

    def new_lines(self) -> list[str]:
        """Lines written since the last call."""
        with self.path.open("rb") as log:
            log.seek(self.offset)
            chunk = log.read()
        self.offset += len(chunk)
        *lines, self.partial = (self.partial + chunk).split(b"\n")
        return [line.decode(errors="replace") for line in lines]


def http_post(port: int, path: str, body: dict[str, str]) -> int:
    """POST JSON to 127.0.0.1:`port` and return the HTTP status (0 when nothing answers).

    A raw HTTP/1.1 request on loopback: http.client would load the ssl module, which this script never needs.
    """
    payload = json.dumps(body).encode()
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    ).encode() + payload
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
            connection.sendall(request)
            status_line = connection.makefile("rb").readline().decode(errors="replace")
    except OSError:
        return 0
    match = re.match(r"HTTP/1\.[01] (\d{3})", status_line)
    return int(match[1]) if match else 0


def namespace_registered(http_port: int) -> bool:
    """Register the namespace; True once it exists (200: created now, 409: there already)."""
    status = http_post(
        http_port,
        "/api/v1/namespaces",
        {"namespace": NAMESPACE, "workflowExecutionRetentionPeriod": "86400s"},
    )
    return status in {200, 409}


def accepts_connections(port: int) -> bool:
    """Whether something listens on 127.0.0.1:`port`."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def early_exit(name: str, code: int, log_path: Path) -> DevError:
    """Why a process stopped during start-up (a busy port by number, else its exit code), with its log's end."""
    text = log_path.read_text(errors="replace")
    busy = BUSY_PORT.search(text)
    if busy:
        reason = f"{name} could not start: port {busy[1]} is already in use (stop what holds it, or pick other ports)"
        code = EX_UNAVAILABLE
    else:
        reason = f"{name} exited with code {code} during start-up"
    tail = "\n".join(text.splitlines()[-TAIL_LINES:])
    return DevError(f"{reason}\nlast lines of {log_path}:\n{tail}", code if code > 0 else EX_UNAVAILABLE)


def take_terminal() -> int | None:
    """Own the terminal's foreground, so Ctrl-C reaches this script alone, not `make`; the previous group.

    `make` kills itself with SIGINT after any Ctrl-C; in a group of its own this script gets the interrupt,
    stops the cluster and exits 0, and `make dev` exits 0 with it. None when there is no terminal.
    """
    if not sys.stdin.isatty():
        return None
    previous = os.tcgetpgrp(sys.stdin.fileno())
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # stays ignored across exec, for the supervisor
    if os.getpgrp() != os.getpid():  # a session or group leader already leads its own group
        os.setpgid(0, 0)
    os.tcsetpgrp(sys.stdin.fileno(), os.getpgrp())
    return previous


def give_back_terminal(previous: int | None) -> None:
    """Hand the terminal's foreground back to the group that had it."""
    if previous is not None:
        os.tcsetpgrp(sys.stdin.fileno(), previous)


class Cluster:
    """The server (through the launcher) and the Web UI, as child processes of this script."""

    def __init__(self, options: Options, out: TextIO) -> None:
        self.options = options
        self.out = out
        self.server_log = options.state_dir / "temporal-server.log"
        self.ui_log = options.state_dir / "ui-server.log"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.follower = LogFollower(self.server_log)

    def start(self, environment: dict[str, str]) -> None:
        """Spawn the launcher, which execs temporal-server."""
        for name, port in (("frontend gRPC", self.options.port), ("Web UI", self.options.ui_port)):
            if port is not None and not port_is_free(port):
                raise DevError(
                    f"port {port} ({name}) is already in use (pass --port/--ui-port, or stop what holds it)"
                )
        launcher = Path(sys.executable).with_name("temporal-dsql-runtime")
        self.say(f"starting temporal-server through {launcher.name}; server log: {self.server_log}")
        self.processes["temporal-server"] = spawn([str(launcher), "start"], environment, self.server_log)

    def start_ui(self, environment: dict[str, str]) -> None:
        """Spawn the Web UI server."""
        if self.options.ui_port is not None and "ui-server" not in self.processes:
            command = ui_command(self.options, self.options.ui_port)
            self.processes["ui-server"] = spawn(command, environment, self.ui_log)

    def wait_until_ready(self, environment: dict[str, str], stop_requested: Callable[[], bool]) -> None:
        """Echo the launcher's steps until the namespace is registered and the UI listens (or a stop request).

        The UI starts once the namespace exists: it asks the frontend about it at once, and a "not found"
        before registration would be cached by the frontend for a second, delaying everyone's first workflow.
        """
        http_port = int(environment["TEMPORAL_FRONTEND_HTTP_PORT"])
        deadline = time.monotonic() + READY_TIMEOUT
        registered = server_started = False
        while not stop_requested():
            server_started = self.echo_log() or server_started
            self.raise_if_exited()
            registered = registered or (server_started and namespace_registered(http_port))
            if registered:
                self.start_ui(environment)
            ui_up = self.options.ui_port is None or accepts_connections(self.options.ui_port)
            if registered and ui_up:
                return
            if time.monotonic() > deadline:
                raise DevError(f"Temporal was not ready within {READY_TIMEOUT:.0f} s; see {self.server_log}")
            time.sleep(SERVER_POLL_SECONDS if server_started else POLL_SECONDS)

    def echo_log(self) -> bool:
        """Print the launcher's new lines, or every new line with --follow; whether it exec'd the server."""
        exec_seen = False
        for line in self.follower.new_lines():
            if self.options.follow or LAUNCHER_LINE.match(line):
                self.say(line)
            exec_seen = exec_seen or line.startswith(EXEC_LINE)
        return exec_seen

    def raise_if_exited(self) -> None:
        """Stop start-up with the reason and the log's last lines when a child has exited."""
        for name, process in self.processes.items():
            code = process.poll()
            if code is not None:
                self.echo_log()
                raise early_exit(name, code, self.ui_log if name == "ui-server" else self.server_log)

    def banner(self, started: float) -> None:
        """The one ready message."""
        ui = f"http://127.0.0.1:{self.options.ui_port}" if self.options.ui_port else "off (--headless)"
        cli = f"{TOOLS_BIN / 'temporal'} workflow list --address {self.options.address}"
        self.say(
            f"\nTemporal is ready in {time.monotonic() - started:.1f} s\n"
            f"  gRPC       {self.options.address}\n"
            f"  Web UI     {ui}\n"
            f"  namespace  {NAMESPACE}\n"
            f"  data       {self.options.state_dir / 'temporal.db'}\n"
            f"  server log {self.server_log}{'' if self.options.follow else '  (make dev FOLLOW=1 shows it live)'}\n"
            f"  CLI        {cli}\n"
            "Press Ctrl-C to stop."
        )

    def supervise(self, terminal_pgrp: int | None) -> None:
        """Exec the small resident supervisor in this process: the children stay its children."""
        server = self.processes["temporal-server"]
        argv = [sys.executable, "-I", "-S", str(SUPERVISOR), str(server.pid), str(self.server_log)]
        argv += [str(self.follower.offset), "follow" if self.options.follow else "quiet"]
        argv.append("-" if terminal_pgrp is None else str(terminal_pgrp))
        if "ui-server" in self.processes:
            argv += [str(self.processes["ui-server"].pid), str(self.ui_log)]
        os.execv(sys.executable, argv)

    def stop(self) -> int:
        """SIGTERM the UI, then the server; kill what does not stop in time. The server's exit code."""
        for process in reversed(self.processes.values()):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        server = self.processes.get("temporal-server")
        return server.returncode if server is not None else 0

    def say(self, text: str) -> None:
        """Write to the terminal now."""
        self.out.write(text + "\n")
        self.out.flush()


def main(argv: list[str]) -> int:
    """Start and report ready, then exec the supervisor (which stops both on Ctrl-C or SIGTERM)."""
    started = time.monotonic()
    environment = dict(os.environ)
    options = parse_options(argv, environment)
    stopping: list[int] = []

    def request_stop(signum: int, _frame: object) -> None:
        stopping.append(signum)

    for watched in STOP_SIGNALS:
        signal.signal(watched, request_stop)
    cluster = Cluster(options, sys.stdout)
    terminal_pgrp = take_terminal()
    try:
        options.state_dir.mkdir(parents=True, exist_ok=True)
        server_env = server_environment(options, environment)
        cluster.start(server_env)
        cluster.wait_until_ready(server_env, lambda: bool(stopping))
        if not stopping:
            cluster.banner(started)
            signal.pthread_sigmask(signal.SIG_BLOCK, {*STOP_SIGNALS, signal.SIGCHLD})  # pending across exec
    except DevError as error:
        cluster.stop()
        give_back_terminal(terminal_pgrp)
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    if stopping:
        code = cluster.stop()
        give_back_terminal(terminal_pgrp)
        cluster.say(f"Temporal stopped (server exit code {code}).")
        return code
    cluster.supervise(terminal_pgrp)
    return 0  # not reached: supervise() execs


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
