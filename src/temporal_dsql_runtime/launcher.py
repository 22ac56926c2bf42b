"""Start temporal-server for some services: settings → credentials → address → config file → exec."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from . import rules
from .addresses import discover_broadcast_address
from .atomic_files import private_directory_problem, write_atomically
from .credential_command import PROGRAM
from .errors import ConfigError, UnavailableError, describe_os_error
from .launch_log import StepLog
from .render import PasswordCommand, RenderRequest, render_config
from .resolve import resolve_credentials
from .settings import Settings
from .sources import SECRET_VARIABLES as SECRETS

if TYPE_CHECKING:
    from .doctor import Report

MISREAD_BY_SERVER = (
    "TEMPORAL_ROOT",
    "TEMPORAL_CONFIG_DIR",
    "TEMPORAL_ENVIRONMENT",
    "TEMPORAL_AVAILABILITY_ZONE",
    "TEMPORAL_AVAILABILTY_ZONE",
    "TEMPORAL_SERVER_CONFIG_FILE_PATH",
    "TEMPORAL_ALLOW_NO_AUTH",
    "TEMPORAL_SERVICES",
)
"""Variables temporal-server reads as flags; beside --config-file they break or override start-up."""

SECRET_VARIABLES = (*SECRETS, *(f"{name}_FILE" for name in SECRETS))
"""Our secret-bearing variables: the config or the credential command carries what the server needs."""

PASSWORD_COMMAND_SINCE = (1, 32, 0)
"""The first temporal-server release that honours `passwordCommand`."""


@dataclass(frozen=True)
class LaunchPlan:
    """What `exec` needs: the program, its arguments and its environment."""

    binary: str
    argv: list[str]
    environment: dict[str, str]


def write_private_file(path: Path, text: str, label: str) -> None:
    """Write `text` to `path` with mode 0600, atomically; `label` names the setting in errors."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomically(path, text)
    except OSError as error:
        raise ConfigError(f"{label}: cannot write {path}: {describe_os_error(error)}") from None


def ensure_runtime_dir(settings: Settings) -> None:
    """The runtime directory must be ours alone: whoever can write there could swap the config before exec."""
    problem = private_directory_problem(settings.runtime_dir)
    if problem is not None:
        raise ConfigError(
            f"TEMPORAL_RUNTIME_DIR: {problem}; accepts a directory of this user that only it can write"
        )


def server_environment(environment: Mapping[str, str], settings: Settings) -> dict[str, str]:
    """The environment temporal-server gets: ours minus what it misreads and our secrets, plus the plugin's."""
    handed = {
        k: v for k, v in environment.items() if k not in MISREAD_BY_SERVER and k not in SECRET_VARIABLES
    }
    if settings.sql_plugin_name == "dsql":
        handed.update(settings.dsql_plugin_environment())
    return handed


def find_server_binary(settings: Settings, environment: Mapping[str, str]) -> str:
    """The absolute path of the server executable, or a one-line error."""
    found = shutil.which(settings.server_binary, path=environment.get("PATH", os.defpath))
    if found is None:
        raise UnavailableError(
            f"TEMPORAL_SERVER_BINARY: {settings.server_binary!r} is not an executable file or on PATH; "
            "accepts a path or a command name"
        )
    return found


def server_version(binary: str) -> tuple[int, int, int] | None:
    """The server's release as (major, minor, patch), from `--version`; None when it does not say."""
    try:
        result = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", result.stdout + result.stderr)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def ensure_password_command_supported(binary: str) -> None:
    """Refuse a server too old to run `passwordCommand` (it would ignore the key and fail to log in)."""
    version = server_version(binary)
    if version is None or version < PASSWORD_COMMAND_SINCE:
        shown = ".".join(map(str, version)) if version else "unknown"
        raise ConfigError(
            "TEMPORAL_SQL_PASSWORD_DELIVERY: command needs temporal-server >= "
            f"{'.'.join(map(str, PASSWORD_COMMAND_SINCE))} (passwordCommand), "
            f"but {binary} is version {shown}; accepts static for this server"
        )


