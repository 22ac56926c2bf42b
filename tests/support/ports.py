"""Free TCP ports on the loopback interface, never the same one twice in a test session."""

from __future__ import annotations

import random
import socket

# Our own generator: tests that seed the global `random` (Hypothesis does) must not make two picks collide.
_CHOOSER = random.Random()
_HANDED_OUT: set[int] = set()


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port nothing listens on right now, and not handed out before."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port
    raise RuntimeError("no free port")


def free_low_port() -> int:
    """A free port below 32768 (Temporal keeps membership ports in a SMALLINT column), not handed out before."""
    for _ in range(200):
        port = _CHOOSER.randint(20_000, 32_767)
        if port not in _HANDED_OUT and _bindable(port):
            _HANDED_OUT.add(port)
            return port
    raise RuntimeError("no free port below 32768")
