"""The image's entrypoint without Docker, starting the SQLite profile through the real temporal-server.

`temporal-dsql-runtime start` runs as an unprivileged user from a root-owned, read-only venv (built and
trimmed the image's way, on the distribution's python3) with only the runtime directory writable; the image's
health check then reports every service SERVING, and SIGTERM stops it cleanly.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from image_support import build_runtime_venv, slim_venv
from support.temporal_cluster import READY_TIMEOUT, port_settings, tool

pytestmark = pytest.mark.e2e

UNPRIVILEGED_USER = "nobody"
SYSTEM_PYTHON = "/usr/bin/python3"
WORLD_WRITABLE = (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"))


@dataclass(frozen=True)
class Install:
    """Root-owned, read-only to everyone else: the venv and the server binary, as in the image."""

    venv: Path
    server: Path

    @property
    def launcher(self) -> Path:
        return self.venv / "bin" / "temporal-dsql-runtime"


@pytest.fixture(scope="module")
def install() -> Iterator[Install]:
    assert os.geteuid() == 0, "this test switches to an unprivileged user, so it must start as root"
    root = Path(tempfile.mkdtemp(prefix="tdr-image-"))
    root.chmod(0o755)
    try:
        venv = build_runtime_venv(root, SYSTEM_PYTHON)
        slim_venv(venv)
        bin_dir = root / "bin"
        bin_dir.mkdir(mode=0o755)
        server = bin_dir / "temporal-server"
        try:
            os.link(tool("temporal-server").resolve(), server)
        except OSError:
            shutil.copy2(tool("temporal-server").resolve(), server)
        yield Install(venv, server)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def runtime_dir() -> Iterator[Path]:
    """Like the image's tmpfs: a directory only the unprivileged user may write, mode 0700."""
    parent = Path(tempfile.mkdtemp(prefix="tdr-run-"))
    parent.chmod(0o755)
    directory = parent / "temporal-dsql-runtime"
    directory.mkdir(mode=0o700)
    user = pwd.getpwnam(UNPRIVILEGED_USER)
    os.chown(directory, user.pw_uid, user.pw_gid)
    try:
        yield directory
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def as_user(
    command: list[str | Path], environment: dict[str, str], output: IO[bytes] | int, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start `command` as the unprivileged user, stdout and stderr both to `output`."""
    return subprocess.Popen(
        command,
        env=environment,
        user=UNPRIVILEGED_USER,
        group=grp.getgrgid(pwd.getpwnam(UNPRIVILEGED_USER).pw_gid).gr_name,
        extra_groups=[],
        stdout=output,
        stderr=subprocess.STDOUT if output != subprocess.PIPE else subprocess.PIPE,
        cwd=cwd,
    )


def run_as_user(command: list[str | Path], environment: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    process = as_user(command, environment, subprocess.PIPE)
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def image_environment(install: Install, runtime_dir: Path) -> dict[str, str]:
    """What the image's ENV gives the launcher, plus the SQLite profile of docker-compose.local-test.yml."""
    return {
        "PATH": f"{install.venv / 'bin'}:{install.server.parent}:/usr/bin:/bin",
        "HOME": "/nonexistent",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TEMPORAL_RUNTIME_DIR": str(runtime_dir),
        "TEMPORAL_SQL_PLUGIN_NAME": "sqlite",
        "TEMPORAL_SQL_DATABASE": str(runtime_dir / "temporal.db"),
        "BIND_ON_IP": "127.0.0.1",
        "TEMPORAL_LOG_LEVEL": "warn",
        "TEMPORAL_HISTORY_SHARDS": "2",
        **port_settings(),
    }


def files_owned_by_user(roots: tuple[Path, ...], skip: Path) -> list[Path]:
    uid = pwd.getpwnam(UNPRIVILEGED_USER).pw_uid
    found = []
    for root in roots:
        for path in root.rglob("*") if root.exists() else ():
            try:
                owned = path.lstat().st_uid == uid
            except OSError:
                continue
            if owned and skip not in (path, *path.parents):
                found.append(path)
    return found


def test_the_entrypoint_serves_as_an_unprivileged_user_writing_only_its_runtime_dir(
    install: Install, runtime_dir: Path
) -> None:
    environment = image_environment(install, runtime_dir)
    probe = run_as_user(["/usr/bin/test", "-w", install.venv / "lib"], environment)
    assert probe.returncode == 1, "the package directory must not be writable by the runtime user"
    venv_before = sorted(str(path) for path in install.venv.rglob("*"))
    strays_before = set(files_owned_by_user(WORLD_WRITABLE, runtime_dir))

    log_path = runtime_dir.parent / "launcher.log"
    with log_path.open("wb") as log:
        launcher = as_user([install.launcher, "start"], environment, log, cwd=runtime_dir)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            assert launcher.poll() is None, f"the launcher exited early:\n{log_path.read_text()[-4000:]}"
            health = run_as_user([install.launcher, "healthcheck", "--timeout", "2"], environment)
            if health.returncode == 0:
                break
            assert health.returncode == 69, health.stderr.decode()
            assert time.monotonic() < deadline, f"not healthy in time: {health.stderr.decode()}"
            time.sleep(0.5)
        assert health.stdout.decode().startswith("healthy: frontend 127.0.0.1:")
        assert all(
            f"{service} 127.0.0.1:" in health.stdout.decode() for service in ("history", "matching", "worker")
        )

        status = Path(f"/proc/{launcher.pid}/status").read_text()
        uid = pwd.getpwnam(UNPRIVILEGED_USER).pw_uid
        assert f"\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n" in status
        assert os.path.realpath(f"/proc/{launcher.pid}/exe") == str(install.server.resolve()), (
            "exec, same PID"
        )

        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(timeout=60) == 0, log_path.read_text()[-4000:]
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait(timeout=30)

    (config,) = runtime_dir.glob("*.yaml")
    assert config.stat().st_mode & 0o777 == 0o600
    assert (runtime_dir / "temporal.db").stat().st_size > 0
    assert sorted(str(path) for path in install.venv.rglob("*")) == venv_before, (
        "something wrote into the venv"
    )
    assert set(files_owned_by_user(WORLD_WRITABLE, runtime_dir)) == strays_before, (
        "wrote outside its runtime dir"
    )


def test_without_a_writable_runtime_dir_the_entrypoint_fails_in_one_line(
    install: Install, runtime_dir: Path
) -> None:
    """A read-only root filesystem without the documented tmpfs: exit 78 and a line naming the setting."""
    os.chown(runtime_dir, 0, 0)
    result = run_as_user([install.launcher, "start"], image_environment(install, runtime_dir))
    assert result.returncode == 78
    errors = [line for line in result.stderr.decode().splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: TEMPORAL_RUNTIME_DIR: "), errors
    assert "belongs to another user" in errors[0]
    assert "Traceback" not in result.stderr.decode()
