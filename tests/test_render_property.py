"""Property: for any environment, render succeeds with exactly the intended values or exits 78; no secret leaks."""

from __future__ import annotations

import os
from typing import Any

from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from temporal_dsql_runtime.commands.render import render
from temporal_dsql_runtime.errors import ConfigError
from temporal_dsql_runtime.loading import load_settings
from temporal_dsql_runtime.temporal_config import parse_yaml

CANARY = "CANARY-7d1e"
tricky_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"),
    min_size=0,
    max_size=24,
) | st.sampled_from(
    ["$", "${X}", '"', "'", ": ", "#", "- x", "{}", "[a]", "*a", "&a", "!!str", "%", "@", "`"]
)
numbers = st.integers(min_value=-5, max_value=70_000).map(str) | tricky_text
booleans = st.sampled_from(["true", "false", "1", "0", "yes", "no", "maybe", "TRUE"]) | tricky_text
durations = st.sampled_from(["30s", "55m", "1h", "2h", "1h30m", "0", "5x", "-1s", "1.5h", ""]) | tricky_text
hosts = (
    st.sampled_from(
        ["abc123.dsql.eu-west-1.on.aws", "db.internal", "127.0.0.1", "fd00::1", "bad host", "h;rm"]
    )
    | tricky_text
)

VARIABLES: dict[str, st.SearchStrategy[str]] = {
    "TEMPORAL_SQL_PLUGIN_NAME": st.sampled_from(["dsql", "postgres12", "postgres12_pgx", "sqlite", "dsqll"]),
    "TEMPORAL_SQL_HOST": hosts,
    "TEMPORAL_SQL_PORT": numbers,
    "TEMPORAL_SQL_DATABASE": st.sampled_from(["postgres", "temporal"]) | tricky_text,
    "TEMPORAL_SQL_USER": tricky_text,
    "TEMPORAL_SQL_PASSWORD": st.just(CANARY) | st.just(CANARY + ": $#'\""),
    "TEMPORAL_SQL_AUTH_METHOD": st.sampled_from(["plugin", "iam", "password", "magic"]),
    "TEMPORAL_SQL_TLS_ENABLED": booleans,
    "TEMPORAL_SQL_MAX_CONNS": numbers,
    "TEMPORAL_SQL_MAX_IDLE_CONNS": numbers,
    "TEMPORAL_SQL_MAX_CONN_LIFETIME": durations,
    "TEMPORAL_SQL_CONNECT_ATTRIBUTES": tricky_text | st.just("a=b: c,d=#e"),
    "TEMPORAL_HISTORY_SQL_MAX_CONNS": numbers,
    "TEMPORAL_HISTORY_SHARDS": numbers,
    "TEMPORAL_VISIBILITY_STORE": st.sampled_from(["opensearch", "elasticsearch", "sql", "sqlite", "x"]),
    "TEMPORAL_OPENSEARCH_ENDPOINT": st.sampled_from(["https://search:443", "http://os:9200", "os:9200"])
    | tricky_text,
    "TEMPORAL_OPENSEARCH_INDEX": st.sampled_from(["temporal_v1", "Bad Index", "a\nb: c"]) | tricky_text,
    "TEMPORAL_OPENSEARCH_AUTH": st.sampled_from(["aws-sigv4", "basic", "none", "sigv4"]),
    "TEMPORAL_OPENSEARCH_USER": tricky_text,
    "TEMPORAL_OPENSEARCH_PASSWORD": st.just(CANARY + "-os"),
    "TEMPORAL_SERVICES": st.sampled_from(["frontend", "history,matching", "frontend,bogus", ""])
    | tricky_text,
    "TEMPORAL_LOG_LEVEL": st.sampled_from(["info", "debug", "loud"]),
    "TEMPORAL_CLUSTER_NAME": st.sampled_from(["active", "x y"]) | tricky_text,
    "AWS_REGION": st.sampled_from(["eu-west-1", "us-east-1"]),
}
free_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"),
    min_size=1,
    max_size=24,
).filter(lambda t: t.strip() == t)
attribute_values = free_text.filter(lambda t: "," not in t)
attribute_keys = st.from_regex(r"[a-z_]{1,12}", fullmatch=True)
service_sets = st.lists(
    st.sampled_from(["frontend", "history", "matching", "worker"]), min_size=1, max_size=4, unique=True
)


