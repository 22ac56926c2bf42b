"""Rules that span several settings: what pydantic's per-field checks cannot see."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from .settings import SERVICES, Settings, dsql_region, variable_of

DSQL_SESSION_LIMIT_SECONDS = 3600
RDS_TOKEN_LIMIT_SECONDS = 900
FORK_USER = "admin"
"""The only user the fork's dsql plugin connects as."""
SWITCHED_KNOBS: dict[str, tuple[str, ...]] = {
    "dsql_reservoir_enabled": (
        "dsql_reservoir_target_ready",
        "dsql_reservoir_low_watermark",
        "dsql_reservoir_base_lifetime",
        "dsql_reservoir_lifetime_jitter",
        "dsql_reservoir_guard_window",
        "dsql_reservoir_initial_fill_timeout",
        "dsql_distributed_conn_lease_enabled",
    ),
    "dsql_distributed_rate_limiter_enabled": (
        "dsql_distributed_rate_limiter_table",
        "dsql_distributed_rate_limiter_limit",
        "dsql_distributed_rate_limiter_max_wait",
    ),
    "dsql_distributed_conn_lease_enabled": (
        "dsql_distributed_conn_lease_table",
        "dsql_distributed_conn_limit",
    ),
}
"""Fork knobs read only when their switch is true (the lease only in reservoir mode): otherwise ignored."""
TABLE_OF_SWITCH = {
    "dsql_distributed_rate_limiter_enabled": "dsql_distributed_rate_limiter_table",
    "dsql_distributed_conn_lease_enabled": "dsql_distributed_conn_lease_table",
}
"""Without its table, the fork logs an error and carries on without the feature."""
POOL_KNOBS = (
    "dsql_pool_warmup_stagger_duration",
    "dsql_pool_keeper_tick_interval",
    "dsql_pool_keeper_max_conns_per_tick",
)
"""Fork knobs of the warm-up and pool keeper, which reservoir mode replaces."""

Rule = Callable[[Settings], Iterator[str]]


def _host_required(s: Settings) -> Iterator[str]:
    if s.sql_plugin_name != "sqlite" and not s.sql_host:
        yield f"TEMPORAL_SQL_HOST: required for plugin {s.sql_plugin_name}; accepts a host name or IP address"


def _dsql_tls(s: Settings) -> Iterator[str]:
    if s.uses_dsql and not s.sql_tls_enabled and not s.sql_allow_insecure_dsql:
        yield (
            "TEMPORAL_SQL_TLS_ENABLED: DSQL requires TLS; accepts true here "
            "(set TEMPORAL_SQL_ALLOW_INSECURE_DSQL=true only for a local proxy that adds TLS)"
        )


def _dsql_database(s: Settings) -> Iterator[str]:
    if s.uses_dsql and s.sql_database != "postgres":
        yield f"TEMPORAL_SQL_DATABASE: DSQL has one database; accepts postgres, not {s.sql_database!r}"


def _lifetimes(s: Settings) -> Iterator[str]:
    if not s.uses_dsql:
        return
    for name in ("sql_max_conn_lifetime", "dsql_reservoir_base_lifetime"):
        lifetime = getattr(s, name)
        if lifetime is not None and lifetime.seconds >= DSQL_SESSION_LIMIT_SECONDS:
            yield (
                f"{variable_of(name)}: {lifetime} reaches DSQL's 1-hour connection limit; "
                "accepts a Go duration under 1h, e.g. 55m"
            )


def _pools(s: Settings) -> Iterator[str]:
    if s.sql_max_idle_conns is not None and s.sql_max_idle_conns > s.sql_max_conns:
        yield (
            f"TEMPORAL_SQL_MAX_IDLE_CONNS: {s.sql_max_idle_conns} exceeds TEMPORAL_SQL_MAX_CONNS "
            f"({s.sql_max_conns}); accepts at most the pool size"
        )
    for service in SERVICES:
        idle: int | None = getattr(s, f"{service}_sql_max_idle_conns")
        if idle is not None and idle > s.max_conns(service):
            yield (
                f"{variable_of(f'{service}_sql_max_idle_conns')}: {idle} exceeds the {service} pool size "
                f"({s.max_conns(service)}); accepts at most the pool size"
            )