def run_password_command_once(command: PasswordCommand) -> None:
    """Run the credential command exactly as the server will: proves it works and warms the token cache."""
    try:
        result = subprocess.run(
            [command.command, *command.args], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise UnavailableError(
            f"TEMPORAL_SQL_PASSWORD_DELIVERY: the credential command failed: {error}"
        ) from None
    if result.returncode != 0:
        last_line = (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1]
        problem = last_line.removeprefix(f"{PROGRAM}: error: ")
        if problem == last_line:
            problem = f"TEMPORAL_SQL_PASSWORD_DELIVERY: the credential command failed: {last_line}"
        raise (UnavailableError if result.returncode == UnavailableError.exit_code else ConfigError)(problem)


def prepare_launch(
    settings: Settings,
    environment: Mapping[str, str],
    services: Sequence[str],
    extra_args: Sequence[str] = (),
    log: StepLog | None = None,
) -> LaunchPlan:
    """Do every step up to exec: validate, resolve, render, write the config 0600."""
    log = log or StepLog(settings.launcher_log_format)
    for warning in rules.warnings(settings):
        log("settings", warning, level="warn")
    conflicts = rules.port_conflicts(settings, services)
    if conflicts:
        raise ConfigError(*conflicts)
    binary = find_server_binary(settings, environment)
    discovery = discover_broadcast_address(settings)
    for skipped in discovery.passed_over:
        log("address", f"passed over {skipped}")
    log("address", f"broadcasting {discovery.address} (from {discovery.source})")
    if settings.preflight:
        run_preflight(settings, log)
    credentials = resolve_credentials(settings)
    if credentials.sql_password_command is not None:
        ensure_password_command_supported(binary)
        run_password_command_once(credentials.sql_password_command)
    log("credentials", _describe_credentials(settings))
    request = RenderRequest(
        services=tuple(services), broadcast_address=discovery.address, credentials=credentials
    )
    ensure_runtime_dir(settings)
    config_file = settings.runtime_dir / f"{'-'.join(services)}.yaml"
    write_private_file(config_file, render_config(settings, request), "TEMPORAL_RUNTIME_DIR")
    log("config", f"wrote {config_file} for {', '.join(services)}")
    argv = [binary, *extra_args, "--config-file", str(config_file)]
    if settings.allow_no_auth:
        argv.append("--allow-no-auth")
    argv.append("start")
    for service in services:
        argv += ["--service", service]
    return LaunchPlan(binary, argv, server_environment(environment, settings))


def run_preflight(settings: Settings, log: StepLog) -> None:
    """The doctor's checks before exec, so a wrong password or CA is named here, not deep in server logs."""
    from .doctor import wait_until_healthy

    wait = settings.preflight_wait.seconds
    report = wait_until_healthy(
        settings,
        wait,
        on_attempt=lambda attempt: log("preflight", f"not ready yet: {_summary(attempt)}", "warn"),
    )
    failure = report.first_failure
    if failure is not None:
        error = UnavailableError if failure.exit_code == UnavailableError.exit_code else ConfigError
        raise error(f"preflight {failure.name}: {failure.detail}; {failure.diagnosis}")
    log("preflight", "database and visibility checks passed")


def _summary(report: Report) -> str:
    failure = report.first_failure
    return f"{failure.name}: {failure.detail}" if failure else "healthy"


def _describe_credentials(settings: Settings) -> str:
    if settings.sql_plugin_name == "sqlite":
        return "sqlite: no database credentials"
    if settings.sql_auth_method == "plugin":
        return "the dsql plugin mints IAM tokens itself"
    return f"{settings.sql_auth_method} credentials, delivered {settings.sql_password_delivery}"


def exec_server(plan: LaunchPlan, log: StepLog) -> NoReturn:
    """Replace this process with temporal-server: same PID, so signals reach the server directly."""
    log("exec", " ".join(plan.argv))
    try:
        os.execve(plan.binary, plan.argv, plan.environment)
    except OSError as error:
        raise UnavailableError(
            f"TEMPORAL_SERVER_BINARY: cannot run {plan.binary}: {describe_os_error(error)}"
        ) from None
