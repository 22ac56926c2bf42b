"""The launcher with a stub temporal-server: exec in place, arguments, config file, environment, errors."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from temporal_dsql_runtime.temporal_config import parse_yaml

LAUNCHER = Path(sys.executable).with_name("temporal-dsql-runtime")
CANARY = "CANARY-launcher-5e2f"
DSQL_HOST = "abcdefghijklmnopqrstuvwxyz.dsql.eu-west-1.on.aws"
MISREAD = {
    "TEMPORAL_ROOT": "/x",
    "TEMPORAL_CONFIG_DIR": "config",
    "TEMPORAL_ENVIRONMENT": "prod",
    "TEMPORAL_AVAILABILITY_ZONE": "a",
    "TEMPORAL_AVAILABILTY_ZONE": "b",
}


@pytest.fixture
def stub_server(tmp_path: Path) -> Path:
    """An executable that reports its PID, argv, environment and the config it was given, as JSON."""
    stub = tmp_path / "temporal-server"
    stub.write_text(
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import json, os, stat, sys
            if sys.argv[1:] == ["--version"]:
                print("temporal version " + os.environ.get("STUB_VERSION", "1.32.1"))
                sys.exit(0)
            config = sys.argv[sys.argv.index("--config-file") + 1]
            report = {{
                "pid": os.getpid(),
                "argv": sys.argv,
                "environment": dict(os.environ),
                "config": open(config).read(),
                "mode": stat.S_IMODE(os.stat(config).st_mode),
            }}
            with open(os.environ["STUB_REPORT"], "w") as handle:
                json.dump(report, handle)
            """
        )
    )
    stub.chmod(0o755)
    return stub


