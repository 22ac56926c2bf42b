"""Every setting of the runtime as one typed model; the only code that knows the variables' names."""

from __future__ import annotations

import ipaddress
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

from .durations import DURATION_HELP, Duration, GoDuration
from .hostports import join_host_port

ServiceName = Literal["frontend", "history", "matching", "worker"]
SERVICES: tuple[ServiceName, ...] = ("frontend", "history", "matching", "worker")
"""Temporal's service roles that this runtime renders, in start-up order."""

DEFAULT_GRPC_PORTS = {"frontend": 7233, "history": 7234, "matching": 7235, "worker": 7239}
DEFAULT_MEMBERSHIP_PORTS = {"frontend": 6933, "history": 6934, "matching": 6935, "worker": 6939}

PluginName = Literal["dsql", "postgres12", "postgres12_pgx", "sqlite"]
AuthMethod = Literal["plugin", "iam", "password"]
PasswordDelivery = Literal["static", "command"]
VisibilityStore = Literal["opensearch", "elasticsearch", "sql", "sqlite"]
OpenSearchAuth = Literal["aws-sigv4", "basic", "none"]
LogLevel = Literal["debug", "info", "warn", "error", "dpanic", "panic", "fatal"]

Port = Annotated[int, Field(ge=1, le=65535)]
MembershipPort = Annotated[int, Field(ge=1, le=32767)]
"""Temporal stores membership ports in a SMALLINT column (`cluster_membership.rpc_port`)."""
PoolSize = Annotated[int, Field(ge=1, le=10_000)]
Replicas = Annotated[int, Field(ge=0, le=1_000)]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")]

DSQL_HOST = re.compile(
    r"^(?P<cluster>[a-z0-9]+)\.dsql(?:-[a-z0-9]+)?\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.on\.aws$"
)
"""A DSQL cluster endpoint, public (`.dsql.`) or a PrivateLink private DNS name (`.dsql-<service id>.`)."""
DSQL_VPC_ENDPOINT_HOST = re.compile(
    r"^(?:[a-z0-9-]+\.)+dsql-[a-z0-9]+\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.vpce\.amazonaws\.com$"
)
"""A DSQL PrivateLink connection endpoint's own DNS name: it names no cluster (AWS: `amzn-cluster-id`)."""
DYNAMODB_TABLE = r"^[A-Za-z0-9_.-]{3,255}$"
DynamoDBTable = Annotated[str, Field(pattern=DYNAMODB_TABLE)]
"""A DynamoDB table name (the fork's distributed limiter and lease tables live in DynamoDB)."""
TOKEN_DURATION_RANGE = (15.0, 900.0)
"""The fork's `DSQL_TOKEN_DURATION` bounds (15s to 15m); outside them it silently uses 15m."""
AWS_HOST_REGION = re.compile(r"\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.(?:es|aoss)\.amazonaws\.com$")
HOST_PORT = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})$")
SURROGATES = re.compile("[\ud800-\udfff]")
"""How Python shows environment bytes that are not UTF-8; Go's YAML parser refuses them."""
DNS_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
INDEX_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,254}$")
SECRET_FIELDS = ("sql_password", "opensearch_password", "visibility_sql_password")


def env_name(field_name: str) -> str:
    """The variable that feeds a field: `sql_host` is read from `TEMPORAL_SQL_HOST`."""
    return "TEMPORAL_" + field_name.upper()


def dsql_region(host: str | None) -> str | None:
    """The AWS region written into a DSQL host name (a cluster or PrivateLink endpoint), if the host is one."""
    match = DSQL_HOST.match(host or "") or DSQL_VPC_ENDPOINT_HOST.match(host or "")
    return match.group("region") if match else None


def dsql_cluster_id(host: str | None) -> str | None:
    """The cluster id written into a DSQL cluster endpoint (public or private DNS), if the host is one."""
    match = DSQL_HOST.match(host or "")
    return match.group("cluster") if match else None


def is_host(value: str) -> bool:
    """Whether `value` is an IP address or a DNS name that resolvers accept (no port, no scheme)."""
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        pass
    labels = value.removesuffix(".").split(".")
    return len(value) <= 253 and all(DNS_LABEL.fullmatch(label) for label in labels)