def _auth(s: Settings) -> Iterator[str]:
    method = s.sql_auth_method
    if s.sql_plugin_name == "sqlite":
        return
    if method == "plugin" and s.sql_plugin_name != "dsql":
        yield "TEMPORAL_SQL_AUTH_METHOD: plugin works only with TEMPORAL_SQL_PLUGIN_NAME=dsql; accepts iam or password"
    if method in ("plugin", "iam") and (s.sql_password is not None or s.sql_password_file is not None):
        yield f"TEMPORAL_SQL_PASSWORD: not used with TEMPORAL_SQL_AUTH_METHOD={method}; unset it or use password"
    if (method == "iam" or (method == "plugin" and s.sql_plugin_name == "dsql")) and not s.sql_region:
        yield (
            "TEMPORAL_SQL_REGION: required for IAM authentication and not readable from the host; "
            "accepts an AWS region such as eu-west-1 (AWS_REGION works too)"
        )
    if method == "password" and s.uses_dsql and not s.plugin_signs_tokens and s.sql_password is None:
        yield "TEMPORAL_SQL_PASSWORD: DSQL needs a token as password; set it, its _FILE form, or use auth iam"
    if method == "iam" and not s.uses_dsql and s.sql_iam_token_ttl > RDS_TOKEN_LIMIT_SECONDS:
        yield "TEMPORAL_SQL_IAM_TOKEN_TTL: RDS IAM tokens live at most 900 s; accepts 1 to 900 for a non-DSQL host"
    if s.sql_password_delivery == "command":
        if method == "plugin":
            yield "TEMPORAL_SQL_PASSWORD_DELIVERY: command is for auth iam or password; accepts static here"
        if method == "password" and s.sql_password_file is None:
            yield (
                "TEMPORAL_SQL_PASSWORD_DELIVERY: command re-reads TEMPORAL_SQL_PASSWORD_FILE, which is unset; "
                "accepts static, or set the _FILE form"
            )


def _tls_files(s: Settings) -> Iterator[str]:
    files = {name: getattr(s, name) for name in ("sql_ca_file", "sql_cert_file", "sql_key_file")}
    for name, path in files.items():
        if path is None:
            continue
        if not s.sql_tls_enabled:
            yield f"{variable_of(name)}: set while TEMPORAL_SQL_TLS_ENABLED is false; enable TLS or unset it"
        elif not _readable(path):
            yield f"{variable_of(name)}: {path} is not a readable file; accepts a path to a PEM file"
    if (files["sql_cert_file"] is None) != (files["sql_key_file"] is None):
        yield "TEMPORAL_SQL_CERT_FILE and TEMPORAL_SQL_KEY_FILE: give both for a client certificate, or neither"


def _visibility_server(s: Settings) -> Iterator[str]:
    if s.visibility_store != "sql":
        return
    if s.visibility_sql_plugin_name == "dsql":
        if s.visibility_sql_host is None:
            yield (
                "TEMPORAL_VISIBILITY_STORE: sql would keep visibility in DSQL, which the dsql plugin cannot hold "
                "(start-up fails); accepts opensearch, or sql with a separate PostgreSQL in "
                "TEMPORAL_VISIBILITY_SQL_HOST"
            )
        else:
            yield (
                "TEMPORAL_VISIBILITY_SQL_PLUGIN_NAME: dsql cannot hold visibility; accepts postgres12 or "
                "postgres12_pgx"
            )
    if s.visibility_sql_host is None:
        return
    if s.visibility_sql_plugin_name == "sqlite":
        yield "TEMPORAL_VISIBILITY_SQL_PLUGIN_NAME: sqlite has no server; accepts postgres12 or postgres12_pgx"
    if s.visibility_database == s.sql_database and s.visibility_sql_host == s.sql_host:
        yield (
            "TEMPORAL_VISIBILITY_DATABASE: the same database as TEMPORAL_SQL_DATABASE on the same host; "
            "accepts a database of its own"
        )
    ca_file = s.visibility_sql_ca_file
    if ca_file is not None and not s.visibility_sql_tls_enabled:
        yield "TEMPORAL_VISIBILITY_SQL_CA_FILE: set while TEMPORAL_VISIBILITY_SQL_TLS_ENABLED is false"
    elif ca_file is not None and not _readable(ca_file):
        yield f"TEMPORAL_VISIBILITY_SQL_CA_FILE: {ca_file} is not a readable file; accepts a path to a PEM file"


