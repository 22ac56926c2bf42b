"""How Settings become libpq connection options and a password (or a locally signed IAM token)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from schema_support import invoke, postgres_environment, settings_for
from support.postgres import PostgresServer, running_postgres
from temporal_dsql_runtime.connect import (
    DatabaseMissing,
    connection_options,
    database_password,
    open_connection,
)
from temporal_dsql_runtime.errors import ConfigError

DSQL_HOST = "abcdefghijklmnopqrstuvwxyz.dsql.eu-west-1.on.aws"
DSQL = {"TEMPORAL_SQL_HOST": DSQL_HOST, "TEMPORAL_OPENSEARCH_ENDPOINT": "https://search.example:443"}
POSTGRES = {
    "TEMPORAL_SQL_PLUGIN_NAME": "postgres12",
    "TEMPORAL_SQL_HOST": "127.0.0.1",
    "TEMPORAL_SQL_USER": "t",
}


def test_dsql_verifies_the_server_against_the_system_store_as_admin_on_postgres() -> None:
    options = connection_options(settings_for(DSQL))
    assert options | {"connect_timeout": "-"} == {
        "host": DSQL_HOST,
        "port": "5432",
        "dbname": "postgres",
        "user": "admin",
        "sslmode": "verify-full",
        "sslrootcert": "system",
        "connect_timeout": "-",
        "application_name": "temporal-dsql-runtime",
    }


def test_dsql_password_is_an_admin_token_signed_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    password = database_password(settings_for(DSQL))
    assert password is not None and "****" in str(password)
    token = urlsplit("https://" + password.get_secret_value())
    query = parse_qs(token.query)
    assert token.hostname == DSQL_HOST
    assert query["Action"] == ["DbConnectAdmin"]
    assert query["X-Amz-Credential"][0].startswith("AKIAIOSFODNN7EXAMPLE/")
    assert "/eu-west-1/dsql/aws4_request" in query["X-Amz-Credential"][0]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, {"sslmode": "disable"}),
        ({"TEMPORAL_SQL_TLS_ENABLED": "true"}, {"sslmode": "verify-full", "sslrootcert": "system"}),
        (
            {"TEMPORAL_SQL_TLS_ENABLED": "true", "TEMPORAL_SQL_TLS_ENABLE_HOST_VERIFICATION": "false"},
            {"sslmode": "require"},
        ),
        (
            {"TEMPORAL_SQL_TLS_ENABLED": "true", "TEMPORAL_SQL_CA_FILE": "{ca}"},
            {"sslmode": "verify-full", "sslrootcert": "{ca}"},
        ),
        (
            {
                "TEMPORAL_SQL_TLS_ENABLED": "true",
                "TEMPORAL_SQL_CA_FILE": "{ca}",
                "TEMPORAL_SQL_TLS_ENABLE_HOST_VERIFICATION": "false",
                "TEMPORAL_SQL_CERT_FILE": "{ca}",
                "TEMPORAL_SQL_KEY_FILE": "{ca}",
            },
            {"sslmode": "verify-ca", "sslrootcert": "{ca}", "sslcert": "{ca}", "sslkey": "{ca}"},
        ),
        (
            {"TEMPORAL_SQL_TLS_ENABLED": "true", "TEMPORAL_SQL_SERVER_NAME": "db.internal"},
            {
                "sslmode": "verify-full",
                "sslrootcert": "system",
                "host": "db.internal",
                "hostaddr": "127.0.0.1",
            },
        ),
    ],
)
def test_tls_settings_map_onto_libpq(extra: dict[str, str], expected: dict[str, str], tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    filled = {name: value.format(ca=ca) for name, value in extra.items()}
    options = connection_options(settings_for(POSTGRES | filled))
    assert {name: options[name] for name in expected} == {
        name: value.format(ca=ca) for name, value in expected.items()
    }
    assert "password" not in options


@pytest.mark.parametrize("host", ["a..b", "x" * 64 + ".example"])
def test_a_host_with_an_empty_or_over_long_label_is_a_configuration_error(host: str) -> None:
    named = POSTGRES | {"TEMPORAL_SQL_TLS_ENABLED": "true", "TEMPORAL_SQL_SERVER_NAME": "db.internal"}
    settings = settings_for(named).model_copy(update={"sql_host": host})
    with pytest.raises(ConfigError) as raised:
        connection_options(settings)
    assert raised.value.problems == (
        f"TEMPORAL_SQL_HOST: {host} is not a valid host name; "
        "expected a DNS name (dot-separated labels of 1-63 characters) or an IP address",
    )


@pytest.fixture(scope="module")
def trusting_server() -> Iterator[PostgresServer]:
    """A server that names a missing role (SCRAM would hide it behind a failed password)."""
    with running_postgres(scram=False) as server:
        yield server


def test_a_missing_role_is_a_configuration_error_naming_the_user_setting(
    trusting_server: PostgresServer,
) -> None:
    environment = postgres_environment(trusting_server, TEMPORAL_SQL_USER="database_reader")
    expected = (
        f"127.0.0.1:{trusting_server.port}: user database_reader does not exist: check TEMPORAL_SQL_USER"
    )
    with pytest.raises(ConfigError) as raised:
        open_connection(settings_for(environment))
    assert not isinstance(raised.value, DatabaseMissing)
    assert raised.value.problems == (expected,)
    result = invoke(["doctor"], environment)
    assert result.exit_code == 78
    assert f"fix: {expected}" in result.output
