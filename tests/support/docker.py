"""Real Docker for the image and Compose tests: the engine, the images built once per session, Compose projects.

The images are built the way `make image` builds them (scripts/build-base-image.sh, then scripts/build-images.sh
from the temporal-server and ui-server binaries of `scripts/build-temporal-tools.sh`), once per test session;
Docker's layer cache makes a rebuild of unchanged sources take seconds.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS = REPO_ROOT / ".tools"
DOCKER = "docker"
BUILD_TIMEOUT = 1800
TAG = "test"


@dataclass(frozen=True)
class Images:
    """The tags of the images built for this session."""

    base: str
    server: str
    runtime: str
    ui: str
    postgres: str
    build_output: str


def docker(
    *args: str, timeout: float = 120, check: bool = True, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run the docker CLI; fails the test with its output when `check` and it exits non-zero."""
    result = subprocess.run(
        [DOCKER, *args], capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )
    if check:
        assert result.returncode == 0, (
            f"docker {' '.join(args)} exited {result.returncode}:\n{result.stderr[-4000:]}"
        )
    return result


def _script(name: str, *args: str, environment: Mapping[str, str] | None = None) -> str:
    result = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / name), *args],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
        env={**os.environ, **(environment or {})},
    )
    assert result.returncode == 0, f"scripts/{name} exited {result.returncode}:\n{result.stderr[-6000:]}"
    return result.stdout


@functools.cache
def images() -> Images:
    """Start dockerd if needed, then build the base, server, runtime, UI and CI PostgreSQL images (once)."""
    _script("start-docker.sh")
    for binary in ("temporal-server", "temporal-sql-tool", "ui-server"):
        assert (TOOLS / "bin" / binary).exists(), (
            f"{binary} missing: run `bash scripts/build-temporal-tools.sh`"
        )
    base = _script("build-base-image.sh").strip().splitlines()[-1]
    tags = {
        "SERVER_IMAGE": f"temporal-dsql-server:{TAG}",
        "RUNTIME_IMAGE": f"temporal-dsql-runtime:{TAG}",
        "UI_IMAGE": f"temporal-dsql-ui:{TAG}",
        "BASE_IMAGE": base,
    }
    output = _script(
        "build-images.sh",
        "--server-bin",
        str(TOOLS / "bin"),
        "--schema",
        str(TOOLS / "server-module" / "schema"),
        "--ui-server",
        str(TOOLS / "bin" / "ui-server"),
        "--ui-config",
        str(TOOLS / "ui-server-module" / "config"),
        environment=tags,
    )
    postgres = f"temporal-dsql-ci-postgres:{TAG}"
    context = REPO_ROOT / "tests" / "support" / "docker"
    docker(
        "build",
        "--quiet",
        "--build-arg",
        f"BASE_IMAGE={base}",
        "--file",
        str(context / "postgres.Dockerfile"),
        "--tag",
        postgres,
        str(context),
        timeout=BUILD_TIMEOUT,
        # The classic builder: this Dockerfile needs no BuildKit feature, and any docker CLI has it.
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
    )
    return Images(base, tags["SERVER_IMAGE"], tags["RUNTIME_IMAGE"], tags["UI_IMAGE"], postgres, output)


def image_size(tag: str) -> int:
    """The image's size in bytes, all layers included."""
    return int(docker("image", "inspect", "--format", "{{.Size}}", tag).stdout)


def inspect(container: str) -> dict[str, Any]:
    """`docker inspect` of one container."""
    parsed: list[dict[str, Any]] = json.loads(docker("inspect", container).stdout)
    return parsed[0]


@dataclass
class Compose:
    """One Compose project: its files, project directory and the variables Compose substitutes."""

    name: str
    files: Sequence[Path]
    project_dir: Path
    variables: dict[str, str] = field(default_factory=dict)

    def _run(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        command = [DOCKER, "compose", "-p", self.name, "--project-directory", str(self.project_dir)]
        for file in self.files:
            command += ["-f", str(file)]
        environment = {**os.environ, **self.variables}
        return subprocess.run(
            [*command, *args], capture_output=True, text=True, timeout=timeout, check=False, env=environment
        )

    def __call__(
        self, *args: str, timeout: float = 300, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """`docker compose -p NAME -f ... ARGS`; fails the test with the project's logs when `check` fails."""
        result = self._run(*args, timeout=timeout)
        if check:
            assert result.returncode == 0, (
                f"docker compose {' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}\n"
                f"{self.logs()}"
            )
        return result

    def logs(self) -> str:
        """The last lines of every container's log."""
        return self._run("logs", "--no-color", "--tail", "60", timeout=60).stdout[-8000:]

    def container(self, service: str) -> str:
        """The id of the service's container (running or not)."""
        ids = self("ps", "--all", "--quiet", service).stdout.split()
        assert len(ids) == 1, f"expected one container for {service}, found {ids}"
        return ids[0]

    def exit_codes(self) -> dict[str, int]:
        """Each service's container exit code (stopped containers)."""
        rows = self("ps", "--all", "--format", "json").stdout
        entries = [json.loads(line) for line in rows.splitlines() if line.strip()]
        return {entry["Service"]: int(entry["ExitCode"]) for entry in entries}


@contextmanager
def compose_project(compose: Compose) -> Iterator[Compose]:
    """The project, always removed afterwards with its volumes (`down -v`), whatever happened."""
    try:
        yield compose
    finally:
        compose("down", "--volumes", "--remove-orphans", "--timeout", "5", check=False, timeout=180)


def wait_for_health(container: str, timeout: float = 180) -> list[str]:
    """The health states seen (deduplicated, in order) until `healthy`; fails on `unhealthy` or at `timeout`."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = inspect(container)["State"]
        health = state.get("Health", {}).get("Status", "none")
        if not seen or seen[-1] != health:
            seen.append(health)
        if health == "healthy":
            return seen
        assert health != "unhealthy" and state["Status"] != "exited", f"{container}: {state}"
        time.sleep(0.5)
    raise AssertionError(f"{container} not healthy within {timeout} s: {seen}")