def _vpc_endpoint(s: Settings) -> Iterator[str]:
    if not s.via_vpc_endpoint_name:
        return
    if s.dsql_cluster_endpoint is None:
        yield (
            f"CLUSTER_ENDPOINT: required when TEMPORAL_SQL_HOST is a PrivateLink endpoint's own DNS name "
            f"({s.sql_host}); accepts the cluster endpoint <cluster-id>.dsql.<region>.on.aws, which tokens are "
            "signed for and which names the cluster (amzn-cluster-id)"
        )
    if s.sql_tls_enabled and s.sql_tls_enable_host_verification:
        yield (
            "TEMPORAL_SQL_TLS_ENABLE_HOST_VERIFICATION: DSQL does not support verify-full on a PrivateLink "
            "endpoint's own DNS name; accepts false here, or use the private DNS name "
            "<cluster-id>.dsql-<service id>.<region>.on.aws as TEMPORAL_SQL_HOST"
        )


def _knob_ranges(s: Settings) -> Iterator[str]:
    tick = s.dsql_pool_keeper_tick_interval
    if tick is not None and tick.seconds <= 0:
        yield "DSQL_POOL_KEEPER_TICK_INTERVAL: 0 stops the fork (division by zero); accepts a Go duration above 0"
    base = s.dsql_reservoir_base_lifetime
    if base is not None and base.seconds <= 0:
        yield (
            "DSQL_RESERVOIR_BASE_LIFETIME: 0 makes the fork silently use 11m; accepts a Go duration above 0 "
            "and under 1h"
        )
    jitter = s.dsql_reservoir_lifetime_jitter
    if (
        base is not None
        and jitter is not None
        and base.seconds + jitter.seconds >= DSQL_SESSION_LIMIT_SECONDS
    ):
        yield (
            f"DSQL_RESERVOIR_LIFETIME_JITTER: {base} + {jitter} reaches DSQL's 1-hour connection limit; "
            "accepts a jitter that keeps the sum under 1h"
        )


def _visibility(s: Settings) -> Iterator[str]:
    store = s.visibility_store
    if s.elasticsearch_host is not None and s.opensearch_endpoint != s.legacy_elasticsearch_endpoint:
        yield "TEMPORAL_ELASTICSEARCH_HOST: set together with TEMPORAL_OPENSEARCH_ENDPOINT; keep only the latter"
    if store == "sql" and s.sql_plugin_name == "sqlite":
        yield "TEMPORAL_VISIBILITY_STORE: sql needs a database server; accepts sqlite with the sqlite plugin"
    if store == "sqlite" and s.sql_plugin_name != "sqlite":
        yield "TEMPORAL_VISIBILITY_STORE: sqlite needs TEMPORAL_SQL_PLUGIN_NAME=sqlite; accepts opensearch or sql"
    if store not in ("opensearch", "elasticsearch"):
        return
    if s.opensearch_endpoint is None:
        yield f"TEMPORAL_OPENSEARCH_ENDPOINT: required for visibility store {store}; accepts an http(s) URL"
    if s.opensearch_auth == "basic" and (s.opensearch_user is None or s.opensearch_password is None):
        yield (
            "TEMPORAL_OPENSEARCH_AUTH: basic needs TEMPORAL_OPENSEARCH_USER and TEMPORAL_OPENSEARCH_PASSWORD "
            "(or its _FILE form)"
        )
    if s.opensearch_auth == "aws-sigv4" and not s.opensearch_region:
        yield "TEMPORAL_OPENSEARCH_REGION: required for aws-sigv4; accepts an AWS region such as eu-west-1"


