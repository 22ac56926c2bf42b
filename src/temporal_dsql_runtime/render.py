"""Render one Temporal server config for the services of one process, then prove it parses as intended."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2

from .hostports import join_host_port
from .settings import SERVICES, Settings
from .temporal_config import check_config

REDACTED = "<redacted>"
"""What `--dry-run` shows in place of every secret."""


@dataclass(frozen=True)
class PasswordCommand:
    """An executable temporal-server runs for every new connection; its stdout is the password."""

    command: str
    args: list[str]
    timeout: str = "30s"


@dataclass(frozen=True)
class Credentials:
    """Secrets resolved for rendering: a static password or a command, and the OpenSearch password."""

    sql_password: str | None = None
    sql_password_command: PasswordCommand | None = None
    opensearch_password: str | None = None
    visibility_sql_password: str | None = None
    """The password of a separate sql visibility server (TEMPORAL_VISIBILITY_SQL_HOST)."""

    def redacted(self) -> Credentials:
        """The same shape with every secret value replaced by the marker."""
        return Credentials(
            sql_password=REDACTED if self.sql_password is not None else None,
            sql_password_command=self.sql_password_command,
            opensearch_password=REDACTED if self.opensearch_password is not None else None,
            visibility_sql_password=REDACTED if self.visibility_sql_password is not None else None,
        )

    def for_visibility(self, settings: Settings) -> Credentials:
        """What the sql visibility store logs in with: its own password on its own server, else the same."""
        if settings.visibility_sql_host is None:
            return self
        return Credentials(sql_password=self.visibility_sql_password)


@dataclass(frozen=True)
class RenderRequest:
    """Everything a config depends on beyond the settings."""

    services: tuple[str, ...]
    broadcast_address: str
    credentials: Credentials = field(default_factory=Credentials)


def yaml_string(text: str) -> str:
    """A double-quoted YAML string: printable ASCII as is, everything else as a \\u or \\U escape."""
    escaped = []
    for character in text:
        code = ord(character)
        if character in '"\\':
            escaped.append("\\" + character)
        elif 0x20 <= code < 0x7F:
            escaped.append(character)
        elif code <= 0xFFFF:
            escaped.append(f"\\u{code:04x}")
        else:
            escaped.append(f"\\U{code:08x}")
    return '"' + "".join(escaped) + '"'


def yaml_scalar(value: Any) -> str:
    """Emit any template value as a YAML flow scalar/collection that cannot break out of its place."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value is None:
        return '""'
    if isinstance(value, str):
        return yaml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(yaml_scalar(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{yaml_string(str(k))}: {yaml_scalar(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot render a {type(value).__name__} into the config")


@cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("temporal_dsql_runtime", "templates"),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        finalize=yaml_scalar,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("server.yaml.j2")


def shipped_dynamic_config(settings: Settings) -> Path:
    """The dynamic config file shipped for this persistence: DSQL's limits, or development defaults."""
    name = "dsql.yaml" if settings.uses_dsql else "development.yaml"
    return Path(str(files("temporal_dsql_runtime").joinpath("dynamicconfig", name)))


def _connect_attributes(settings: Settings) -> dict[str, str]:
    attributes: dict[str, str] = {}
    if settings.sql_plugin_name == "sqlite":
        attributes = {"cache": "private", "journal_mode": "wal", "synchronous": "2", "setup": "true"}
    elif settings.sql_connection_timeout is not None:
        attributes["connect_timeout"] = str(max(1, math.ceil(settings.sql_connection_timeout.seconds)))
    cluster_option = settings.dsql_cluster_option()
    if cluster_option is not None:
        attributes["options"] = cluster_option
    return attributes | settings.sql_connect_attributes


def _pool_size(settings: Settings, service: str, idle: bool) -> int:
    """Pool sizes for one process: the largest any of its services asks for; sqlite defaults to one."""
    if settings.sql_plugin_name == "sqlite" and "sql_max_conns" not in settings.model_fields_set:
        return 1
    return settings.max_idle_conns(service) if idle else settings.max_conns(service)


def _sql_store(settings: Settings, request: RenderRequest, credentials: Credentials) -> dict[str, Any]:
    tls = None
    if settings.sql_tls_enabled and settings.sql_plugin_name != "sqlite":
        tls = {
            "ca_file": str(settings.sql_ca_file or ""),
            "cert_file": str(settings.sql_cert_file or ""),
            "key_file": str(settings.sql_key_file or ""),
            "server_name": settings.sql_server_name or settings.sql_host or "",
            "enable_host_verification": settings.sql_tls_enable_host_verification,
        }
    command = credentials.sql_password_command
    return {
        "plugin_name": settings.sql_plugin_name,
        "database": settings.sql_database or "",
        "connect_addr": (
            "localhost" if settings.sql_host is None else join_host_port(settings.sql_host, settings.sql_port)
        ),
        "user": settings.sql_user or "",
        "password": credentials.sql_password,
        "password_command": (
            None
            if command is None
            else {"command": command.command, "args": command.args, "timeout": command.timeout}
        ),
        "connect_attributes": _connect_attributes(settings),
        "max_conns": max(_pool_size(settings, s, idle=False) for s in request.services),
        "max_idle_conns": max(_pool_size(settings, s, idle=True) for s in request.services),
        "max_conn_lifetime": str(settings.sql_max_conn_lifetime),
        "tls": tls,
    }


def _search_store(settings: Settings, request: RenderRequest) -> dict[str, Any] | None:
    if (
        settings.visibility_store not in ("opensearch", "elasticsearch")
        or settings.opensearch_endpoint is None
    ):
        return None
    scheme, rest = settings.opensearch_endpoint.split("://", 1)
    basic = settings.opensearch_auth == "basic"
    return {
        "version": settings.opensearch_version,
        "scheme": scheme,
        "host": rest.rstrip("/"),
        "username": settings.opensearch_user if basic else None,
        "password": request.credentials.opensearch_password if basic else None,
        "index": settings.opensearch_index,
        "sigv4_region": settings.opensearch_region if settings.opensearch_auth == "aws-sigv4" else None,
    }


def template_values(settings: Settings, request: RenderRequest) -> dict[str, Any]:
    """The values the template is filled with, computed once from settings and the request.

    Every service's `rpc` block is written, not only the requested ones: temporal-server builds its
    membership monitor from that map and refuses to start ("service not tracked by Monitor") without it.
    """
    bind_on_ip = settings.bind_on_ip or "0.0.0.0"
    frontend_rpc = settings.frontend_address or join_host_port(
        request.broadcast_address, settings.frontend_grpc_port
    )
    return {
        "log_level": settings.log_level,
        "history_shards": settings.history_shards,
        "default_store": _sql_store(settings, request, request.credentials),
        "visibility_store": _sql_store(
            settings.visibility_sql(), request, request.credentials.for_visibility(settings)
        ),
        "search": _search_store(settings, request),
        "broadcast_address": request.broadcast_address,
        "pprof_port": settings.pprof_port,
        "prometheus_listen_address": settings.prometheus_listen_address,
        "services": [
            {
                "name": name,
                "grpc_port": settings.grpc_port(name),
                "membership_port": settings.membership_port(name),
                "bind_on_ip": bind_on_ip,
                "http_port": settings.frontend_http_port if name == "frontend" else None,
            }
            for name in SERVICES
        ],
        "cluster_name": settings.cluster_name,
        "cluster_rpc_address": frontend_rpc,
        "frontend_address": settings.frontend_address,
        "dynamic_config_file": str(settings.dynamic_config_file or shipped_dynamic_config(settings)),
        "dynamic_config_poll_interval": str(settings.dynamic_config_poll_interval),
    }


def render_config(settings: Settings, request: RenderRequest) -> str:
    """The YAML for one process, re-parsed and checked against the strict model of Temporal's config."""
    text = _template().render(template_values(settings, request))
    check_config(text)
    return text
