"""Run a command on a pseudo-terminal, as a person would in a shell: read what it prints, press Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import signal
import time
from collections.abc import Sequence
from pathlib import Path


class Terminal:
    """A command running with a pty as its controlling terminal (stdin, stdout and stderr)."""

    def __init__(self, argv: Sequence[str], environment: dict[str, str], cwd: Path) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: becomes the command
            os.chdir(cwd)
            os.execvpe(argv[0], list(argv), environment)
        self.output = ""
        self.exit_code: int | None = None

    def read_until(self, text: str, timeout: float) -> str:
        """Everything printed so far once `text` appears; AssertionError with the output on timeout or exit."""
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if not self._read(deadline - time.monotonic()):
                raise AssertionError(f"{text!r} not printed within {timeout} s; output:\n{self.output}")
        return self.output

    def interrupt(self) -> None:
        """Press Ctrl-C: the terminal sends SIGINT to its foreground process group."""
        os.write(self.fd, b"\x03")

    def wait(self, timeout: float) -> int:
        """Read to the end and return the exit code (a signal death is negative, as in subprocess)."""
        deadline = time.monotonic() + timeout
        while self.exit_code is None:
            self._read(0.1)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.exit_code = os.waitstatus_to_exitcode(status)
            elif time.monotonic() > deadline:
                raise AssertionError(f"still running after {timeout} s; output:\n{self.output}")
        while self._read(0.1):
            pass
        os.close(self.fd)
        return self.exit_code

    def kill(self) -> None:
        """Make sure the command and its process group are gone."""
        if self.exit_code is None:
            for target in (-self.pid, self.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(target, signal.SIGKILL)
            self.wait(timeout=30)

    def _read(self, timeout: float) -> bool:
        """Read what is available within `timeout`; False at end of output or timeout."""
        if timeout <= 0:
            return False
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: the other side closed
            return False
        self.output += chunk.decode(errors="replace").replace("\r\n", "\n")
        return bool(chunk)