def launch(
    tmp_path: Path, stub: Path, environment: dict[str, str], *args: str
) -> tuple[subprocess.CompletedProcess[str], int, dict | None]:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "TEMPORAL_SERVER_BINARY": str(stub),
        "TEMPORAL_RUNTIME_DIR": str(tmp_path / "run"),
        "STUB_REPORT": str(tmp_path / "report.json"),
        "BIND_ON_IP": "127.0.0.1",
        **environment,
    }
    process = subprocess.Popen(
        [str(LAUNCHER), "start", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    stdout, stderr = process.communicate(timeout=120)
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    report_path = tmp_path / "report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else None
    return result, process.pid, report


def launch_ok(
    tmp_path: Path, stub: Path, environment: dict[str, str], *args: str
) -> tuple[subprocess.CompletedProcess[str], int, dict]:
    """Launch, and require that the stub server ran."""
    result, pid, report = launch(tmp_path, stub, environment, *args)
    assert result.returncode == 0, result.stderr
    assert report is not None
    return result, pid, report


POSTGRES = {
    "TEMPORAL_SQL_PLUGIN_NAME": "postgres12",
    "TEMPORAL_SQL_HOST": "db.internal",
    "TEMPORAL_SQL_USER": "temporal",
    "TEMPORAL_SQL_PASSWORD": CANARY,
    "TEMPORAL_PREFLIGHT": "false",
}


def test_the_server_replaces_the_launcher_with_the_right_arguments_file_and_environment(
    tmp_path: Path, stub_server: Path
) -> None:
    result, pid, report = launch_ok(tmp_path, stub_server, POSTGRES | MISREAD, "--service", "history")
    assert report["pid"] == pid
    config_file = str(tmp_path / "run" / "history.yaml")
    assert report["argv"][1:] == [
        "--config-file",
        config_file,
        "--allow-no-auth",
        "start",
        "--service",
        "history",
    ]
    assert report["mode"] == 0o600
    config = parse_yaml(report["config"])
    sql = config["persistence"]["datastores"]["default"]["sql"]
    assert (sql["connectAddr"], sql["user"], sql["password"]) == ("db.internal:5432", "temporal", CANARY)
    environment = report["environment"]
    assert not set(MISREAD) & set(environment)
    assert CANARY not in json.dumps(environment) + json.dumps(report["argv"])
    assert CANARY not in result.stdout + result.stderr


def test_several_services_share_one_file_and_extra_arguments_pass_through(
    tmp_path: Path, stub_server: Path
) -> None:
    environment = {"TEMPORAL_SQL_PLUGIN_NAME": "sqlite", "TEMPORAL_SERVICES": "history,matching"}
    _, _, report = launch_ok(tmp_path, stub_server, environment, "--", "--some-flag")
    config_file = str(tmp_path / "run" / "history-matching.yaml")
    assert report["argv"][1:] == [
        "--some-flag",
        "--config-file",
        config_file,
        "--allow-no-auth",
        "start",
        "--service",
        "history",
        "--service",
        "matching",
    ]
    assert "TEMPORAL_SERVICES" not in report["environment"]


def test_the_dsql_plugin_gets_its_variables(tmp_path: Path, stub_server: Path) -> None:
    environment = {
        "TEMPORAL_SQL_HOST": DSQL_HOST,
        "TEMPORAL_OPENSEARCH_ENDPOINT": "https://search.example:443",
        "TEMPORAL_PREFLIGHT": "false",
        "DSQL_CONNECTION_RATE_LIMIT": "40",
    }
    _, _, report = launch_ok(tmp_path, stub_server, environment, "--service", "frontend")
    exported = report["environment"]
    assert (exported["CLUSTER_ENDPOINT"], exported["REGION"]) == (DSQL_HOST, "eu-west-1")
    assert exported["DSQL_CONNECTION_RATE_LIMIT"] == "40"


def test_json_log_lines(tmp_path: Path, stub_server: Path) -> None:
    environment = {"TEMPORAL_SQL_PLUGIN_NAME": "sqlite", "TEMPORAL_LAUNCHER_LOG_FORMAT": "json"}
    result, _, _ = launch(tmp_path, stub_server, environment)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert [r["step"] for r in records][-2:] == ["config", "exec"]


def test_an_unreachable_metadata_endpoint_is_passed_over(tmp_path: Path, stub_server: Path) -> None:
    environment = {
        "TEMPORAL_SQL_PLUGIN_NAME": "sqlite",
        "BIND_ON_IP": "",
        "POD_IP": "127.0.0.7",
        "ECS_CONTAINER_METADATA_URI_V4": "http://127.0.0.1:9",
    }
    result, _, report = launch_ok(tmp_path, stub_server, environment)
    assert "passed over ECS" in result.stderr
    assert parse_yaml(report["config"])["global"]["membership"]["broadcastAddress"] == "127.0.0.7"


def one_line_error(result: subprocess.CompletedProcess[str], code: int, variable: str) -> None:
    assert result.returncode == code, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and variable in errors[0], result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_server_binary_is_one_line(tmp_path: Path, stub_server: Path) -> None:
    environment = {"TEMPORAL_SQL_PLUGIN_NAME": "sqlite", "TEMPORAL_SERVER_BINARY": str(tmp_path / "nope")}
    result, _, _ = launch(tmp_path, stub_server, environment)
    one_line_error(result, 69, "TEMPORAL_SERVER_BINARY")


NO_AWS = {
    "AWS_CONFIG_FILE": "/nonexistent/config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.mark.parametrize("delivery", ["static", "command"])
def test_iam_without_credentials_is_one_line(tmp_path: Path, stub_server: Path, delivery: str) -> None:
    environment = (
        POSTGRES
        | NO_AWS
        | {
            "TEMPORAL_SQL_PASSWORD": "",
            "TEMPORAL_SQL_AUTH_METHOD": "iam",
            "TEMPORAL_SQL_PASSWORD_DELIVERY": delivery,
            "AWS_REGION": "eu-west-1",
        }
    )
    result, _, report = launch(tmp_path, stub_server, environment)
    one_line_error(result, 78, "credentials")
    assert report is None


def test_iam_with_credentials_renders_a_command_that_prints_a_token(
    tmp_path: Path, stub_server: Path
) -> None:
    environment = (
        POSTGRES
        | NO_AWS
        | {
            "TEMPORAL_SQL_PASSWORD": "",
            "TEMPORAL_SQL_HOST": DSQL_HOST,
            "TEMPORAL_SQL_PLUGIN_NAME": "postgres12_pgx",
            "TEMPORAL_SQL_USER": "admin",
            "TEMPORAL_SQL_DATABASE": "postgres",
            "TEMPORAL_SQL_AUTH_METHOD": "iam",
            "TEMPORAL_VISIBILITY_STORE": "sql",
            "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        }
    )
    _, _, report = launch_ok(tmp_path, stub_server, environment)
    command = parse_yaml(report["config"])["persistence"]["datastores"]["default"]["sql"]["passwordCommand"]
    token = subprocess.run(
        [command["command"], *command["args"]],
        env=report["environment"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert token.startswith(f"{DSQL_HOST}/?Action=DbConnectAdmin&")
    assert stat.S_IMODE((tmp_path / "run" / "token-cache").stat().st_mode) == 0o700
    assert "AKIAIOSFODNN7EXAMPLE" not in json.dumps(report["argv"])


def test_a_server_without_password_command_is_refused(tmp_path: Path, stub_server: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("pw\n")
    environment = POSTGRES | {
        "TEMPORAL_SQL_PASSWORD": "",
        "TEMPORAL_SQL_PASSWORD_FILE": str(secret),
        "TEMPORAL_SQL_PASSWORD_DELIVERY": "command",
        "STUB_VERSION": "1.31.4",
    }
    result, _, report = launch(tmp_path, stub_server, environment)
    one_line_error(result, 78, "TEMPORAL_SQL_PASSWORD_DELIVERY")
    assert "1.31.4" in result.stderr and report is None


def test_bad_settings_stop_before_anything_is_written(tmp_path: Path, stub_server: Path) -> None:
    result, _, report = launch(
        tmp_path, stub_server, {"TEMPORAL_SQL_PLUGIN_NAME": "sqlite", "TEMPORAL_SQL_PORT": "x"}
    )
    one_line_error(result, 78, "TEMPORAL_SQL_PORT")
    assert report is None and not (tmp_path / "run").exists()


def test_a_runtime_dir_others_can_write_is_refused(tmp_path: Path, stub_server: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    environment = {"TEMPORAL_SQL_PLUGIN_NAME": "sqlite", "TEMPORAL_RUNTIME_DIR": str(shared)}
    result, _, report = launch(tmp_path, stub_server, environment)
    one_line_error(result, 78, "TEMPORAL_RUNTIME_DIR")
    assert "writable by group or others" in result.stderr and report is None


def test_a_runtime_dir_that_is_a_symbolic_link_is_refused(tmp_path: Path, stub_server: Path) -> None:
    (tmp_path / "real").mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    environment = {"TEMPORAL_SQL_PLUGIN_NAME": "sqlite", "TEMPORAL_RUNTIME_DIR": str(tmp_path / "link")}
    result, _, report = launch(tmp_path, stub_server, environment)
    one_line_error(result, 78, "TEMPORAL_RUNTIME_DIR")
    assert report is None


def test_start_checks_ports_of_the_services_it_is_asked_for(tmp_path: Path, stub_server: Path) -> None:
    environment = {
        "TEMPORAL_SQL_PLUGIN_NAME": "sqlite",
        "TEMPORAL_SERVICES": "frontend",
        "TEMPORAL_HISTORY_GRPC_PORT": "7233",
    }
    result, _, report = launch(
        tmp_path, stub_server, environment, "--service", "frontend", "--service", "history"
    )
    one_line_error(result, 78, "TEMPORAL_FRONTEND_GRPC_PORT and TEMPORAL_HISTORY_GRPC_PORT")
    assert report is None
