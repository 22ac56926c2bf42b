"""The settings model: defaults, derived values, and one test per validation rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from temporal_dsql_runtime.errors import ConfigError
from temporal_dsql_runtime.loading import load_settings

DSQL_HOST = "abcdefghijklmnopqrstuvwxyz.dsql.eu-west-1.on.aws"
DSQL = {"TEMPORAL_SQL_HOST": DSQL_HOST, "TEMPORAL_OPENSEARCH_ENDPOINT": "https://search.example.com:443"}
PG = {"TEMPORAL_SQL_PLUGIN_NAME": "postgres12", "TEMPORAL_SQL_HOST": "db.internal", "TEMPORAL_SQL_USER": "t"}


def problems(environment: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_settings(environment)
    return list(raised.value.problems)


def only_problem(environment: dict[str, str]) -> str:
    found = problems(environment)
    assert len(found) == 1, found
    return found[0]


def test_sqlite_needs_nothing_else() -> None:
    settings = load_settings({"TEMPORAL_SQL_PLUGIN_NAME": "sqlite"})
    assert settings.sql_database == "temporal.db"
    assert settings.visibility_store == "sqlite"
    assert settings.services == ("frontend", "history", "matching", "worker")


def test_dsql_defaults_come_from_the_host() -> None:
    settings = load_settings(DSQL)
    assert settings.sql_plugin_name == "dsql"
    assert settings.sql_region == "eu-west-1"
    assert settings.sql_tls_enabled is True
    assert settings.sql_auth_method == "plugin"
    assert settings.sql_database == "postgres" and settings.sql_user == "admin"
    assert settings.visibility_store == "opensearch"
    assert settings.dsql_plugin_environment() == {"CLUSTER_ENDPOINT": DSQL_HOST, "REGION": "eu-west-1"}


def test_region_falls_back_to_aws_region() -> None:
    settings = load_settings(PG | {"TEMPORAL_SQL_AUTH_METHOD": "iam", "AWS_REGION": "us-east-2"})
    assert settings.sql_region == "us-east-2"
    assert (
        load_settings(PG | {"AWS_REGION": "us-east-2", "TEMPORAL_SQL_REGION": "eu-north-1"}).sql_region
        == "eu-north-1"
    )


def test_region_that_contradicts_the_dsql_host_is_rejected() -> None:
    assert "TEMPORAL_SQL_REGION" in only_problem(DSQL | {"TEMPORAL_SQL_REGION": "us-east-1"})


def test_plugin_knobs_are_typed_and_exported() -> None:
    settings = load_settings(
        DSQL
        | {"DSQL_CONNECTION_RATE_LIMIT": "50", "DSQL_RESERVOIR_ENABLED": "TRUE", "DSQL_TOKEN_DURATION": "10m"}
    )
    exported = settings.dsql_plugin_environment()
    assert exported["DSQL_CONNECTION_RATE_LIMIT"] == "50"
    assert exported["DSQL_RESERVOIR_ENABLED"] == "true"
    assert exported["DSQL_TOKEN_DURATION"] == "10m"
    assert "DSQL_CONNECTION_RATE_LIMIT" in only_problem(DSQL | {"DSQL_CONNECTION_RATE_LIMIT": "500"})
    from temporal_dsql_runtime.rules import warnings

    raised_target = load_settings(
        DSQL
        | {
            "DSQL_RESERVOIR_ENABLED": "true",
            "DSQL_RESERVOIR_TARGET_READY": "5",
            "DSQL_RESERVOIR_LOW_WATERMARK": "9",
        }
    )
    assert warnings(raised_target) == [
        "DSQL_RESERVOIR_LOW_WATERMARK: 9 exceeds DSQL_RESERVOIR_TARGET_READY (5); the fork raises the target to match"
    ]


# Each bad input of the old entrypoint (FACTS.md, last section) and more: one line naming the variable.
BAD_INPUTS = [
    ({"TEMPORAL_HISTORY_SHARDS": "abc"}, "TEMPORAL_HISTORY_SHARDS"),
    ({"TEMPORAL_HISTORY_SHARDS": "0"}, "TEMPORAL_HISTORY_SHARDS"),
    ({"TEMPORAL_SQL_PORT": "99999"}, "TEMPORAL_SQL_PORT"),
    ({"TEMPORAL_SQL_MAX_CONN_LIFETIME": "2h"}, "TEMPORAL_SQL_MAX_CONN_LIFETIME"),
    ({"TEMPORAL_SQL_MAX_CONN_LIFETIME": "1h"}, "TEMPORAL_SQL_MAX_CONN_LIFETIME"),
    ({"TEMPORAL_SQL_MAX_CONN_LIFETIME": "forever"}, "TEMPORAL_SQL_MAX_CONN_LIFETIME"),
    ({"TEMPORAL_SQL_TLS_ENABLED": "maybe"}, "TEMPORAL_SQL_TLS_ENABLED"),
    ({"TEMPORAL_SQL_PLUGIN_NAME": "dsqll"}, "TEMPORAL_SQL_PLUGIN_NAME"),
    ({"TEMPORAL_OPENSEARCH_INDEX": "temporal\nsql:\n  user: root"}, "TEMPORAL_OPENSEARCH_INDEX"),
    ({"TEMPORAL_OPENSEARCH_INDEX": "Temporal Visibility"}, "TEMPORAL_OPENSEARCH_INDEX"),
    ({"TEMPORAL_OPENSEARCH_ENDPOINT": "search.example.com:443"}, "TEMPORAL_OPENSEARCH_ENDPOINT"),
    ({"TEMPORAL_OPENSEARCH_VERSION": "v9"}, "TEMPORAL_OPENSEARCH_VERSION"),
    ({"TEMPORAL_OPENSEARCH_AUTH": "sigv4"}, "TEMPORAL_OPENSEARCH_AUTH"),
    ({"TEMPORAL_SERVICES": "frontend,histroy"}, "TEMPORAL_SERVICES"),
    ({"TEMPORAL_SERVICES": "frontend,frontend"}, "TEMPORAL_SERVICES"),
    ({"TEMPORAL_SQL_CONNECT_ATTRIBUTES": "sslmode=require,broken"}, "TEMPORAL_SQL_CONNECT_ATTRIBUTES"),
    ({"TEMPORAL_SQL_MAX_IDLE_CONNS": "50"}, "TEMPORAL_SQL_MAX_IDLE_CONNS"),
    ({"TEMPORAL_SQL_TLS_ENABLED": "false"}, "TEMPORAL_SQL_TLS_ENABLED"),
    ({"TEMPORAL_SQL_IAM_TOKEN_TTL": "604801"}, "TEMPORAL_SQL_IAM_TOKEN_TTL"),
    ({"TEMPORAL_HISTORY_GRPC_PORT": "7233"}, "TEMPORAL_FRONTEND_GRPC_PORT and TEMPORAL_HISTORY_GRPC_PORT"),
    ({"TEMPORAL_SQL_HOST": "db.example.com; rm -rf /"}, "TEMPORAL_SQL_HOST"),
    ({"TEMPORAL_PROMETHEUS_LISTEN_ADDRESS": "0.0.0.0"}, "TEMPORAL_PROMETHEUS_LISTEN_ADDRESS"),
    ({"TEMPORAL_SQL_DATABASE": "temporal"}, "TEMPORAL_SQL_DATABASE"),
    ({"TEMPORAL_LOG_LEVEL": "verbose"}, "TEMPORAL_LOG_LEVEL"),
    ({"TEMPORAL_SQL_HOST": "db.example.com:5432"}, "TEMPORAL_SQL_HOST"),
    ({"TEMPORAL_SQL_HOST": "a..b"}, "TEMPORAL_SQL_HOST"),
    ({"TEMPORAL_SQL_HOST": "a" * 64 + ".example.com"}, "TEMPORAL_SQL_HOST"),
    ({"BIND_ON_IP": "myhost"}, "BIND_ON_IP"),
    ({"TEMPORAL_BROADCAST_ADDRESS": "10.0.0.300"}, "TEMPORAL_BROADCAST_ADDRESS"),
    ({"POD_IP": "pod"}, "POD_IP"),
    ({"TEMPORAL_OPENSEARCH_ENDPOINT": "https://search.example:99999"}, "TEMPORAL_OPENSEARCH_ENDPOINT"),
    ({"TEMPORAL_OPENSEARCH_ENDPOINT": "https://search.example/index"}, "TEMPORAL_OPENSEARCH_ENDPOINT"),
    ({"TEMPORAL_OPENSEARCH_ENDPOINT": "ftp://search.example"}, "TEMPORAL_OPENSEARCH_ENDPOINT"),
    ({"TEMPORAL_OPENSEARCH_ENDPOINT": "https://[x"}, "TEMPORAL_OPENSEARCH_ENDPOINT"),
    ({"TEMPORAL_SQL_USER": "bad\udcffbyte"}, "TEMPORAL_SQL_USER"),
]


@pytest.mark.parametrize(("change", "variable"), BAD_INPUTS, ids=[v for _, v in BAD_INPUTS])
def test_bad_input_is_one_line_naming_the_variable(change: dict[str, str], variable: str) -> None:
    problem = only_problem(DSQL | change)
    assert problem.startswith(variable + ":"), problem
    assert "\n" not in problem


def test_every_problem_is_reported_not_just_the_first() -> None:
    found = problems(
        {"TEMPORAL_SQL_PORT": "0", "TEMPORAL_HISTORY_SHARDS": "x", "TEMPORAL_SQL_PLUGIN_NAME": "mysql"}
    )
    assert sorted(p.split(":")[0] for p in found) == [
        "TEMPORAL_HISTORY_SHARDS",
        "TEMPORAL_SQL_PLUGIN_NAME",
        "TEMPORAL_SQL_PORT",
    ]


def test_dsql_tls_can_be_turned_off_only_loudly() -> None:
    settings = load_settings(
        DSQL | {"TEMPORAL_SQL_TLS_ENABLED": "false", "TEMPORAL_SQL_ALLOW_INSECURE_DSQL": "true"}
    )
    assert settings.sql_tls_enabled is False
    from temporal_dsql_runtime.rules import warnings

    assert any("TLS to DSQL is OFF" in w for w in warnings(settings))


def test_host_is_required_for_database_servers() -> None:
    assert only_problem({"TEMPORAL_SQL_PLUGIN_NAME": "postgres12"}).startswith("TEMPORAL_SQL_HOST:")


def test_lifetime_limit_applies_only_to_dsql() -> None:
    assert load_settings(PG | {"TEMPORAL_SQL_MAX_CONN_LIFETIME": "2h"}).sql_max_conn_lifetime.seconds == 7200


def test_per_service_pools_override_and_are_checked() -> None:
    settings = load_settings(
        DSQL | {"TEMPORAL_HISTORY_SQL_MAX_CONNS": "64", "TEMPORAL_MATCHING_SQL_MAX_CONNS": "8"}
    )
    assert (
        settings.max_conns("history"),
        settings.max_conns("matching"),
        settings.max_conns("frontend"),
    ) == (64, 8, 20)
    assert settings.max_idle_conns("matching") == 8
    problem = only_problem(
        DSQL | {"TEMPORAL_WORKER_SQL_MAX_CONNS": "4", "TEMPORAL_WORKER_SQL_MAX_IDLE_CONNS": "5"}
    )
    assert problem.startswith("TEMPORAL_WORKER_SQL_MAX_IDLE_CONNS:")


def test_connection_budget_counts_replicas_and_pools() -> None:
    fits = DSQL | {
        "TEMPORAL_SQL_MAX_CONNS": "100",
        "TEMPORAL_SQL_MAX_IDLE_CONNS": "10",
        "TEMPORAL_HISTORY_REPLICAS": "97",
    }
    load_settings(fits)  # (97 + 1 + 1 + 1) x 100 = 10,000: exactly the limit
    problem = only_problem(fits | {"TEMPORAL_HISTORY_REPLICAS": "98"})
    assert problem.startswith("TEMPORAL_SQL_MAX_CONNS:") and "10100" in problem
    load_settings(
        fits | {"TEMPORAL_HISTORY_REPLICAS": "98", "TEMPORAL_DSQL_CLUSTER_CONNECTION_LIMIT": "20000"}
    )


def test_secret_file_is_read_with_one_trailing_newline_stripped(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("line-one\n\n")
    settings = load_settings(PG | {"TEMPORAL_SQL_PASSWORD_FILE": str(secret)})
    assert settings.sql_password is not None
    assert settings.sql_password.get_secret_value() == "line-one\n"
    secret.write_text("crlf\r\n")
    settings = load_settings(PG | {"TEMPORAL_SQL_PASSWORD_FILE": str(secret)})
    assert settings.sql_password is not None and settings.sql_password.get_secret_value() == "crlf"


@pytest.mark.parametrize("content", [None, "", "\n"], ids=["missing", "empty", "only-newline"])
def test_bad_secret_files_are_errors(tmp_path: Path, content: str | None) -> None:
    secret = tmp_path / "pw"
    if content is not None:
        secret.write_text(content)
    problem = only_problem(PG | {"TEMPORAL_SQL_PASSWORD_FILE": str(secret)})
    assert problem.startswith("TEMPORAL_SQL_PASSWORD_FILE:")


def test_unreadable_secret_file_is_an_error(tmp_path: Path) -> None:
    problem = only_problem(PG | {"TEMPORAL_SQL_PASSWORD_FILE": str(tmp_path)})
    assert problem.startswith("TEMPORAL_SQL_PASSWORD_FILE:")


def test_file_and_plain_secret_together_are_rejected(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("x")
    problem = only_problem(PG | {"TEMPORAL_SQL_PASSWORD_FILE": str(secret), "TEMPORAL_SQL_PASSWORD": "y"})
    assert problem.startswith("TEMPORAL_SQL_PASSWORD and TEMPORAL_SQL_PASSWORD_FILE:")


def test_secret_values_never_appear_in_errors(tmp_path: Path) -> None:
    canary = "CANARY-9f1c-secret"
    found = problems(
        PG | {"TEMPORAL_SQL_PASSWORD": canary, "TEMPORAL_SQL_AUTH_METHOD": "iam", "TEMPORAL_SQL_PORT": "x"}
    )
    assert found and all(canary not in p for p in found)
    found = problems(PG | {"TEMPORAL_SQL_PASSWORD": canary, "TEMPORAL_SQL_AUTH_METHOD": "iam"})
    assert found and all(canary not in p for p in found)


def test_env_file_is_read_under_the_environment(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("TEMPORAL_SQL_PLUGIN_NAME=sqlite\nTEMPORAL_HISTORY_SHARDS=8\n")
    settings = load_settings({"TEMPORAL_HISTORY_SHARDS": "16"}, env_file)
    assert settings.sql_plugin_name == "sqlite" and settings.history_shards == 16


def test_empty_values_count_as_unset() -> None:
    assert load_settings({"TEMPORAL_SQL_PLUGIN_NAME": "sqlite", "TEMPORAL_SQL_PORT": ""}).sql_port == 5432


def test_legacy_elasticsearch_variables_still_work() -> None:
    settings = load_settings(
        {
            "TEMPORAL_SQL_HOST": DSQL_HOST,
            "TEMPORAL_ELASTICSEARCH_HOST": "search.internal",
            "TEMPORAL_ELASTICSEARCH_PORT": "9201",
            "TEMPORAL_ELASTICSEARCH_SCHEME": "https",
            "TEMPORAL_ELASTICSEARCH_VERSION": "v8",
            "TEMPORAL_ELASTICSEARCH_INDEX": "legacy_index",
        }
    )
    assert settings.opensearch_endpoint == "https://search.internal:9201"
    assert (settings.opensearch_version, settings.opensearch_index) == ("v8", "legacy_index")
    both = DSQL | {"TEMPORAL_ELASTICSEARCH_HOST": "search.internal"}
    assert only_problem(both).startswith("TEMPORAL_ELASTICSEARCH_HOST:")


def test_opensearch_auth_rules() -> None:
    aws = load_settings(DSQL | {"TEMPORAL_OPENSEARCH_ENDPOINT": "https://vpc-d.eu-west-1.es.amazonaws.com"})
    assert (aws.opensearch_auth, aws.opensearch_region) == ("aws-sigv4", "eu-west-1")
    assert only_problem(DSQL | {"TEMPORAL_OPENSEARCH_AUTH": "basic"}).startswith("TEMPORAL_OPENSEARCH_AUTH:")
    assert only_problem({"TEMPORAL_SQL_HOST": DSQL_HOST}).startswith("TEMPORAL_OPENSEARCH_ENDPOINT:")


def test_auth_method_rules() -> None:
    assert only_problem(PG | {"TEMPORAL_SQL_AUTH_METHOD": "plugin"}).startswith("TEMPORAL_SQL_AUTH_METHOD:")
    assert only_problem(PG | {"TEMPORAL_SQL_AUTH_METHOD": "iam"}).startswith("TEMPORAL_SQL_REGION:")
    rds = PG | {
        "TEMPORAL_SQL_AUTH_METHOD": "iam",
        "AWS_REGION": "eu-west-1",
        "TEMPORAL_SQL_IAM_TOKEN_TTL": "901",
    }
    assert only_problem(rds).startswith("TEMPORAL_SQL_IAM_TOKEN_TTL:")
    command = PG | {"TEMPORAL_SQL_PASSWORD": "x", "TEMPORAL_SQL_PASSWORD_DELIVERY": "command"}
    assert only_problem(command).startswith("TEMPORAL_SQL_PASSWORD_DELIVERY:")
    iam = load_settings(DSQL | {"TEMPORAL_SQL_AUTH_METHOD": "iam"})
    assert iam.sql_password_delivery == "command"


def test_tls_files_must_exist_and_come_in_pairs(tmp_path: Path) -> None:
    cert = tmp_path / "client.crt"
    cert.write_text("x")
    assert only_problem(DSQL | {"TEMPORAL_SQL_CA_FILE": str(tmp_path / "nope.pem")}).startswith(
        "TEMPORAL_SQL_CA_FILE:"
    )
    assert only_problem(DSQL | {"TEMPORAL_SQL_CERT_FILE": str(cert)}).startswith(
        "TEMPORAL_SQL_CERT_FILE and TEMPORAL_SQL_KEY_FILE:"
    )
    assert only_problem(PG | {"TEMPORAL_SQL_CA_FILE": str(cert)}).startswith("TEMPORAL_SQL_CA_FILE:")


def test_visibility_store_must_match_persistence() -> None:
    assert only_problem(
        {"TEMPORAL_SQL_PLUGIN_NAME": "sqlite", "TEMPORAL_VISIBILITY_STORE": "sql"}
    ).startswith("TEMPORAL_VISIBILITY_STORE:")
    assert only_problem(PG | {"TEMPORAL_VISIBILITY_STORE": "sqlite"}).startswith("TEMPORAL_VISIBILITY_STORE:")


def test_credentials_in_the_opensearch_url_are_refused_without_echoing_them() -> None:
    problem = only_problem(DSQL | {"TEMPORAL_OPENSEARCH_ENDPOINT": "https://admin:S3cret@search.example:443"})
    assert problem.startswith("TEMPORAL_OPENSEARCH_ENDPOINT:") and "TEMPORAL_OPENSEARCH_USER" in problem


def test_ip_literals_and_dns_names_are_hosts() -> None:
    for host in ("10.0.0.1", "fd00::1", "db-1.internal", "db_1.internal.", "x"):
        assert load_settings(PG | {"TEMPORAL_SQL_HOST": host}).sql_host == host
    assert load_settings({"TEMPORAL_SQL_PLUGIN_NAME": "sqlite", "BIND_ON_IP": "::"}).bind_on_ip == "::"


def test_the_default_runtime_dir_belongs_to_this_user() -> None:
    import os

    assert load_settings({"TEMPORAL_SQL_PLUGIN_NAME": "sqlite"}).runtime_dir.name == (
        f"temporal-dsql-runtime-{os.getuid()}"
    )


def test_connection_budget_gives_every_pool_of_a_combined_process_its_largest_size() -> None:
    """Measured (tests/test_connection_budget.py): a process holds one pool per role, all at the largest
    size any of its roles asks for; one all-role replica with matching at 2 holds 8, not 1 + 1 + 2 + 1."""
    combined = DSQL | {
        "TEMPORAL_SQL_MAX_CONNS": "1",
        "TEMPORAL_MATCHING_SQL_MAX_CONNS": "2",
        "TEMPORAL_DSQL_CLUSTER_CONNECTION_LIMIT": "8",
    }
    load_settings(combined)
    problem = only_problem(combined | {"TEMPORAL_DSQL_CLUSTER_CONNECTION_LIMIT": "7"})
    assert problem.startswith("TEMPORAL_SQL_MAX_CONNS:") and "= 8 connections" in problem
    load_settings(combined | {"TEMPORAL_SERVICES": "matching", "TEMPORAL_DSQL_CLUSTER_CONNECTION_LIMIT": "5"})
