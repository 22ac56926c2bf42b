"""psycopg connections from Settings: host and port, TLS as configured, a password or a fresh IAM token.

TLS maps onto libpq's `sslmode`: with a CA file, `verify-full` (or `verify-ca` when host verification is off);
without one, `verify-full` against the system's CA store (`sslrootcert=system`, which is how DSQL's public
certificates verify; `SSL_CERT_FILE` replaces that store, as it does for OpenSSL and Go), or `require` when host
verification is off. A TLS server name different from the host becomes libpq's `host` (what the certificate is
checked against) with the real address in `hostaddr`.
IAM tokens come from `tokens.token_for_settings` (DSQL for a DSQL endpoint, RDS IAM otherwise).

With the fork's `dsql` plugin this tool connects as the plugin does, so its verdict predicts the server's:
user `admin` with a `DbConnectAdmin` token signed for CLUSTER_ENDPOINT (default: the host), whatever
TEMPORAL_SQL_USER says, and `TEMPORAL_SQL_SERVER_NAME` ignored (the plugin checks the certificate against the
host it dials); on a PrivateLink endpoint's own DNS name the cluster is named with `amzn-cluster-id`.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import TYPE_CHECKING

import psycopg
from psycopg.conninfo import make_conninfo
from pydantic import SecretStr

from .errors import ConfigError, UnavailableError, UserError

if TYPE_CHECKING:
    from .settings import Settings

DEFAULT_CONNECT_TIMEOUT = 10
APPLICATION_NAME = "temporal-dsql-runtime"
PASSWORD_VARIABLES = "TEMPORAL_SQL_PASSWORD (or TEMPORAL_SQL_PASSWORD_FILE)"
INSUFFICIENT_PRIVILEGE = "42501"
HOST_NAME_RULE = "expected a DNS name (dot-separated labels of 1-63 characters) or an IP address"


class DatabaseMissing(ConfigError):
    """The server is reachable and the credentials work, but the database does not exist."""


def connection_options(
    settings: Settings, *, database: str | None = None, connect_timeout: float | None = None
) -> dict[str, str]:
    """libpq connection keywords for the configured database, without the password."""
    if not settings.sql_host:
        raise ConfigError("TEMPORAL_SQL_HOST: required to connect; accepts a host name or IP address")
    timeout = connect_timeout or _setting_timeout(settings)
    options = {
        "host": settings.sql_host,
        "port": str(settings.sql_port),
        "dbname": database or settings.sql_database or "postgres",
        "connect_timeout": str(max(2, round(timeout))),
        "application_name": APPLICATION_NAME,
    }
    user = login_user(settings)
    if user:
        options["user"] = user
    options.update(tls_options(settings))
    cluster_option = settings.dsql_cluster_option()
    if cluster_option is not None:
        options["options"] = cluster_option
    server_name = None if settings.plugin_signs_tokens else settings.sql_server_name
    if settings.sql_tls_enabled and server_name and server_name != settings.sql_host:
        options["host"] = server_name
        options["hostaddr"] = _address_of(settings.sql_host, settings.sql_port)
    return options


def login_user(settings: Settings) -> str | None:
    """The user a connection logs in as: always `admin` with the fork's dsql plugin, as the plugin does."""
    return "admin" if settings.plugin_signs_tokens else settings.sql_user


def tls_options(settings: Settings) -> dict[str, str]:
    """libpq's TLS keywords for the configured TLS settings."""
    if not settings.sql_tls_enabled:
        return {"sslmode": "disable"}
    verify_host = settings.sql_tls_enable_host_verification
    if settings.sql_ca_file is not None:
        options = {
            "sslmode": "verify-full" if verify_host else "verify-ca",
            "sslrootcert": str(settings.sql_ca_file),
        }
    elif verify_host:
        system_store = settings.ssl_cert_file
        options = {"sslmode": "verify-full", "sslrootcert": str(system_store) if system_store else "system"}
    else:
        options = {"sslmode": "require"}
    if settings.sql_cert_file is not None and settings.sql_key_file is not None:
        options |= {"sslcert": str(settings.sql_cert_file), "sslkey": str(settings.sql_key_file)}
    return options


def database_password(settings: Settings) -> SecretStr | None:
    """The password to present: the fork's own token with the dsql plugin, a freshly minted IAM token for
    `iam`, else the configured password."""
    if settings.plugin_signs_tokens or settings.sql_auth_method == "iam":
        from .tokens import token_for_settings

        return SecretStr(token_for_settings(settings))
    return settings.sql_password


