"""What `make dev` keeps resident once the cluster is ready: wait for Ctrl-C or SIGTERM, then stop the children.

    python -I -S scripts/dev_supervisor.py SERVER_PID SERVER_LOG LOG_OFFSET FOLLOW TERMINAL_PGRP [UI_PID UI_LOG]

scripts/dev_cluster.py execs this in its own process (same PID, so the server and the UI stay its children) with
SIGINT, SIGTERM and SIGCHLD blocked, so no signal is lost across the exec. It imports only `os`, `signal` and
`sys`, and runs without site-packages: a few MiB instead of the start-up script's imports.
Exit status: the server's (0 after a requested stop), or 1 when a child stopped on its own.
"""

import os
import signal
import sys

WATCHED = {signal.SIGINT, signal.SIGTERM, signal.SIGCHLD}
STOP_TIMEOUT = 30.0
FOLLOW_SECONDS = 0.2
TAIL_LINES = 20


def say(text: str) -> None:
    """Write to the terminal now."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def stop(children: dict[int, str]) -> dict[int, int]:
    """SIGTERM every child still running, wait (SIGKILL after STOP_TIMEOUT); exit codes by PID."""
    codes = reap(children)
    for pid in children.keys() - codes.keys():
        os.kill(pid, signal.SIGTERM)
    waited = 0.0
    while children.keys() - codes.keys():
        if signal.sigtimedwait({signal.SIGCHLD}, 1.0) is None:
            waited += 1.0
            if waited >= STOP_TIMEOUT:
                for pid in children.keys() - codes.keys():
                    os.kill(pid, signal.SIGKILL)
        codes |= reap(children)
    return codes


def reap(children: dict[int, str]) -> dict[int, int]:
    """Exit codes of the children that have exited, without waiting."""
    codes = {}
    for pid in children:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            continue
        if done:
            codes[pid] = os.waitstatus_to_exitcode(status)
    return codes


def last_lines(path: str) -> str:
    """The end of a log file."""
    with open(path, "rb") as log:
        return b"\n".join(log.read().splitlines()[-TAIL_LINES:]).decode(errors="replace")


def main(argv: list[str]) -> int:
    """Supervise until a stop request or a child's exit; the exit status."""
    server_pid, server_log, offset, follow, terminal_pgrp = (
        int(argv[0]),
        argv[1],
        int(argv[2]),
        argv[3],
        argv[4],
    )
    children = {server_pid: "temporal-server"}
    logs = {server_pid: server_log}
    if len(argv) > 5:
        children[int(argv[5])] = "ui-server"
        logs[int(argv[5])] = argv[6]
    log = open(server_log, "rb")  # noqa: SIM115 - read for the whole run
    log.seek(offset)
    while True:
        exited = reap(children)
        if exited:
            pid, code = next(iter(exited.items()))
            say(f"{children[pid]} stopped on its own (exit code {code}); last lines of {logs[pid]}:")
            say(last_lines(logs[pid]))
            stop(children)
            status = 1
            break
        if follow == "follow":
            received = signal.sigtimedwait(WATCHED, FOLLOW_SECONDS)
            sys.stdout.write(log.read().decode(errors="replace"))
            sys.stdout.flush()
        else:
            received = signal.sigwaitinfo(WATCHED)
        if received is not None and received.si_signo != signal.SIGCHLD:
            status = stop(children)[server_pid]
            say(f"Temporal stopped (server exit code {status}).")
            break
    if terminal_pgrp != "-":
        os.tcsetpgrp(0, int(terminal_pgrp))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