def _ports(s: Settings) -> Iterator[str]:
    yield from port_conflicts(s, s.services)


def port_conflicts(s: Settings, services: Sequence[str]) -> list[str]:
    """Ports that two services of one process would both listen on."""
    names: dict[int, list[str]] = {}
    for service in services:
        fields = [f"{service}_grpc_port", f"{service}_membership_port"]
        if service == "frontend":
            fields.append("frontend_http_port")
        for name in fields:
            names.setdefault(getattr(s, name), []).append(variable_of(name))
    return [
        f"{' and '.join(variables)}: all set to {port}; each service port must be distinct"
        for port, variables in names.items()
        if len(variables) > 1
    ]


def process_pool_size(s: Settings, services: Sequence[str]) -> int:
    """The pool size of a process: one config per process, so every pool gets the largest its roles ask for."""
    return max(s.max_conns(service) for service in services)


def process_connections(s: Settings, services: Sequence[str]) -> int:
    """Connections one process holds to the persistence database once it has started.

    One pool per role the process runs, whatever the other roles beside it, each at the process's pool size:
    what upstream temporal-server and the fork hold once each pool's requests have overlapped (measured with
    PostgreSQL; tests/test_connection_budget.py). The fork's warm-up opens `maxConns - 1` at start.
    """
    return len(services) * process_pool_size(s, services)


def _connection_budget(s: Settings) -> Iterator[str]:
    if not s.uses_dsql:
        return
    together = s.services if len(s.services) > 1 else ()
    pools = {
        role: process_pool_size(s, together) if role in together else s.max_conns(role) for role in SERVICES
    }
    total = sum(s.replicas(role) * pools[role] for role in SERVICES)
    if total > s.dsql_cluster_connection_limit:
        terms = " + ".join(f"{s.replicas(role)}x{pools[role]} {role}" for role in SERVICES)
        yield (
            f"TEMPORAL_SQL_MAX_CONNS: replicas x pool size per role ({terms}) = {total} connections, "
            f"over the DSQL cluster limit of {s.dsql_cluster_connection_limit} "
            "(TEMPORAL_DSQL_CLUSTER_CONNECTION_LIMIT); lower pool sizes or replicas"
        )


def _files(s: Settings) -> Iterator[str]:
    if s.dynamic_config_file is not None and not _readable(s.dynamic_config_file):
        yield f"TEMPORAL_DYNAMIC_CONFIG_FILE: {s.dynamic_config_file} is not a readable file"


def _region_matches_host(s: Settings) -> Iterator[str]:
    host_region = dsql_region(s.sql_host)
    if host_region and s.sql_region and s.sql_region != host_region:
        yield (
            f"TEMPORAL_SQL_REGION: {s.sql_region} differs from the region in the DSQL host ({host_region}); "
            "tokens signed for the wrong region are refused"
        )
    endpoint_region = dsql_region(s.dsql_cluster_endpoint)
    if endpoint_region and host_region and endpoint_region != host_region:
        yield (
            f"CLUSTER_ENDPOINT: {s.dsql_cluster_endpoint} is in {endpoint_region}, TEMPORAL_SQL_HOST in "
            f"{host_region}; accepts the endpoint of the cluster TEMPORAL_SQL_HOST reaches"
        )


def _readable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.R_OK)


RULES: tuple[Rule, ...] = (
    _host_required,
    _dsql_tls,
    _dsql_database,
    _lifetimes,
    _pools,
    _auth,
    _tls_files,
    _visibility,
    _visibility_server,
    _vpc_endpoint,
    _knob_ranges,
    _ports,
    _connection_budget,
    _files,
    _region_matches_host,
)


def problems(settings: Settings) -> list[str]:
    """Every cross-setting problem, one line each."""
    return [problem for rule in RULES for problem in rule(settings)]


