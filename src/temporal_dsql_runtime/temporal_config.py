"""A strict model of the parts of Temporal's server config that we write (upstream `common/config/`).

Unknown or misspelled keys fail, so a template edit that Temporal would silently ignore is caught here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from .errors import UserError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=False, strict=True, hide_input_in_errors=True)


class PasswordCommandConfig(_Strict):
    command: str = Field(min_length=1)
    args: list[str]
    timeout: str


class TLSConfig(_Strict):
    enabled: bool
    caFile: str
    certFile: str
    keyFile: str
    serverName: str
    enableHostVerification: bool


class SQLConfig(_Strict):
    pluginName: Literal["dsql", "postgres12", "postgres12_pgx", "sqlite"]
    databaseName: str = Field(min_length=1)
    connectAddr: str = Field(min_length=1)
    connectProtocol: Literal["tcp"]
    user: str
    password: str | None = None
    passwordCommand: PasswordCommandConfig | None = None
    connectAttributes: dict[str, str]
    maxConns: int = Field(ge=1)
    maxIdleConns: int = Field(ge=1)
    maxConnLifetime: str
    tls: TLSConfig | None = None


class URLConfig(_Strict):
    scheme: Literal["http", "https"]
    host: str = Field(min_length=1)


class SigningConfig(_Strict):
    enabled: bool
    region: str
    credentialProvider: Literal["static", "environment", "aws-sdk-default"]


class ElasticsearchConfig(_Strict):
    version: Literal["v7", "v8"]
    url: URLConfig
    username: str | None = None
    password: str | None = None
    indices: dict[Literal["visibility"], str]
    aws_request_signing: SigningConfig | None = Field(None, alias="aws-request-signing")


class DataStore(_Strict):
    sql: SQLConfig | None = None
    elasticsearch: ElasticsearchConfig | None = None


class Persistence(_Strict):
    defaultStore: str
    visibilityStore: str
    numHistoryShards: int = Field(ge=1)
    datastores: dict[str, DataStore]


class Membership(_Strict):
    maxJoinDuration: str
    broadcastAddress: str = Field(min_length=1)


class PProf(_Strict):
    port: int = Field(ge=0, le=65535)


class Prometheus(_Strict):
    framework: Literal["tally", "opentelemetry"]
    timerType: Literal["histogram", "summary"]
    listenAddress: str


class Metrics(_Strict):
    prometheus: Prometheus


class Global(_Strict):
    membership: Membership
    pprof: PProf
    metrics: Metrics | None = None


class RPC(_Strict):
    grpcPort: int = Field(ge=1, le=65535)
    membershipPort: int = Field(ge=1, le=65535)
    bindOnIP: str
    httpPort: int | None = Field(None, ge=1, le=65535)


class Service(_Strict):
    rpc: RPC


class ClusterInformation(_Strict):
    enabled: bool
    initialFailoverVersion: int
    rpcAddress: str


class ClusterMetadata(_Strict):
    enableGlobalNamespace: bool
    failoverVersionIncrement: int
    masterClusterName: str
    currentClusterName: str
    clusterInformation: dict[str, ClusterInformation]


class Log(_Strict):
    stdout: bool
    level: Literal["debug", "info", "warn", "error", "dpanic", "panic", "fatal"]


class State(_Strict):
    state: Literal["enabled", "disabled"]


class Archival(_Strict):
    history: State
    visibility: State


class NamespaceDefaults(_Strict):
    archival: Archival


class DCRedirectionPolicy(_Strict):
    policy: Literal["noop"]


class PublicClient(_Strict):
    hostPort: str


class DynamicConfigClient(_Strict):
    filepath: str = Field(min_length=1)
    pollInterval: str


class TemporalConfig(_Strict):
    """The top level of a rendered temporal-server config."""

    log: Log
    persistence: Persistence
    global_: Global = Field(alias="global")
    services: dict[Literal["frontend", "history", "matching", "worker"], Service] = Field(min_length=1)
    clusterMetadata: ClusterMetadata
    dcRedirectionPolicy: DCRedirectionPolicy
    publicClient: PublicClient
    dynamicConfigClient: DynamicConfigClient
    archival: Archival
    namespaceDefaults: NamespaceDefaults


def parse_yaml(text: str) -> Any:
    """Parse YAML safely (YAML 1.2, no tags, no aliases to objects)."""
    return YAML(typ="safe", pure=True).load(text)


def check_config(text: str) -> TemporalConfig:
    """Re-parse rendered YAML and validate it; a failure here is a bug in the renderer, not user input."""
    try:
        document = parse_yaml(text)
    except MarkedYAMLError as error:
        where = f"line {error.problem_mark.line + 1}" if error.problem_mark else "somewhere"
        raise UserError(f"internal error: the rendered config does not parse ({where})") from None
    except YAMLError:
        raise UserError("internal error: the rendered config does not parse") from None
    try:
        config = TemporalConfig.model_validate(document)
    except ValidationError as error:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in error.errors())
        raise UserError(f"internal error: the rendered config breaks Temporal's schema at {fields}") from None
    for store in (config.persistence.defaultStore, config.persistence.visibilityStore):
        if store not in config.persistence.datastores:
            raise UserError(f"internal error: the rendered config names a missing datastore {store!r}")
    return config