def open_connection(
    settings: Settings,
    *,
    database: str | None = None,
    connect_timeout: float | None = None,
    autocommit: bool = True,
) -> psycopg.Connection:
    """Connect to the configured database (or `database` on the same server); failures are one-line errors."""
    options = connection_options(settings, database=database, connect_timeout=connect_timeout)
    password = database_password(settings)
    try:
        secret = {"password": password.get_secret_value()} if password is not None else {}
        return psycopg.connect(make_conninfo("", **options, **secret), autocommit=autocommit)
    except psycopg.OperationalError as error:
        raise connection_failure(error, settings, options["dbname"]) from None


def connection_failure(error: psycopg.OperationalError, settings: Settings, database: str) -> UserError:
    """A one-line, secret-free explanation of a failed connection, naming the setting to look at."""
    reason = failure_reason(error)
    lowered = reason.lower()
    user, where = _user_and_server(settings)
    iam = settings.plugin_signs_tokens or settings.sql_auth_method == "iam"
    if lowered.startswith("role ") and lowered.endswith("does not exist"):
        return ConfigError(f"{where}: user {user} does not exist: check TEMPORAL_SQL_USER")
    if "password authentication failed" in lowered or "access denied" in lowered:
        if iam:
            return ConfigError(
                f"{where} refused the IAM token for user {user}: check that the AWS identity may connect "
                f"({'dsql:DbConnectAdmin or dsql:DbConnect' if settings.uses_dsql else 'rds-db:connect'}), "
                "TEMPORAL_SQL_REGION and TEMPORAL_SQL_USER"
            )
        return ConfigError(
            f"{where}: password authentication failed for user {user}: check {PASSWORD_VARIABLES} "
            "and TEMPORAL_SQL_USER"
        )
    if "does not exist" in lowered and "database" in lowered:
        return DatabaseMissing(
            f"{where}: database {database} does not exist: create it, or let "
            "`temporal-dsql-runtime schema setup` create it (check TEMPORAL_SQL_DATABASE / "
            "TEMPORAL_VISIBILITY_DATABASE)"
        )
    if "no pg_hba.conf entry" in lowered:
        tls = "with" if settings.sql_tls_enabled else "without"
        return ConfigError(
            f"{where}: the server's pg_hba.conf has no entry for user {user}, database {database} {tls} TLS: "
            "have it allowed, or turn on TEMPORAL_SQL_TLS_ENABLED if only TLS (hostssl) is allowed"
        )
    if "does not support ssl" in lowered:
        return ConfigError(f"{where}: {TLS_NOT_OFFERED}")
    if "certificate" in lowered or "ssl" in lowered:
        return ConfigError(
            f"{where}: TLS failed: {reason}; check TEMPORAL_SQL_CA_FILE and TEMPORAL_SQL_SERVER_NAME"
        )
    return UnavailableError(f"cannot connect to {where}: {reason}")


def statement_failure(error: psycopg.Error, settings: Settings, database: str, doing: str) -> UserError:
    """A one-line explanation of a statement that failed on an open connection: a missing privilege is a
    ConfigError naming TEMPORAL_SQL_USER, a lost connection is mapped as `connection_failure` maps it."""
    if isinstance(error, psycopg.OperationalError):
        return connection_failure(error, settings, database)
    user, where = _user_and_server(settings)
    reason = failure_reason(error)
    if error.sqlstate == INSUFFICIENT_PRIVILEGE:
        return ConfigError(
            f"{where}: {doing} failed for user {user}: {reason}: grant the privilege, or set "
            "TEMPORAL_SQL_USER to a user that has it"
        )
    return UnavailableError(f"{where}: {doing} failed: {reason} (SQLSTATE {error.sqlstate})")


def _user_and_server(settings: Settings) -> tuple[str, str]:
    return login_user(settings) or "(default user)", f"{settings.sql_host}:{settings.sql_port}"


TLS_NOT_OFFERED = (
    "the server does not offer TLS but TEMPORAL_SQL_TLS_ENABLED is true: turn on ssl in the server, "
    "or set TEMPORAL_SQL_TLS_ENABLED=false for a server that has no TLS (never for DSQL)"
)


def failure_reason(error: psycopg.Error) -> str:
    """The server's or libpq's own reason, without psycopg's `connection to server at ... failed:` prefix."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    last = lines[-1] if lines else type(error).__name__
    reason = last.rsplit(" failed: ", 1)[-1]
    return reason.removeprefix("FATAL:").strip()


def _address_of(host: str, port: int) -> str:
    """An IP address for `host`, for libpq's `hostaddr`."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        return str(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][4][0])
    except UnicodeError:
        raise ConfigError(f"TEMPORAL_SQL_HOST: {host} is not a valid host name; {HOST_NAME_RULE}") from None
    except OSError as error:
        raise UnavailableError(f"TEMPORAL_SQL_HOST: {host} does not resolve: {error}") from None


def _setting_timeout(settings: Settings) -> float:
    timeout = settings.sql_connection_timeout
    return timeout.seconds if timeout is not None and timeout.seconds > 0 else DEFAULT_CONNECT_TIMEOUT