def warnings(settings: Settings) -> list[str]:
    """Valid but risky choices, and settings the server or the fork's plugin would silently ignore."""
    found = []
    if settings.uses_dsql and not settings.sql_tls_enabled:
        found.append(
            "TLS to DSQL is OFF (TEMPORAL_SQL_ALLOW_INSECURE_DSQL=true): use only behind a TLS proxy"
        )
    method = settings.sql_auth_method
    if method == "iam" and settings.sql_password_delivery == "static" and not settings.plugin_signs_tokens:
        lifetime = settings.sql_iam_token_ttl if settings.uses_dsql else RDS_TOKEN_LIMIT_SECONDS
        found.append(
            f"IAM token minted once with a {lifetime} s lifetime: new connections fail after that; "
            "restart the server within that time or use TEMPORAL_SQL_PASSWORD_DELIVERY=command"
        )
    found += _ignored_by_plugin(settings) + _ignored_knobs(settings) + _ignored_visibility(settings)
    return found


def _ignored_by_plugin(s: Settings) -> list[str]:
    """What the fork's dsql plugin overrides: it connects as admin with a DbConnectAdmin token of its own."""
    if not s.plugin_signs_tokens:
        return [
            f"{variable_of(name)}: read only by the dsql plugin; ignored with TEMPORAL_SQL_PLUGIN_NAME="
            f"{s.sql_plugin_name}"
            for name in sorted(s.model_fields_set)
            if variable_of(name).startswith("DSQL_")
        ]
    found = []
    if s.sql_auth_method in ("iam", "password"):
        found.append(
            f"TEMPORAL_SQL_AUTH_METHOD: {s.sql_auth_method} is ignored by the dsql plugin, which signs its own "
            "DbConnectAdmin token (only older builds of the fork used the password); plugin is the default"
        )
    if s.sql_user != FORK_USER:
        found.append(
            f"TEMPORAL_SQL_USER: {s.sql_user} is ignored by the dsql plugin, which connects as admin"
        )
    if s.sql_server_name is not None and s.sql_server_name != s.sql_host:
        found.append(
            "TEMPORAL_SQL_SERVER_NAME: ignored by the dsql plugin, which checks the certificate against "
            "TEMPORAL_SQL_HOST"
        )
    return found


def _ignored_knobs(s: Settings) -> list[str]:
    """Fork knobs that their switch leaves unread, or that fall back without their table."""
    found = []
    chosen = s.model_fields_set
    for switch, knobs in SWITCHED_KNOBS.items():
        if getattr(s, switch):
            continue
        for knob in knobs:
            if knob in chosen:
                found.append(
                    f"{variable_of(knob)}: ignored by the fork while {variable_of(switch)} is not true"
                )
    for switch, table in TABLE_OF_SWITCH.items():
        if getattr(s, switch) and getattr(s, table) is None:
            found.append(
                f"{variable_of(switch)}: without {variable_of(table)} the fork logs an error and goes on without it"
            )
    if s.dsql_reservoir_enabled:
        found += [
            f"{variable_of(knob)}: ignored by the fork in reservoir mode (DSQL_RESERVOIR_ENABLED)"
            for knob in POOL_KNOBS
            if knob in chosen
        ]
    target, low = s.dsql_reservoir_target_ready, s.dsql_reservoir_low_watermark
    if target is not None and low is not None and low > target:
        found.append(
            f"DSQL_RESERVOIR_LOW_WATERMARK: {low} exceeds DSQL_RESERVOIR_TARGET_READY ({target}); "
            "the fork raises the target to match"
        )
    return found


def _ignored_visibility(s: Settings) -> list[str]:
    if s.visibility_store == "sql":
        return []
    return [
        f"{variable_of(name)}: ignored with TEMPORAL_VISIBILITY_STORE={s.visibility_store}"
        for name, field in Settings.model_fields.items()
        if name.startswith("visibility_sql_")
        and name != "visibility_sql_plugin_name"
        and getattr(s, name) != field.default
    ]
