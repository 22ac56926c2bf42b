"""Debian's chromium, headless, driven by its own command line: the rendered DOM of a page, or a screenshot.

`--virtual-time-budget` lets the page's scripts and requests run for that long (in virtual time) before the
DOM is dumped or the screenshot taken, so a single-page app has rendered what it fetched.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",  # tests run as root, where chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)


def chromium() -> str:
    """The chromium executable; fails the test when it is not installed (`.ci/run` installs it)."""
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("chromium is not installed: apt-get install chromium (.ci/run does)")
    return found


def run_chromium(url: str, action: list[str], budget_ms: int, timeout: float = 90) -> str:
    """Load `url` in a fresh profile, let it run `budget_ms` of virtual time, do `action`; stdout."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        command = [
            chromium(),
            *BROWSER_FLAGS,
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={budget_ms}",
            *action,
            url,
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise AssertionError(f"chromium exited {result.returncode} for {url}:\n{result.stderr[-3000:]}")
    return result.stdout


def rendered_dom(url: str, budget_ms: int = 15000) -> str:
    """The page's DOM after its scripts ran."""
    return run_chromium(url, ["--dump-dom"], budget_ms)


def screenshot(url: str, path: Path, budget_ms: int = 15000) -> Path:
    """A PNG of the rendered page at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    run_chromium(url, [f"--screenshot={path}"], budget_ms)
    if not path.is_file() or path.stat().st_size == 0:
        raise AssertionError(f"chromium wrote no screenshot to {path}")
    return path
