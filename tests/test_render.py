"""The renderer: per-service configs that re-parse to exactly the settings, whatever the values hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from temporal_dsql_runtime.errors import UserError
from temporal_dsql_runtime.loading import load_settings
from temporal_dsql_runtime.render import (
    Credentials,
    PasswordCommand,
    RenderRequest,
    render_config,
    yaml_scalar,
)
from temporal_dsql_runtime.temporal_config import check_config, parse_yaml

DSQL_HOST = "abcdefghijklmnopqrstuvwxyz.dsql.eu-west-1.on.aws"
DSQL = {
    "TEMPORAL_SQL_HOST": DSQL_HOST,
    "TEMPORAL_OPENSEARCH_ENDPOINT": "https://vpc-v.eu-west-1.es.amazonaws.com",
}


def render(environment: dict[str, str], services: tuple[str, ...] = ("frontend",), **request: object) -> dict:
    settings = load_settings(environment)
    text = render_config(settings, RenderRequest(services=services, broadcast_address="10.1.2.3", **request))  # type: ignore[arg-type]
    document: dict = parse_yaml(text)
    return document


def test_dsql_profile_renders_region_tls_plugin_and_per_service_pools() -> None:
    env = DSQL | {"TEMPORAL_HISTORY_SQL_MAX_CONNS": "64", "TEMPORAL_SQL_MAX_IDLE_CONNS": "10"}
    history = render(env, ("history",))
    sql = history["persistence"]["datastores"]["default"]["sql"]
    assert sql["pluginName"] == "dsql"
    assert sql["connectAddr"] == f"{DSQL_HOST}:5432"
    assert sql["tls"]["enabled"] is True and sql["tls"]["enableHostVerification"] is True
    assert sql["maxConns"] == 64 and sql["maxIdleConns"] == 10
    assert "password" not in sql and "passwordCommand" not in sql
    search = history["persistence"]["datastores"]["visibility"]["elasticsearch"]
    assert search["aws-request-signing"] == {
        "enabled": True,
        "region": "eu-west-1",
        "credentialProvider": "aws-sdk-default",
    }
    assert search["url"] == {"scheme": "https", "host": "vpc-v.eu-west-1.es.amazonaws.com"}
    assert render(env, ("matching",))["persistence"]["datastores"]["default"]["sql"]["maxConns"] == 20


def test_every_config_lists_every_service_port_for_membership() -> None:
    """temporal-server needs all services' ports in each config ("service not tracked by Monitor" otherwise)."""
    defaults = {
        "frontend": (7233, 6933),
        "history": (7234, 6934),
        "matching": (7235, 6935),
        "worker": (7239, 6939),
    }
    for service in defaults:
        document = render(DSQL, (service,))
        assert list(document["services"]) == list(defaults)
        for name, (grpc, membership) in defaults.items():
            rpc = document["services"][name]["rpc"]
            assert (rpc["grpcPort"], rpc["membershipPort"], rpc["bindOnIP"]) == (grpc, membership, "0.0.0.0")
        assert document["global"]["membership"]["broadcastAddress"] == "10.1.2.3"


def test_one_process_with_several_services_gets_one_file_with_the_largest_pool() -> None:
    env = DSQL | {"TEMPORAL_HISTORY_SQL_MAX_CONNS": "64", "TEMPORAL_SQL_MAX_IDLE_CONNS": "5"}
    document = render(env, ("frontend", "history"))
    assert document["persistence"]["datastores"]["default"]["sql"]["maxConns"] == 64


@pytest.mark.parametrize(
    "value",
    [
        "pa$$word",
        "${HOME}",
        "it \"quoted\" 'too'",
        "key: value",
        "# not a comment",
        "line\nbreak: injected",
        '{{ env "HOME" }}',
        "\n# enable-template\n",
        "unicode ✓ \u0000 \t",
    ],
)
def test_values_are_rendered_faithfully_never_as_structure(value: str) -> None:
    document = render(
        {"TEMPORAL_SQL_PLUGIN_NAME": "postgres12", "TEMPORAL_SQL_HOST": "db", "TEMPORAL_SQL_USER": value},
        credentials=Credentials(sql_password=value),
    )
    sql = document["persistence"]["datastores"]["default"]["sql"]
    assert sql["user"] == value and sql["password"] == value
    assert set(document) == {
        "log",
        "persistence",
        "global",
        "services",
        "clusterMetadata",
        "dcRedirectionPolicy",
        "publicClient",
        "dynamicConfigClient",
        "archival",
        "namespaceDefaults",
    }


