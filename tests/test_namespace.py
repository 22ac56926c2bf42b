"""`temporal-dsql-runtime namespace`: its arguments and an unreachable frontend (the happy path runs in
tests/test_compose_local.py and tests/test_compose_services.py, against real frontends in containers)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support.ports import free_port

LAUNCHER = Path(sys.executable).with_name("temporal-dsql-runtime")


def namespace(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LAUNCHER, "namespace", *args], capture_output=True, text=True, check=False, timeout=60
    )


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (("bad name",), "'bad name': accepts letters, digits"),
        (("default", "--endpoint", "temporal:7243"), "'temporal:7243': accepts http(s)://host:port"),
        (("default", "--retention-days", "0"), "--retention-days"),
        ((), "Missing argument 'NAMES...'"),
    ],
)
def test_bad_arguments_exit_2(args: tuple[str, ...], complaint: str) -> None:
    result = namespace(*args)
    assert result.returncode == 2 and complaint in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_frontend_is_one_line_and_exit_69() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    result = namespace("default", "--endpoint", endpoint, "--wait", "1")
    assert result.returncode == 69, result.stderr
    assert result.stderr.startswith("error: namespace default not ensured within 1 s: ")
    assert endpoint in result.stderr and len(result.stderr.splitlines()) == 1