def check_endpoint_url(value: str) -> None:
    """An http(s) URL of a host and optional port, nothing else (no credentials, path or query)."""
    problem = "expected an http(s) URL with a host and no path, e.g. https://search.example:443"
    try:
        url = urlsplit(value)
        port = url.port
    except ValueError:
        raise ValueError(problem) from None
    if url.scheme not in ("http", "https") or not url.hostname or url.path not in ("", "/"):
        raise ValueError(problem)
    if url.query or url.fragment or "@" in url.netloc:
        raise ValueError(problem + "; put credentials in TEMPORAL_OPENSEARCH_USER/_PASSWORD, not the URL")
    if port == 0 or not is_host(url.hostname):
        raise ValueError(problem)


class Settings(BaseSettings):
    """The runtime's configuration: persistence, visibility, cluster layout and the DSQL plugin's knobs."""

    model_config = SettingsConfigDict(
        alias_generator=env_name,
        populate_by_name=False,
        extra="ignore",
        case_sensitive=True,
        hide_input_in_errors=True,
    )

    # --- persistence -------------------------------------------------------------------------------
    sql_plugin_name: PluginName = Field("dsql", description="Temporal SQL plugin for persistence.")
    sql_host: str | None = Field(None, description="Database host (a DSQL endpoint for dsql).")
    sql_port: Port = Field(5432, description="Database port.")
    sql_database: str | None = Field(
        None,
        description="Database name; for sqlite the database file. Default: postgres (dsql), temporal "
        "(PostgreSQL), temporal.db (sqlite).",
    )
    sql_user: str | None = Field(None, description="Database user. Default: admin (dsql).")
    sql_password: SecretStr | None = Field(None, description="Database password (or use the _FILE form).")
    sql_password_file: Path | None = Field(None, description="File holding the database password.")
    sql_auth_method: AuthMethod | None = Field(
        None,
        description="plugin: the dsql plugin mints its own tokens; iam: the launcher mints IAM tokens; "
        "password: a password. Default: plugin (dsql), password (others).",
    )
    sql_password_delivery: PasswordDelivery | None = Field(
        None,
        description="command: the server asks our credential command for every new connection "
        "(needs passwordCommand); static: the password or a token minted once is written into the "
        "config. Default: command (iam), static (password).",
    )
    sql_iam_token_ttl: int = Field(
        900, ge=1, le=604_800, description="Lifetime in seconds of IAM tokens the launcher mints."
    )
    sql_region: str | None = Field(
        None,
        validation_alias=AliasChoices("TEMPORAL_SQL_REGION", "AWS_REGION"),
        description="AWS region of the database; else AWS_REGION, else read from a DSQL host name.",
    )
    sql_tls_enabled: bool | None = Field(None, description="Use TLS to the database. Default: on for dsql.")
    sql_allow_insecure_dsql: bool = Field(
        False, description="Allow TLS off for dsql (only for a local proxy that adds TLS itself)."
    )
    sql_ca_file: Path | None = Field(None, description="CA bundle that signs the database's certificate.")
    sql_cert_file: Path | None = Field(None, description="Client certificate for the database.")
    sql_key_file: Path | None = Field(None, description="Client certificate key for the database.")
    sql_server_name: str | None = Field(None, description="TLS server name, when it differs from the host.")
    sql_tls_enable_host_verification: bool = Field(True, description="Verify the database's host name.")
    sql_max_conns: PoolSize = Field(20, description="Connections per datastore pool, per service.")
    sql_max_idle_conns: PoolSize | None = Field(
        None, description="Idle connections kept per pool. Default: the pool size."
    )
    sql_max_conn_lifetime: Duration = Field(
        GoDuration("55m"), description="Longest a connection is reused (under 1h on DSQL)."
    )
    sql_connection_timeout: Duration | None = Field(None, description="Connect timeout for new connections.")
    sql_connect_attributes: dict[str, str] = Field(
        default_factory=dict, description="Extra driver attributes as k=v,k=v."
    )
    frontend_sql_max_conns: PoolSize | None = Field(None, description="Frontend's pool size.")
    history_sql_max_conns: PoolSize | None = Field(None, description="History's pool size.")
    matching_sql_max_conns: PoolSize | None = Field(None, description="Matching's pool size.")
    worker_sql_max_conns: PoolSize | None = Field(None, description="Worker's pool size.")
    frontend_sql_max_idle_conns: PoolSize | None = Field(None, description="Frontend's idle connections.")
    history_sql_max_idle_conns: PoolSize | None = Field(None, description="History's idle connections.")
    matching_sql_max_idle_conns: PoolSize | None = Field(None, description="Matching's idle connections.")
    worker_sql_max_idle_conns: PoolSize | None = Field(None, description="Worker's idle connections.")
    history_shards: int = Field(
        4, ge=1, le=65_536, description="History shards (fixed for a cluster's life)."
    )

    # --- DSQL connection budget --------------------------------------------------------------------
    frontend_replicas: Replicas = Field(1, description="Frontend replicas, for the connection budget.")
    history_replicas: Replicas = Field(1, description="History replicas, for the connection budget.")
    matching_replicas: Replicas = Field(1, description="Matching replicas, for the connection budget.")
    worker_replicas: Replicas = Field(1, description="Worker replicas, for the connection budget.")
    dsql_cluster_connection_limit: int = Field(
        10_000, ge=1, description="The DSQL cluster's connection quota (10,000 unless raised)."
    )

    # --- visibility --------------------------------------------------------------------------------
    visibility_store: VisibilityStore | None = Field(
        None, description="Visibility store. Default: sqlite (sqlite), opensearch (dsql), sql (PostgreSQL)."
    )
    visibility_database: str | None = Field(
        None, description="Visibility database for the sql store. Default: temporal_visibility."
    )
    visibility_sql_plugin_name: PluginName | None = Field(
        None,
        description="SQL plugin of the sql visibility store. Default: postgres12 beside dsql (DSQL cannot hold "
        "visibility), else TEMPORAL_SQL_PLUGIN_NAME.",
    )
    visibility_sql_host: str | None = Field(
        None,
        description="Host of a separate visibility database server (needed beside dsql). Unset: the "
        "persistence server, with its user, password and TLS.",
    )
    visibility_sql_port: Port = Field(5432, description="Port of the separate visibility database server.")
    visibility_sql_user: str | None = Field(None, description="User on the separate visibility server.")
    visibility_sql_password: SecretStr | None = Field(
        None, description="Password on the separate visibility server (or use the _FILE form)."
    )
    visibility_sql_password_file: Path | None = Field(
        None, description="File holding the separate visibility server's password."
    )
    visibility_sql_tls_enabled: bool = Field(False, description="Use TLS to the separate visibility server.")
    visibility_sql_ca_file: Path | None = Field(
        None, description="CA bundle that signs the separate visibility server's certificate."
    )
    visibility_sql_tls_enable_host_verification: bool = Field(
        True, description="Verify the separate visibility server's host name."
    )
    opensearch_endpoint: str | None = Field(None, description="OpenSearch URL, e.g. https://host:443.")
    opensearch_version: Literal["v7", "v8"] = Field("v7", description="Elasticsearch API version spoken.")
    opensearch_index: str = Field("temporal_visibility_v1", description="Visibility index name.")
    opensearch_auth: OpenSearchAuth | None = Field(
        None, description="aws-sigv4, basic or none. Default: aws-sigv4 for AWS hosts, else none."
    )
    opensearch_user: str | None = Field(None, description="User for basic auth.")
    opensearch_password: SecretStr | None = Field(None, description="Password for basic auth.")
    opensearch_password_file: Path | None = Field(None, description="File holding the basic-auth password.")
    opensearch_region: str | None = Field(None, description="Region for SigV4. Default: from host or SQL.")
    elasticsearch_host: str | None = Field(None, description="Deprecated: use TEMPORAL_OPENSEARCH_ENDPOINT.")
    elasticsearch_port: Port | None = Field(None, description="Deprecated: use TEMPORAL_OPENSEARCH_ENDPOINT.")
    elasticsearch_scheme: Literal["http", "https"] | None = Field(
        None, description="Deprecated: use TEMPORAL_OPENSEARCH_ENDPOINT."
    )
    elasticsearch_version: Literal["v7", "v8"] | None = Field(
        None, description="Deprecated: use TEMPORAL_OPENSEARCH_VERSION."
    )
    elasticsearch_index: str | None = Field(None, description="Deprecated: use TEMPORAL_OPENSEARCH_INDEX.")

    # --- cluster -----------------------------------------------------------------------------------
    services: tuple[ServiceName, ...] = Field(
        SERVICES, description="Services this process runs, comma-separated."
    )
    bind_on_ip: str | None = Field(
        None,
        validation_alias="BIND_ON_IP",
        description="Address to listen on. Unset: all interfaces, broadcasting a discovered address.",
    )
    broadcast_address: str | None = Field(None, description="Address other hosts reach this one on.")
    frontend_address: str | None = Field(
        None, description="Frontend host:port for internal clients. Unset: found through membership."
    )
    frontend_grpc_port: Port = Field(DEFAULT_GRPC_PORTS["frontend"], description="Frontend gRPC port.")
    history_grpc_port: Port = Field(DEFAULT_GRPC_PORTS["history"], description="History gRPC port.")
    matching_grpc_port: Port = Field(DEFAULT_GRPC_PORTS["matching"], description="Matching gRPC port.")
    worker_grpc_port: Port = Field(DEFAULT_GRPC_PORTS["worker"], description="Worker gRPC port.")
    frontend_membership_port: MembershipPort = Field(
        DEFAULT_MEMBERSHIP_PORTS["frontend"], description="Frontend ringpop."
    )
    history_membership_port: MembershipPort = Field(
        DEFAULT_MEMBERSHIP_PORTS["history"], description="History ringpop."
    )
    matching_membership_port: MembershipPort = Field(
        DEFAULT_MEMBERSHIP_PORTS["matching"], description="Matching ringpop."
    )
    worker_membership_port: MembershipPort = Field(
        DEFAULT_MEMBERSHIP_PORTS["worker"], description="Worker ringpop."
    )
    frontend_http_port: Port = Field(7243, description="Frontend HTTP API port.")
    cluster_name: Identifier = Field("active", description="This cluster's name in clusterMetadata.")
    log_level: LogLevel = Field("info", description="temporal-server's log level.")
    prometheus_listen_address: str | None = Field(None, description="host:port for Prometheus metrics.")
    pprof_port: int = Field(0, ge=0, le=65535, description="pprof port; 0 turns it off.")
    dynamic_config_file: Path | None = Field(
        None, description="Dynamic config file. Default: the one shipped for the persistence plugin."
    )
    dynamic_config_poll_interval: Duration = Field(GoDuration("10s"), description="How often it is re-read.")

    # --- launcher ----------------------------------------------------------------------------------
    server_binary: str = Field("temporal-server", description="temporal-server executable, a path or a name.")
    runtime_dir: Path = Field(
        default_factory=lambda: Path(tempfile.gettempdir()) / f"temporal-dsql-runtime-{os.getuid()}",
        description="Where the launcher writes configs and its token cache (a private directory of this user).",
        json_schema_extra={"shown_default": "<temp dir>/temporal-dsql-runtime-<uid>"},
    )
    allow_no_auth: bool = Field(True, description="Pass --allow-no-auth (no authorizer configured).")
    launcher_log_format: Literal["text", "json"] = Field("text", description="Launcher log lines on stderr.")
    preflight: bool | None = Field(
        None,
        description="Run the doctor's checks (DNS, TCP, TLS, login, schema, visibility) before exec; a failure "
        "stops start-up with its diagnosis. Default: on, except for sqlite.",
    )
    preflight_wait: Duration = Field(
        GoDuration("0s"), description="Keep retrying the preflight checks this long (for start-up ordering)."
    )
    schema_root: Path = Field(
        Path("/etc/temporal/schema"),
        description="Temporal's schema/ tree (postgresql/v12/..., dsql/...) that schema and doctor compare with.",
    )
    ecs_container_metadata_uri: str | None = Field(
        None,
        alias="ECS_CONTAINER_METADATA_URI_V4",
        description="Set by ECS: task metadata endpoint, used to discover this task's address.",
    )
    pod_ip: str | None = Field(
        None, alias="POD_IP", description="Set from Kubernetes' downward API: the pod IP."
    )
    hostname: str | None = Field(
        None, alias="HOSTNAME", description="Container host name, resolved as a fallback."
    )
    address_discovery_timeout: float = Field(
        1.0, gt=0, le=30, description="Seconds each address source may take."
    )

    ssl_cert_file: Path | None = Field(
        None,
        alias="SSL_CERT_FILE",
        description="CA bundle used as the system trust store (OpenSSL and Go read it: the doctor, the "
        "schema tool and the fork's plugin trust it when TEMPORAL_SQL_CA_FILE is unset).",
    )

    # --- the dsql plugin's own knobs (exported to the server's environment) ------------------------
    dsql_cluster_endpoint: str | None = Field(
        None,
        alias="CLUSTER_ENDPOINT",
        description="DSQL cluster endpoint IAM tokens are signed for. Default: TEMPORAL_SQL_HOST; set "
        "<cluster-id>.dsql.<region>.on.aws when TEMPORAL_SQL_HOST is a PrivateLink endpoint's own DNS name.",
    )
    dsql_token_duration: Duration | None = Field(
        None, alias="DSQL_TOKEN_DURATION", description="Plugin token TTL, 15s to 15m (the fork's bounds)."
    )
    dsql_connection_rate_limit: int | None = Field(
        None, ge=1, le=100, alias="DSQL_CONNECTION_RATE_LIMIT", description="New connections/s per process."
    )
    dsql_connection_burst_limit: int | None = Field(
        None, ge=1, le=1000, alias="DSQL_CONNECTION_BURST_LIMIT", description="Connection burst per process."
    )
    dsql_staggered_startup: bool | None = Field(
        None, alias="DSQL_STAGGERED_STARTUP", description="Spread start-up connects."
    )
    dsql_staggered_startup_max_delay: Duration | None = Field(
        None, alias="DSQL_STAGGERED_STARTUP_MAX_DELAY", description="Longest start-up delay."
    )
    dsql_reservoir_enabled: bool | None = Field(
        None, alias="DSQL_RESERVOIR_ENABLED", description="Keep a reservoir of ready connections."
    )
    dsql_reservoir_target_ready: int | None = Field(
        None, ge=0, alias="DSQL_RESERVOIR_TARGET_READY", description="Connections the reservoir keeps ready."
    )
    dsql_reservoir_low_watermark: int | None = Field(
        None, ge=0, alias="DSQL_RESERVOIR_LOW_WATERMARK", description="Refill below this many."
    )
    dsql_reservoir_base_lifetime: Duration | None = Field(
        None, alias="DSQL_RESERVOIR_BASE_LIFETIME", description="Reservoir connection lifetime (under 1h)."
    )
    dsql_reservoir_lifetime_jitter: Duration | None = Field(
        None, alias="DSQL_RESERVOIR_LIFETIME_JITTER", description="Random spread added to lifetimes."
    )
    dsql_reservoir_guard_window: Duration | None = Field(
        None, alias="DSQL_RESERVOIR_GUARD_WINDOW", description="Retire connections this close to expiry."
    )
    dsql_reservoir_initial_fill_timeout: Duration | None = Field(
        None, alias="DSQL_RESERVOIR_INITIAL_FILL_TIMEOUT", description="Wait for the first fill."
    )
    dsql_pool_warmup_stagger_duration: Duration | None = Field(
        None, alias="DSQL_POOL_WARMUP_STAGGER_DURATION", description="Spread of pool warm-up."
    )
    dsql_pool_keeper_tick_interval: Duration | None = Field(
        None, alias="DSQL_POOL_KEEPER_TICK_INTERVAL", description="Pool keeper period."
    )
    dsql_pool_keeper_max_conns_per_tick: int | None = Field(
        None, ge=1, alias="DSQL_POOL_KEEPER_MAX_CONNS_PER_TICK", description="Connections opened per tick."
    )
    dsql_distributed_rate_limiter_enabled: bool | None = Field(
        None, alias="DSQL_DISTRIBUTED_RATE_LIMITER_ENABLED", description="Share the rate limit via a table."
    )
    dsql_distributed_rate_limiter_table: DynamoDBTable | None = Field(
        None, alias="DSQL_DISTRIBUTED_RATE_LIMITER_TABLE", description="Table of the shared rate limiter."
    )
    dsql_distributed_rate_limiter_limit: int | None = Field(
        None, ge=1, le=100, alias="DSQL_DISTRIBUTED_RATE_LIMITER_LIMIT", description="Cluster-wide conns/s."
    )
    dsql_distributed_rate_limiter_max_wait: Duration | None = Field(
        None, alias="DSQL_DISTRIBUTED_RATE_LIMITER_MAX_WAIT", description="Longest wait for a permit."
    )
    dsql_distributed_conn_lease_enabled: bool | None = Field(
        None, alias="DSQL_DISTRIBUTED_CONN_LEASE_ENABLED", description="Lease connections via a table."
    )
    dsql_distributed_conn_lease_table: DynamoDBTable | None = Field(
        None, alias="DSQL_DISTRIBUTED_CONN_LEASE_TABLE", description="Table of connection leases."
    )
    dsql_distributed_conn_limit: int | None = Field(
        None, ge=1, alias="DSQL_DISTRIBUTED_CONN_LIMIT", description="Cluster-wide connection cap."
    )

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: Any, init_settings: Any, *_: Any, **__: Any
    ) -> tuple[Any]:
        """Values come only from the mapping handed to `load_settings`, never from `os.environ`."""
        return (init_settings,)

    @field_validator("services", mode="before")
    @classmethod
    def _split_services(cls, value: Any) -> Any:
        if isinstance(value, str):
            names = [name.strip() for name in value.split(",") if name.strip()]
            if not names:
                raise ValueError("expected at least one service")
            if len(set(names)) != len(names):
                raise ValueError("a service is named twice")
            return tuple(names)
        return value

    @field_validator("sql_connect_attributes", mode="before")
    @classmethod
    def _split_attributes(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        attributes: dict[str, str] = {}
        for pair in filter(None, (part.strip() for part in value.split(","))):
            key, separator, item = pair.partition("=")
            if not separator or not key.strip():
                raise ValueError("expected k=v pairs separated by commas")
            attributes[key.strip()] = item.strip()
        return attributes

    @field_validator("opensearch_endpoint")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None:
            check_endpoint_url(value)
        return value

    @field_validator("opensearch_index", "elasticsearch_index")
    @classmethod
    def _check_index(cls, value: str | None) -> str | None:
        if value is not None and not INDEX_NAME.fullmatch(value):
            raise ValueError("expected an index name: lower-case letters, digits, _ . -")
        return value

    @field_validator("prometheus_listen_address", "frontend_address")
    @classmethod
    def _check_host_port(cls, value: str | None) -> str | None:
        if value is not None:
            match = HOST_PORT.fullmatch(value)
            if not match or not 1 <= int(match.group("port")) <= 65535:
                raise ValueError("expected host:port with a port from 1 to 65535")
        return value

    @field_validator("sql_host", "sql_server_name", "elasticsearch_host", "visibility_sql_host")
    @classmethod
    def _check_host(cls, value: str | None) -> str | None:
        if value is not None and not is_host(value):
            raise ValueError("expected a DNS name (labels of 1-63 letters, digits, - or _) or an IP address")
        return value

    @field_validator("dsql_cluster_endpoint")
    @classmethod
    def _check_cluster_endpoint(cls, value: str | None) -> str | None:
        if value is not None and not DSQL_HOST.match(value):
            raise ValueError("expected a DSQL cluster endpoint, <cluster-id>.dsql.<region>.on.aws")
        return value

    @field_validator("dsql_token_duration")
    @classmethod
    def _check_token_duration(cls, value: GoDuration | None) -> GoDuration | None:
        low, high = TOKEN_DURATION_RANGE
        if value is not None and not low <= value.seconds <= high:
            raise ValueError("accepts a Go duration from 15s to 15m (outside it the fork silently uses 15m)")
        return value

    @field_validator("bind_on_ip", "broadcast_address", "pod_ip")
    @classmethod
    def _check_ip(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ipaddress.ip_address(value)
            except ValueError:
                raise ValueError("expected an IPv4 or IPv6 address") from None
        return value

    @model_validator(mode="after")
    def _fill_plugin_defaults(self) -> Settings:
        """Defaults that depend on the persistence plugin."""
        dsql = self.uses_dsql
        sqlite = self.sql_plugin_name == "sqlite"
        if self.sql_database is None:
            self.sql_database = "postgres" if dsql else "temporal.db" if sqlite else "temporal"
        if self.sql_user is None and dsql:
            self.sql_user = "admin"
        if self.sql_auth_method is None:
            self.sql_auth_method = "plugin" if self.sql_plugin_name == "dsql" else "password"
        if self.sql_password_delivery is None:
            self.sql_password_delivery = "command" if self.sql_auth_method == "iam" else "static"
        if self.sql_tls_enabled is None:
            self.sql_tls_enabled = dsql
        if self.preflight is None:
            self.preflight = not sqlite
        if self.sql_region is None:
            self.sql_region = dsql_region(self.sql_host)
        if self.visibility_store is None:
            self.visibility_store = "sqlite" if sqlite else "opensearch" if dsql else "sql"
        if self.visibility_database is None:
            shared = sqlite or (dsql and self.visibility_sql_host is None)
            self.visibility_database = self.sql_database if shared else "temporal_visibility"
        if self.visibility_sql_plugin_name is None:
            dsql_plugin = self.sql_plugin_name == "dsql" and self.visibility_sql_host is not None
            self.visibility_sql_plugin_name = "postgres12" if dsql_plugin else self.sql_plugin_name
        self._adopt_legacy_elasticsearch()
        if self.opensearch_auth is None:
            self.opensearch_auth = (
                "aws-sigv4" if AWS_HOST_REGION.search(self.opensearch_host or "") else "none"
            )
        if self.opensearch_region is None:
            match = AWS_HOST_REGION.search(self.opensearch_host or "")
            self.opensearch_region = match.group("region") if match else self.sql_region
        return self

    def _adopt_legacy_elasticsearch(self) -> None:
        """Turn the older TEMPORAL_ELASTICSEARCH_* variables into the endpoint they describe."""
        if self.opensearch_endpoint is None:
            self.opensearch_endpoint = self.legacy_elasticsearch_endpoint
        if self.elasticsearch_version is not None:
            self.opensearch_version = self.elasticsearch_version
        if self.elasticsearch_index is not None:
            self.opensearch_index = self.elasticsearch_index

    @property
    def legacy_elasticsearch_endpoint(self) -> str | None:
        """The URL that TEMPORAL_ELASTICSEARCH_{HOST,PORT,SCHEME} describe, if they are set."""
        if self.elasticsearch_host is None:
            return None
        scheme = self.elasticsearch_scheme or "http"
        port = self.elasticsearch_port or (443 if scheme == "https" else 9200)
        return f"{scheme}://{join_host_port(self.elasticsearch_host, port)}"

    @property
    def opensearch_host(self) -> str | None:
        """The host part of the OpenSearch endpoint."""
        if self.opensearch_endpoint is None:
            return None
        return urlsplit(self.opensearch_endpoint).hostname

    @property
    def uses_dsql(self) -> bool:
        """Whether persistence is on Aurora DSQL (the dsql plugin, or a PostgreSQL plugin pointed at DSQL)."""
        return self.sql_plugin_name == "dsql" or dsql_region(self.sql_host) is not None

    @property
    def token_host(self) -> str | None:
        """The host IAM tokens are signed for: CLUSTER_ENDPOINT when set, else the host dialled."""
        return self.dsql_cluster_endpoint or self.sql_host

    @property
    def via_vpc_endpoint_name(self) -> bool:
        """Whether the host dialled is a DSQL PrivateLink endpoint's own DNS name (no cluster in it)."""
        return DSQL_VPC_ENDPOINT_HOST.match(self.sql_host or "") is not None

    def dsql_cluster_option(self) -> str | None:
        """`-c amzn-cluster-id=<id>` for libpq's `options`, which names the cluster on a PrivateLink
        endpoint's own DNS name (AWS: the host name names it everywhere else)."""
        cluster = dsql_cluster_id(self.token_host)
        return f"-c amzn-cluster-id={cluster}" if self.via_vpc_endpoint_name and cluster else None

    @property
    def plugin_signs_tokens(self) -> bool:
        """Whether the fork's dsql plugin connects by itself: as admin, with its own DbConnectAdmin token."""
        return self.sql_plugin_name == "dsql"

    def visibility_sql(self) -> Settings:
        """The settings that reach the sql visibility database: its own server when
        TEMPORAL_VISIBILITY_SQL_HOST is set, else the persistence server's."""
        update: dict[str, Any] = {"sql_database": self.visibility_database}
        if self.visibility_sql_host is not None:
            update |= {
                "sql_plugin_name": self.visibility_sql_plugin_name,
                "sql_host": self.visibility_sql_host,
                "sql_port": self.visibility_sql_port,
                "sql_user": self.visibility_sql_user,
                "sql_password": self.visibility_sql_password,
                "sql_password_file": self.visibility_sql_password_file,
                "sql_auth_method": "password",
                "sql_password_delivery": "static",
                "sql_region": None,
                "sql_tls_enabled": self.visibility_sql_tls_enabled,
                "sql_ca_file": self.visibility_sql_ca_file,
                "sql_cert_file": None,
                "sql_key_file": None,
                "sql_server_name": None,
                "sql_tls_enable_host_verification": self.visibility_sql_tls_enable_host_verification,
                "sql_connect_attributes": {},
                "dsql_cluster_endpoint": None,
            }
        return self.model_copy(update=update)

    def max_conns(self, service: str) -> int:
        """The pool size a service's datastores get."""
        override: int | None = getattr(self, f"{service}_sql_max_conns")
        return override if override is not None else self.sql_max_conns

    def max_idle_conns(self, service: str) -> int:
        """The idle connections a service's pools keep."""
        override: int | None = getattr(self, f"{service}_sql_max_idle_conns")
        if override is not None:
            return override
        return min(self.sql_max_idle_conns or self.max_conns(service), self.max_conns(service))

    def grpc_port(self, service: str) -> int:
        """A service's gRPC port."""
        port: int = getattr(self, f"{service}_grpc_port")
        return port

    def membership_port(self, service: str) -> int:
        """A service's membership (ringpop) port."""
        port: int = getattr(self, f"{service}_membership_port")
        return port

    def replicas(self, service: str) -> int:
        """How many replicas of a service the deployment runs."""
        count: int = getattr(self, f"{service}_replicas")
        return count

    def dsql_plugin_environment(self) -> dict[str, str]:
        """The variables the fork's dsql plugin reads from the process environment."""
        exported: dict[str, str] = {}
        if self.token_host:
            exported["CLUSTER_ENDPOINT"] = self.token_host
        if self.sql_region:
            exported["REGION"] = self.sql_region
            if self.dsql_distributed_conn_lease_enabled:
                exported["AWS_REGION"] = self.sql_region  # the fork's lease reads AWS_REGION, not REGION
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if (
                name.startswith("dsql_")
                and field.alias
                and field.alias.startswith("DSQL_")
                and value is not None
            ):
                exported[field.alias] = str(value).lower() if isinstance(value, bool) else str(value)
        return exported


def variable_names() -> dict[str, str]:
    """Field name → the environment variable that feeds it."""
    return {name: variable_of(name) for name in Settings.model_fields}


def variable_of(field_name: str) -> str:
    """The environment variable a field is read from (the first choice where there are several)."""
    field = Settings.model_fields[field_name]
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return str(alias or field.alias or env_name(field_name))


def accepted_variables() -> set[str]:
    """Every variable name the settings model reads, including alternates such as AWS_REGION."""
    names = set(variable_names().values()) | {"AWS_REGION"}
    return names


def present(environment: Mapping[str, str]) -> dict[str, str]:
    """The part of an environment that the settings model reads."""
    names = accepted_variables()
    return {key: value for key, value in environment.items() if key in names}


def describe_errors(error: ValidationError) -> list[str]:
    """One line per invalid variable: its name, the value (never a secret's) and what it accepts."""
    by_variable = {variable_of(name): name for name in Settings.model_fields} | {"AWS_REGION": "sql_region"}
    lines = []
    for detail in error.errors():
        variable = str(detail["loc"][0]) if detail["loc"] else "settings"
        name = by_variable.get(variable)
        shown = "" if name in SECRET_FIELDS else f"{_shorten(detail.get('input'))} is not accepted; "
        if detail["type"] == "value_error":
            reason = str(detail["msg"]).removeprefix("Value error, ")
        else:
            accepts = describe_accepted(Settings.model_fields[name]) if name else ""
            reason = f"accepts {accepts}" if accepts else str(detail["msg"]).lower()
        lines.append(f"{variable}: {shown}{reason}")
    return lines


def _shorten(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"


def describe_accepted(field: FieldInfo) -> str:
    """What a field accepts, in words."""
    annotation = field.annotation
    text = str(annotation)
    if "Literal" in text:
        choices = re.findall(r"'([^']+)'", text)
        return ("a comma-separated list of " if "tuple" in text else "one of ") + ", ".join(choices)
    if "GoDuration" in text:
        return DURATION_HELP
    if "bool" in text:
        return "true or false"
    if "int" in text:
        low = next((m.ge for m in field.metadata if hasattr(m, "ge")), None)
        high = next((m.le for m in field.metadata if hasattr(m, "le")), None)
        if low is not None and high is not None:
            return f"an integer from {low} to {high}"
        return "an integer" + (f" of at least {low}" if low is not None else "")
    return ""