def test_connect_attributes_with_special_characters_survive() -> None:
    attributes = "application_name=a$b: #c,options=-c search_path=x"
    document = render(
        {
            "TEMPORAL_SQL_PLUGIN_NAME": "postgres12",
            "TEMPORAL_SQL_HOST": "db",
            "TEMPORAL_SQL_CONNECT_ATTRIBUTES": attributes,
        }
    )
    assert document["persistence"]["datastores"]["default"]["sql"]["connectAttributes"] == {
        "application_name": "a$b: #c",
        "options": "-c search_path=x",
    }


def test_password_command_is_rendered_instead_of_a_password() -> None:
    command = PasswordCommand(
        "/opt/venv/bin/temporal-dsql-runtime", ["token", "--kind", "dsql", "--host", DSQL_HOST]
    )
    document = render(DSQL, credentials=Credentials(sql_password_command=command))
    sql = document["persistence"]["datastores"]["default"]["sql"]
    assert sql["passwordCommand"] == {"command": command.command, "args": command.args, "timeout": "30s"}
    assert "password" not in sql


def test_sqlite_profile_sets_up_its_schema_in_one_file() -> None:
    document = render({"TEMPORAL_SQL_PLUGIN_NAME": "sqlite", "TEMPORAL_SQL_DATABASE": "/data/t.db"})
    stores = document["persistence"]["datastores"]
    for store in ("default", "visibility"):
        sql = stores[store]["sql"]
        assert sql["pluginName"] == "sqlite" and sql["databaseName"] == "/data/t.db"
        assert sql["connectAttributes"]["setup"] == "true" and sql["maxConns"] == 1
        assert "tls" not in sql


def test_ipv6_hosts_are_bracketed() -> None:
    document = render(
        {"TEMPORAL_SQL_PLUGIN_NAME": "postgres12", "TEMPORAL_SQL_HOST": "fd00::5", "TEMPORAL_SQL_USER": "u"}
    )
    assert document["persistence"]["datastores"]["default"]["sql"]["connectAddr"] == "[fd00::5]:5432"


def test_opensearch_basic_auth_and_metrics() -> None:
    env = DSQL | {
        "TEMPORAL_OPENSEARCH_ENDPOINT": "http://opensearch:9200",
        "TEMPORAL_OPENSEARCH_AUTH": "basic",
        "TEMPORAL_OPENSEARCH_USER": "admin",
        "TEMPORAL_OPENSEARCH_PASSWORD": "x",
        "TEMPORAL_PROMETHEUS_LISTEN_ADDRESS": "0.0.0.0:9090",
    }
    document = render(env, credentials=Credentials(opensearch_password="os-secret"))
    search = document["persistence"]["datastores"]["visibility"]["elasticsearch"]
    assert (search["username"], search["password"]) == ("admin", "os-secret")
    assert "aws-request-signing" not in search
    assert document["global"]["metrics"]["prometheus"]["listenAddress"] == "0.0.0.0:9090"


def test_the_strict_model_rejects_unknown_and_misspelled_keys(tmp_path: Path) -> None:
    good = render_config(
        load_settings({"TEMPORAL_SQL_PLUGIN_NAME": "sqlite"}), RenderRequest(("frontend",), "127.0.0.1")
    )
    check_config(good)
    with pytest.raises(UserError):
        check_config(good.replace("maxIdleConns:", "maxIdleConn:"))
    with pytest.raises(UserError):
        check_config(good + "extra: 1\n")
    with pytest.raises(UserError):
        check_config(good.replace('defaultStore: "default"', 'defaultStore: "missing"'))


def test_yaml_scalar_quotes_everything_that_could_be_structure() -> None:
    assert yaml_scalar("a: b") == '"a: b"'
    assert yaml_scalar(True) == "true" and yaml_scalar(5) == "5"
    assert yaml_scalar(["x", "y"]) == '["x", "y"]'
    with pytest.raises(TypeError):
        yaml_scalar(object())
