"""Free TCP ports on the loopback interface."""

from __future__ import annotations

import random
import socket


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def free_low_port() -> int:
    """A free port below 32768: Temporal keeps membership ports in a SMALLINT column."""
    for _ in range(200):
        port = random.randint(20_000, 32_767)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below 32768")
