"""Settings, render and schema follow what the DSQL fork really does (issue 11, cases 1, 2, 3, 5 and 6).

Each test here failed before the change: the fork's behaviour is in FACTS.md's fork section.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from schema_support import add_login, invoke, postgres_environment, settings_for, write_tls_files
from support.postgres import running_postgres
from temporal_dsql_runtime.connect import connection_options, database_password
from temporal_dsql_runtime.doctor import run_doctor
from temporal_dsql_runtime.errors import ConfigError
from temporal_dsql_runtime.loading import load_settings
from temporal_dsql_runtime.schema.tasks import resolve_target
from temporal_dsql_runtime.temporal_config import parse_yaml

RENDER = Path(sys.executable).with_name("temporal-dsql-render")
RUNTIME = Path(sys.executable).with_name("temporal-dsql-runtime")
DSQL_HOST = "abcdefghijklmnopqrstuvwxyz.dsql.eu-west-1.on.aws"
DSQL = {"TEMPORAL_SQL_HOST": DSQL_HOST, "TEMPORAL_OPENSEARCH_ENDPOINT": "https://search.example.com:443"}
STATIC_KEYS = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "example-secret-key"}


def run(program: Path, args: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "BIND_ON_IP": "127.0.0.1", **environment}
    return subprocess.run([str(program), *args], env=env, capture_output=True, text=True, timeout=60)


def warnings_of(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [
        line.removeprefix("warning: ") for line in result.stderr.splitlines() if line.startswith("warning: ")
    ]


# --- 1. visibility cannot live in DSQL -------------------------------------------------------------


def test_sql_visibility_in_dsql_is_one_line_naming_the_variable() -> None:
    result = run(RENDER, ["--check"], DSQL | {"TEMPORAL_VISIBILITY_STORE": "sql"})
    assert result.returncode == 78, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: TEMPORAL_VISIBILITY_STORE: "), lines
    assert "TEMPORAL_VISIBILITY_SQL_HOST" in lines[0]


def test_the_doctor_fails_on_visibility_in_dsql_before_reaching_anything() -> None:
    result = run(RUNTIME, ["doctor"], DSQL | {"TEMPORAL_VISIBILITY_STORE": "sql"})
    assert result.returncode == 78
    assert result.stderr.startswith("error: TEMPORAL_VISIBILITY_STORE: ")


def test_visibility_gets_its_own_postgresql_beside_dsql() -> None:
    environment = DSQL | {
        "TEMPORAL_VISIBILITY_STORE": "sql",
        "TEMPORAL_VISIBILITY_SQL_HOST": "visibility.internal",
        "TEMPORAL_VISIBILITY_SQL_PORT": "5433",
        "TEMPORAL_VISIBILITY_SQL_USER": "vis",
        "TEMPORAL_VISIBILITY_SQL_PASSWORD": "CANARY-vis-pw",
        "TEMPORAL_VISIBILITY_SQL_TLS_ENABLED": "true",
    }
    result = run(RENDER, ["--dry-run", "--service", "history"], environment)
    assert result.returncode == 0, result.stderr
    document = parse_yaml(result.stdout.partition("\n")[2])
    stores = document["persistence"]["datastores"]
    default, visibility = stores["default"]["sql"], stores["visibility"]["sql"]
    assert (default["pluginName"], default["connectAddr"], default["databaseName"]) == (
        "dsql",
        f"{DSQL_HOST}:5432",
        "postgres",
    )
    assert visibility["pluginName"] == "postgres12"
    assert visibility["connectAddr"] == "visibility.internal:5433"
    assert (visibility["databaseName"], visibility["user"]) == ("temporal_visibility", "vis")
    assert visibility["password"] == "<redacted>" and "CANARY" not in result.stdout
    assert visibility["tls"]["enabled"] is True


# --- 2. auth settings the fork ignores --------------------------------------------------------------


def test_a_user_other_than_admin_is_a_warning_with_the_dsql_plugin() -> None:
    result = run(RENDER, ["--check"], DSQL | {"TEMPORAL_SQL_USER": "bob"})
    assert result.returncode == 0, result.stderr
    assert warnings_of(result) == [
        "TEMPORAL_SQL_USER: bob is ignored by the dsql plugin, which connects as admin"
    ]


def test_iam_with_the_dsql_plugin_warns_it_is_ignored_not_about_an_expiry_that_does_not_apply() -> None:
    result = run(
        RENDER,
        ["--check"],
        DSQL | {"TEMPORAL_SQL_AUTH_METHOD": "iam", "TEMPORAL_SQL_PASSWORD_DELIVERY": "static"},
    )
    assert result.returncode == 0, result.stderr
    found = warnings_of(result)
    assert len(found) == 1 and found[0].startswith(
        "TEMPORAL_SQL_AUTH_METHOD: iam is ignored by the dsql plugin"
    )


def test_the_doctor_logs_in_as_the_plugin_does_admin_with_a_db_connect_admin_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in STATIC_KEYS.items():  # botocore's credential chain reads the process environment
        monkeypatch.setenv(name, value)
    settings = load_settings(DSQL | {"TEMPORAL_SQL_USER": "bob"})
    assert connection_options(settings)["user"] == "admin"
    password = database_password(settings)
    assert password is not None
    token = urlsplit("https://" + password.get_secret_value())
    assert token.hostname == DSQL_HOST
    assert parse_qs(token.query)["Action"] == ["DbConnectAdmin"]


def test_the_doctor_ignores_the_server_name_as_the_plugin_does_and_keeps_its_sslmode(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not read here")
    plugin = load_settings(
        DSQL
        | {"TEMPORAL_SQL_SERVER_NAME": "other.example", "TEMPORAL_SQL_TLS_ENABLE_HOST_VERIFICATION": "false"}
    )
    options = connection_options(plugin)
    assert options["host"] == DSQL_HOST and "hostaddr" not in options
    assert options["sslmode"] == "require"
    system = load_settings(DSQL | {"SSL_CERT_FILE": str(ca)})
    options = connection_options(system)
    assert (options["sslmode"], options["sslrootcert"]) == ("verify-full", str(ca))


# --- 3. the fork's knob ranges -------------------------------------------------------------------------


@pytest.mark.parametrize("duration", ["14s", "16m", "1h"])
def test_token_duration_outside_the_forks_15s_to_15m_is_refused(duration: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(DSQL | {"DSQL_TOKEN_DURATION": duration})
    (problem,) = raised.value.problems
    assert problem.startswith("DSQL_TOKEN_DURATION: ") and "15s to 15m" in problem


@pytest.mark.parametrize("duration", ["15s", "15m", "900s"])
def test_token_duration_inside_the_forks_range_is_exported(duration: str) -> None:
    assert (
        load_settings(DSQL | {"DSQL_TOKEN_DURATION": duration}).dsql_plugin_environment()[
            "DSQL_TOKEN_DURATION"
        ]
        == duration
    )


def test_knob_values_that_stop_the_fork_are_refused_and_dynamodb_table_names_accepted() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(DSQL | {"DSQL_POOL_KEEPER_TICK_INTERVAL": "0s"})
    assert raised.value.problems[0].startswith("DSQL_POOL_KEEPER_TICK_INTERVAL: ")
    settings = load_settings(
        DSQL
        | {
            "DSQL_DISTRIBUTED_RATE_LIMITER_ENABLED": "true",
            "DSQL_DISTRIBUTED_RATE_LIMITER_TABLE": "temporal-dsql.rate-limiter",
        }
    )
    assert (
        settings.dsql_plugin_environment()["DSQL_DISTRIBUTED_RATE_LIMITER_TABLE"]
        == "temporal-dsql.rate-limiter"
    )


def test_the_lease_gets_aws_region_which_it_reads_instead_of_region() -> None:
    lease = {
        "DSQL_RESERVOIR_ENABLED": "true",
        "DSQL_DISTRIBUTED_CONN_LEASE_ENABLED": "true",
        "DSQL_DISTRIBUTED_CONN_LEASE_TABLE": "temporal-dsql-leases",
    }
    exported = load_settings(DSQL | lease).dsql_plugin_environment()
    assert (exported["REGION"], exported["AWS_REGION"]) == ("eu-west-1", "eu-west-1")
    assert "AWS_REGION" not in load_settings(DSQL).dsql_plugin_environment()


def test_knobs_the_fork_would_not_read_are_warned_about() -> None:
    result = run(RENDER, ["--check"], DSQL | {"DSQL_RESERVOIR_TARGET_READY": "10"})
    assert warnings_of(result) == [
        "DSQL_RESERVOIR_TARGET_READY: ignored by the fork while DSQL_RESERVOIR_ENABLED is not true"
    ]


# --- 5. the schema tree follows the plugin ----------------------------------------------------------


def test_the_schema_tree_follows_the_plugin_not_the_dialect(tmp_path: Path) -> None:
    settings = load_settings(DSQL | {"TEMPORAL_SCHEMA_ROOT": str(tmp_path)})
    for dialect in ("dsql", "postgres", None):
        target = resolve_target(settings, dialect=dialect)  # type: ignore[arg-type]
        assert target.schema_dir == tmp_path / "dsql" / "temporal" / "versioned"
    pg = load_settings(DSQL | {"TEMPORAL_SQL_PLUGIN_NAME": "postgres12", "TEMPORAL_SQL_AUTH_METHOD": "iam"})
    assert resolve_target(pg, dialect="dsql").schema_dir.parts[-4:] == (
        "postgresql",
        "v12",
        "temporal",
        "versioned",
    )


# --- 6. names nothing reads -----------------------------------------------------------------------------


def test_misspelt_names_are_warnings_with_the_closest_known_name() -> None:
    result = run(
        RENDER,
        ["--check"],
        DSQL
        | {
            "TEMPORAL_SQL_TLS_CA_FILE": "/ca.pem",
            "DSQL_TOKEN_DURATON": "10m",
            "CLUSTER_ENDPOINTS": DSQL_HOST,
            "TEMPORAL_ADDRESS": "127.0.0.1:7233",
            "UNRELATED_NAME": "x",
        },
    )
    assert result.returncode == 0, result.stderr
    assert warnings_of(result) == [
        "CLUSTER_ENDPOINTS: not a setting; nothing reads it; did you mean CLUSTER_ENDPOINT?",
        "DSQL_TOKEN_DURATON: not a setting; nothing reads it; did you mean DSQL_TOKEN_DURATION?",
        "TEMPORAL_SQL_TLS_CA_FILE: not a setting; nothing reads it; did you mean TEMPORAL_SQL_CA_FILE?",
    ]


def versioned_schema(directory: Path, *versions: str) -> Path:
    """A schema directory with one tiny table per version."""
    for version in versions:
        folder = directory / f"v{version}"
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text(
            f'{{"CurrVersion": "{version}", "MinCompatibleVersion": "1.0", "Description": "v{version}", '
            '"SchemaUpdateCqlFiles": ["change.sql"]}'
        )
        (folder / "change.sql").write_text(f"CREATE TABLE t_{version.replace('.', '_')} (id INT);\n")
    return directory


def test_a_database_ahead_of_the_schema_directory_is_an_error(tmp_path: Path) -> None:
    newer = versioned_schema(tmp_path / "newer", "1.0", "1.19")
    older = versioned_schema(tmp_path / "older", "1.0", "1.1")
    with running_postgres() as server:
        add_login(server)
        environment = postgres_environment(server, database="ahead")
        setup = invoke(["schema", "setup", "--schema-dir", str(newer)], environment)
        assert setup.exit_code == 0, setup.output
        for command in ("version", "update", "setup"):
            result = invoke(["schema", command, "--schema-dir", str(older)], environment)
            assert result.exit_code == 78, result.output
            assert result.output.strip() == (
                f"error: database ahead is at version 1.19, newer than the newest in {older} (1.1): that "
                "directory is not the schema this database has; check --schema-dir and TEMPORAL_SQL_PLUGIN_NAME"
            )
        report = run_doctor(settings_for(environment), schema_dir=older, timeout=10)
        schema = next(check for check in report.checks if check.name == "schema")
        assert (schema.status, schema.exit_code) == ("fail", 78)
        assert "newer than the newest" in schema.detail


# --- PrivateLink: what AWS documents for the connection endpoint's own DNS name -----------------------------

VPC_HOST = "vpce-0c1d2e3f4a5b60718-4xq2rz7k.dsql-fnh4.eu-west-1.vpce.amazonaws.com"
VPC = DSQL | {
    "TEMPORAL_SQL_HOST": VPC_HOST,
    "CLUSTER_ENDPOINT": DSQL_HOST,
    "TEMPORAL_SQL_TLS_ENABLE_HOST_VERIFICATION": "false",
}


def test_a_vpc_endpoint_name_needs_the_cluster_endpoint_and_no_verify_full() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(DSQL | {"TEMPORAL_SQL_HOST": VPC_HOST})
    assert [problem.split(":")[0] for problem in raised.value.problems] == [
        "CLUSTER_ENDPOINT",
        "TEMPORAL_SQL_TLS_ENABLE_HOST_VERIFICATION",
    ]


def test_through_a_vpc_endpoint_name_the_token_is_for_the_cluster_which_is_named_by_option(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in STATIC_KEYS.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(VPC)
    options = connection_options(settings)
    assert (options["host"], options["sslmode"]) == (VPC_HOST, "require")
    assert options["options"] == "-c amzn-cluster-id=abcdefghijklmnopqrstuvwxyz"
    password = database_password(settings)
    assert password is not None and urlsplit("https://" + password.get_secret_value()).hostname == DSQL_HOST
    assert settings.dsql_plugin_environment()["CLUSTER_ENDPOINT"] == DSQL_HOST
    result = run(RENDER, ["--dry-run", "--service", "frontend"], VPC)
    assert result.returncode == 0, result.stderr
    store = parse_yaml(result.stdout.partition("\n")[2])["persistence"]["datastores"]["default"]["sql"]
    assert store["connectAddr"] == f"{VPC_HOST}:5432"
    assert store["connectAttributes"] == {"options": "-c amzn-cluster-id=abcdefghijklmnopqrstuvwxyz"}
    assert store["tls"]["enableHostVerification"] is False


def test_the_doctor_trusts_ssl_cert_file_and_logs_in_as_admin_like_the_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PostgreSQL with TLS stands in for DSQL (it takes any password, as the fork's token is not checkable
    here): the CA reaches the doctor only through SSL_CERT_FILE, and TEMPORAL_SQL_USER=bob is not used."""
    for name, value in STATIC_KEYS.items():
        monkeypatch.setenv(name, value)
    tls = write_tls_files(tmp_path / "tls")
    other = write_tls_files(tmp_path / "other", common_name="other-ca")
    with running_postgres(ssl_files=(tls.cert, tls.key), scram=False) as standin:
        standin.execute("CREATE ROLE admin LOGIN")
        environment = {
            "TEMPORAL_SQL_HOST": "localhost",
            "TEMPORAL_SQL_PORT": str(standin.port),
            "TEMPORAL_SQL_REGION": "eu-west-1",
            "TEMPORAL_SQL_USER": "bob",
            "TEMPORAL_OPENSEARCH_ENDPOINT": "https://search.example.com:443",
            "SSL_CERT_FILE": str(tls.ca),
        }
        report = run_doctor(load_settings(environment), timeout=10)
        by_name = {check.name: check for check in report.checks}
        assert by_name["tls"].status == "pass", by_name["tls"]
        assert f"SSL_CERT_FILE ({tls.ca})" in by_name["tls"].detail
        assert by_name["auth"].status == "pass", by_name["auth"]
        assert by_name["auth"].detail.startswith("logged in as admin to database postgres")
        untrusted = run_doctor(load_settings(environment | {"SSL_CERT_FILE": str(other.ca)}), timeout=10)
        assert untrusted.first_failure is not None and untrusted.first_failure.name == "tls"