@st.composite
def valid_environments(draw: st.DrawFn) -> dict[str, str]:
    """Environments the settings accept, with free text wherever the settings allow any text."""
    profile = draw(st.sampled_from(["sqlite", "postgres", "dsql"]))
    pool = draw(st.integers(1, 40))
    environment = {
        "TEMPORAL_HISTORY_SHARDS": str(draw(st.integers(1, 1024))),
        "TEMPORAL_SERVICES": ",".join(draw(service_sets)),
        "TEMPORAL_SQL_MAX_CONNS": str(pool),
        "TEMPORAL_SQL_MAX_IDLE_CONNS": str(draw(st.integers(1, pool))),
        "TEMPORAL_SQL_MAX_CONN_LIFETIME": draw(
            st.sampled_from(["30s", "5m", "55m", "1h59m" if profile != "dsql" else "59m"])
        ),
        "TEMPORAL_CLUSTER_NAME": draw(st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)),
    }
    if profile == "sqlite":
        return environment | {"TEMPORAL_SQL_PLUGIN_NAME": "sqlite", "TEMPORAL_SQL_DATABASE": draw(free_text)}
    attributes = draw(st.dictionaries(attribute_keys, attribute_values, max_size=3))
    environment["TEMPORAL_SQL_CONNECT_ATTRIBUTES"] = ",".join(f"{k}={v}" for k, v in attributes.items())
    environment["TEMPORAL_SQL_USER"] = draw(free_text)
    if profile == "postgres":
        return environment | {
            "TEMPORAL_SQL_PLUGIN_NAME": draw(st.sampled_from(["postgres12", "postgres12_pgx"])),
            "TEMPORAL_SQL_HOST": draw(st.sampled_from(["db.internal", "127.0.0.1", "fd00::1"])),
            "TEMPORAL_SQL_PORT": str(draw(st.integers(1, 65535))),
            "TEMPORAL_SQL_DATABASE": draw(free_text),
            "TEMPORAL_SQL_PASSWORD": CANARY + draw(free_text),
        }
    return environment | {
        "TEMPORAL_SQL_HOST": "abc123.dsql.eu-west-1.on.aws",
        "TEMPORAL_OPENSEARCH_ENDPOINT": "https://search.example:443",
        "TEMPORAL_OPENSEARCH_AUTH": "basic",
        "TEMPORAL_OPENSEARCH_USER": draw(free_text),
        "TEMPORAL_OPENSEARCH_PASSWORD": CANARY + draw(free_text),
    }


environments = valid_environments() | st.fixed_dictionaries({}, optional=VARIABLES)


def intended(environment: dict[str, str]) -> dict[str, Any]:
    """What the default datastore must contain, computed from the settings model itself."""
    s = load_settings(environment)
    return {
        "pluginName": s.sql_plugin_name,
        "databaseName": s.sql_database,
        "user": s.sql_user or "",
        "maxConnLifetime": str(s.sql_max_conn_lifetime),
        "shards": s.history_shards,
        "services": list(s.services),
        "attributes": s.sql_connect_attributes,
    }


@settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(environment=environments)
def test_render_is_faithful_or_exits_78(environment: dict[str, str]) -> None:
    result = CliRunner().invoke(render, ["--dry-run"], env=environment | {"BIND_ON_IP": "127.0.0.1"})
    environment = dict(os.environ) | environment | {"BIND_ON_IP": "127.0.0.1"}
    output = result.stdout + result.stderr
    assert CANARY not in output
    assert "Traceback" not in output
    event(f"exit {result.exit_code}")
    if result.exit_code != 0:
        assert result.exit_code == 78, output
        lines = result.stderr.strip().splitlines()
        assert lines and all(line.startswith("error: ") for line in lines), output
        try:
            load_settings(environment)
        except ConfigError:
            return
        raise AssertionError(f"render failed but the settings are valid: {output}")
    expected = intended(environment)
    chunks = result.stdout.split("---\n")
    assert len(chunks) == len(expected["services"])
    for chunk, service in zip(chunks, expected["services"], strict=True):
        header, _, body = chunk.partition("\n")
        assert header == f"# service: {service}"
        document = parse_yaml(body)
        sql = document["persistence"]["datastores"]["default"]["sql"]
        assert sql["pluginName"] == expected["pluginName"]
        assert sql["databaseName"] == expected["databaseName"]
        assert sql["user"] == expected["user"]
        assert sql["maxConnLifetime"] == expected["maxConnLifetime"]
        for key, value in expected["attributes"].items():
            assert sql["connectAttributes"][key] == value
        assert document["persistence"]["numHistoryShards"] == expected["shards"]
        assert list(document["services"]) == ["frontend", "history", "matching", "worker"]
