"""`temporal-dsql-render` as a user runs it: the installed console script in a subprocess."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from temporal_dsql_runtime.temporal_config import parse_yaml

RENDER = Path(sys.executable).with_name("temporal-dsql-render")
RUNTIME = Path(sys.executable).with_name("temporal-dsql-runtime")
DSQL_HOST = "abcdefghijklmnopqrstuvwxyz.dsql.eu-west-1.on.aws"


def run(
    args: list[str], environment: dict[str, str], program: Path = RENDER
) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "BIND_ON_IP": "127.0.0.1", **environment}
    return subprocess.run([str(program), *args], env=env, capture_output=True, text=True, timeout=60)


def documents(stdout: str) -> dict[str, dict]:
    found = {}
    for chunk in stdout.split("---\n"):
        header, _, body = chunk.partition("\n")
        assert header.startswith("# service: ")
        found[header.removeprefix("# service: ")] = parse_yaml(body)
    return found


def test_dry_run_with_only_sqlite_prints_all_four_services() -> None:
    result = run(["--dry-run"], {"TEMPORAL_SQL_PLUGIN_NAME": "sqlite"})
    assert result.returncode == 0, result.stderr
    rendered = documents(result.stdout)
    assert list(rendered) == ["frontend", "history", "matching", "worker"]
    for document in rendered.values():
        assert list(document["services"]) == ["frontend", "history", "matching", "worker"]
        assert document["persistence"]["datastores"]["default"]["sql"]["pluginName"] == "sqlite"


def test_dry_run_redacts_every_secret() -> None:
    canary = "CANARY-pw-71c2"
    env = {
        "TEMPORAL_SQL_PLUGIN_NAME": "postgres12",
        "TEMPORAL_SQL_HOST": "db",
        "TEMPORAL_SQL_USER": "u",
        "TEMPORAL_SQL_PASSWORD": canary,
        "TEMPORAL_VISIBILITY_STORE": "opensearch",
        "TEMPORAL_OPENSEARCH_ENDPOINT": "http://search:9200",
        "TEMPORAL_OPENSEARCH_AUTH": "basic",
        "TEMPORAL_OPENSEARCH_USER": "admin",
        "TEMPORAL_OPENSEARCH_PASSWORD": canary + "-os",
    }
    result = run(["--dry-run", "--service", "history"], env)
    assert result.returncode == 0, result.stderr
    assert canary not in result.stdout + result.stderr
    document = documents(result.stdout)["history"]
    assert document["persistence"]["datastores"]["default"]["sql"]["password"] == "<redacted>"
    assert document["persistence"]["datastores"]["visibility"]["elasticsearch"]["password"] == "<redacted>"


def test_dsql_example_renders_region_tls_and_plugin() -> None:
    env = {
        "TEMPORAL_SQL_HOST": DSQL_HOST,
        "TEMPORAL_OPENSEARCH_ENDPOINT": "https://vpc-v.eu-west-1.es.amazonaws.com",
        "TEMPORAL_HISTORY_SQL_MAX_CONNS": "64",
    }
    result = run(["--dry-run"], env)
    assert result.returncode == 0, result.stderr
    rendered = documents(result.stdout)
    sql = rendered["history"]["persistence"]["datastores"]["default"]["sql"]
    assert (sql["pluginName"], sql["tls"]["enabled"], sql["maxConns"]) == ("dsql", True, 64)
    assert rendered["frontend"]["persistence"]["datastores"]["default"]["sql"]["maxConns"] == 20
    signing = rendered["worker"]["persistence"]["datastores"]["visibility"]["elasticsearch"][
        "aws-request-signing"
    ]
    assert signing["region"] == "eu-west-1"


def test_bad_configuration_lists_every_problem_with_exit_78_and_no_traceback() -> None:
    result = run(["--dry-run"], {"TEMPORAL_SQL_PORT": "99999", "TEMPORAL_HISTORY_SHARDS": "abc"})
    assert result.returncode == 78
    lines = result.stderr.strip().splitlines()
    assert sorted(line.split(":")[1].strip() for line in lines) == [
        "TEMPORAL_HISTORY_SHARDS",
        "TEMPORAL_SQL_PORT",
    ]
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_output_dir_writes_private_files_atomically(tmp_path: Path) -> None:
    out = tmp_path / "configs"
    result = run(
        ["--output-dir", str(out), "--service", "frontend", "--service", "worker"],
        {"TEMPORAL_SQL_PLUGIN_NAME": "sqlite"},
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["frontend.yaml", "worker.yaml"]
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert (
            parse_yaml(path.read_text())["persistence"]["datastores"]["default"]["sql"]["pluginName"]
            == "sqlite"
        )


def test_bad_configuration_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "configs"
    result = run(
        ["--output-dir", str(out)], {"TEMPORAL_SQL_PLUGIN_NAME": "sqlite", "TEMPORAL_LOG_LEVEL": "loud"}
    )
    assert result.returncode == 78
    assert not out.exists() or not list(out.iterdir())


def test_check_and_usage_errors() -> None:
    assert run(["--check"], {"TEMPORAL_SQL_PLUGIN_NAME": "sqlite"}).returncode == 0
    assert run(["--check"], {"TEMPORAL_SQL_PLUGIN_NAME": "sqlit"}).returncode == 78
    usage = run([], {"TEMPORAL_SQL_PLUGIN_NAME": "sqlite"})
    assert usage.returncode == 2 and "--dry-run" in usage.stderr


def test_explain_shows_values_and_origins_with_secrets_redacted(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("CANARY-explain\n")
    env_file = tmp_path / ".env"
    env_file.write_text("TEMPORAL_HISTORY_SHARDS=16\n")
    result = run(
        ["--explain", "--env-file", str(env_file)],
        {
            "TEMPORAL_SQL_PLUGIN_NAME": "postgres12",
            "TEMPORAL_SQL_HOST": "db",
            "TEMPORAL_SQL_PASSWORD_FILE": str(secret),
        },
    )
    assert result.returncode == 0, result.stderr
    lines = {line.split(" = ")[0]: line for line in result.stdout.splitlines()}
    assert lines["TEMPORAL_SQL_HOST"] == "TEMPORAL_SQL_HOST = db  (environment)"
    assert lines["TEMPORAL_HISTORY_SHARDS"] == f"TEMPORAL_HISTORY_SHARDS = 16  (env file {env_file})"
    assert lines["TEMPORAL_SQL_PASSWORD"] == f"TEMPORAL_SQL_PASSWORD = <redacted>  (file {secret})"
    assert lines["TEMPORAL_SQL_PORT"] == "TEMPORAL_SQL_PORT = 5432  (default)"
    assert lines["TEMPORAL_SQL_DATABASE"] == "TEMPORAL_SQL_DATABASE = temporal  (derived from other settings)"
    assert "CANARY" not in result.stdout + result.stderr


def test_variables_lists_every_setting_with_type_default_and_description() -> None:
    result = run(["variables"], {}, program=RUNTIME)
    assert result.returncode == 0, result.stderr
    assert (
        "TEMPORAL_SQL_PORT" in result.stdout
        and "Accepts an integer from 1 to 65535. Default: 5432." in result.stdout
    )
    assert "DSQL_RESERVOIR_ENABLED" in result.stdout and "BIND_ON_IP" in result.stdout


def test_an_output_dir_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run(["--output-dir", str(blocker / "sub")], {"TEMPORAL_SQL_PLUGIN_NAME": "sqlite"})
    assert result.returncode == 78
    assert result.stderr.startswith("error: --output-dir: cannot write") and "Traceback" not in result.stderr


def test_bytes_that_are_not_utf8_are_refused(tmp_path: Path) -> None:
    environment = {
        b"PATH": os.environb[b"PATH"],
        b"BIND_ON_IP": b"127.0.0.1",
        b"TEMPORAL_SQL_PLUGIN_NAME": b"sqlite",
    }
    environment[b"TEMPORAL_SQL_DATABASE"] = b"caf\xe9.db"
    result = subprocess.run([str(RENDER), "--check"], env=environment, capture_output=True, text=True)  # type: ignore[arg-type]
    assert result.returncode == 78
    assert "TEMPORAL_SQL_DATABASE: holds bytes that are not UTF-8" in result.stderr
