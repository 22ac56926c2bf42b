"""The doctor's checks, one function each: what it found, and when it failed, what a person should do."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import struct
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import psycopg

from .connect import (
    HOST_NAME_RULE,
    TLS_NOT_OFFERED,
    DatabaseMissing,
    failure_reason,
    login_user,
    open_connection,
)
from .errors import EX_CONFIG, EX_UNAVAILABLE, ConfigError, UserError
from .schema import bookkeeping
from .schema.manifest import latest_version, version_key
from .search_client import auth_headers
from .settings import Settings, dsql_region

CheckStatus = Literal["pass", "fail", "skip"]
SSL_REQUEST = struct.pack("!ii", 8, 80877103)
"""PostgreSQL's SSLRequest: the client asks for TLS before the startup message; the server answers S or N."""
UNTRUSTED_CODES = {2, 18, 19, 20, 21}
"""OpenSSL verify codes meaning "not signed by a CA you trust"."""
HOSTNAME_MISMATCH = 62
EXPIRED = 10
SETUP_HINT = "run `temporal-dsql-runtime schema setup{target}`"
UPDATE_HINT = "run `temporal-dsql-runtime schema update{target}`"


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    name: str
    status: CheckStatus
    detail: str
    """What was found (or why the check did not run)."""
    diagnosis: str | None = None
    """For a failure: what to do about it."""
    exit_code: int = 0
    """For a failure: 69 when something is out of reach, 78 when a setting, credential or schema is wrong."""


def passed(name: str, detail: str) -> Check:
    """A check that passed."""
    return Check(name, "pass", detail)


def failed(name: str, detail: str, diagnosis: str, exit_code: int) -> Check:
    """A check that failed, with what to do."""
    return Check(name, "fail", detail, diagnosis, exit_code)


def skipped(name: str, detail: str) -> Check:
    """A check that did not apply or did not run."""
    return Check(name, "skip", detail)


def from_error(name: str, detail: str, error: UserError) -> Check:
    """A failed check from a one-line user error."""
    return failed(name, detail, "; ".join(error.problems), error.exit_code)


# --- DNS and TCP -----------------------------------------------------------------------------------


def check_dns(host: str, port: int) -> tuple[Check, list[str]]:
    """Resolve the host; the addresses found feed the TCP check."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        hint = (
            "check the cluster id and region in TEMPORAL_SQL_HOST (<cluster-id>.dsql.<region>.on.aws)"
            if dsql_region(host)
            else "check TEMPORAL_SQL_HOST for typos"
        )
        return (
            failed(
                "dns",
                f"{host} does not resolve ({error.strerror})",
                f"{hint}; a VPC endpoint's private DNS name resolves only inside the VPC (connect the Client "
                "VPN), otherwise use the cluster's public endpoint",
                EX_UNAVAILABLE,
            ),
            [],
        )
    except UnicodeError:
        return (
            failed(
                "dns",
                f"{host} is not a valid host name (an empty or over-long label)",
                f"check TEMPORAL_SQL_HOST for typos: {HOST_NAME_RULE}",
                EX_CONFIG,
            ),
            [],
        )
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    kinds = ", ".join(f"{address} ({_address_kind(address)})" for address in addresses)
    return passed("dns", f"{host} resolves to {kinds}"), addresses


def check_tcp(host: str, addresses: list[str], port: int, timeout: float) -> tuple[Check, str | None]:
    """Open a TCP connection to the first address that accepts one."""
    problems: list[tuple[str, str]] = []
    for address in addresses:
        started = time.monotonic()
        try:
            with socket.create_connection((address, port), timeout=timeout):
                elapsed = (time.monotonic() - started) * 1000
                return passed("tcp", f"connected to {_joined(address, port)} in {elapsed:.0f} ms"), address
        except ConnectionRefusedError:
            problems.append((address, "refused"))
        except TimeoutError:
            problems.append((address, f"timed out after {timeout:g}s"))
        except OSError as error:
            problems.append((address, error.strerror or type(error).__name__))
    address, problem = problems[0]
    detail = f"TCP connect to {_joined(address, port)} {problem}"
    return failed("tcp", detail, _tcp_diagnosis(host, address, port, problem), EX_UNAVAILABLE), None


def _tcp_diagnosis(host: str, address: str, port: int, problem: str) -> str:
    kind = _address_kind(address)
    if kind == "loopback":
        return f"nothing listens on {_joined(address, port)}: start the database, or fix TEMPORAL_SQL_PORT"
    if kind == "private":
        found = f"{host} is a private address" if host == address else f"{host} resolved to a private address"
        return (
            f"{found}, as a VPC endpoint's does; check that the endpoint's security group allows TCP {port} "
            "from your address and that you are on the Client VPN, or use the cluster's public endpoint"
        )
    if problem == "refused":
        return (
            f"{_joined(address, port)} refused: check TEMPORAL_SQL_PORT and that the database listens there"
        )
    return (
        f"no answer from {_joined(address, port)}: a firewall or security group drops the traffic; "
        "check your outbound rules and the database's inbound rules"
    )


def _address_kind(address: str) -> str:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return "loopback" if ip.is_loopback else "private" if ip.is_private else "public"


def _joined(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


# --- TLS -------------------------------------------------------------------------------------------


def check_tls(settings: Settings, address: str, timeout: float) -> Check:
    """Ask for TLS as libpq does, then shake hands and verify the certificate as configured."""
    if not settings.sql_tls_enabled:
        return skipped("tls", "TLS is off (TEMPORAL_SQL_TLS_ENABLED=false)")
    server_name = None if settings.plugin_signs_tokens else settings.sql_server_name
    name = server_name or settings.sql_host or address
    try:
        context = client_tls_context(settings)
    except (OSError, ssl.SSLError) as error:
        return failed(
            "tls",
            f"cannot load the TLS files: {error}",
            "check TEMPORAL_SQL_CA_FILE, TEMPORAL_SQL_CERT_FILE and TEMPORAL_SQL_KEY_FILE",
            EX_CONFIG,
        )
    try:
        with socket.create_connection((address, settings.sql_port), timeout=timeout) as raw:
            raw.sendall(SSL_REQUEST)
            answer = raw.recv(1)
            if answer == b"N":
                return failed(
                    "tls",
                    f"{_joined(address, settings.sql_port)} answered: no TLS",
                    TLS_NOT_OFFERED,
                    EX_CONFIG,
                )
            if answer != b"S":
                return failed(
                    "tls",
                    f"{_joined(address, settings.sql_port)} did not answer the TLS request like PostgreSQL",
                    "check TEMPORAL_SQL_HOST and TEMPORAL_SQL_PORT point at the database",
                    EX_CONFIG,
                )
            with context.wrap_socket(raw, server_hostname=name) as tls:
                return passed("tls", _describe_tls(tls, settings))
    except ssl.SSLCertVerificationError as error:
        return failed(
            "tls",
            f"certificate not accepted: {error.verify_message}",
            _certificate_diagnosis(settings, error, name),
            EX_CONFIG,
        )
    except ssl.SSLError as error:
        return failed(
            "tls",
            f"TLS handshake failed: {error.reason or error}",
            "check that the server's TLS setup and TEMPORAL_SQL_CERT_FILE/TEMPORAL_SQL_KEY_FILE match "
            "(a server asking for a client certificate needs both)",
            EX_CONFIG,
        )
    except (TimeoutError, OSError) as error:
        return failed(
            "tls",
            f"TLS negotiation with {_joined(address, settings.sql_port)} failed: {error}",
            "the server accepted TCP but did not finish the TLS request; check it is a PostgreSQL server",
            EX_UNAVAILABLE,
        )


def client_tls_context(settings: Settings) -> ssl.SSLContext:
    """The TLS client context libpq's settings amount to (see `connect.tls_options`)."""
    trusted = settings.sql_ca_file or settings.ssl_cert_file
    context = ssl.create_default_context(cafile=str(trusted) if trusted else None)
    if not settings.sql_tls_enable_host_verification:
        context.check_hostname = False
        if settings.sql_ca_file is None:
            context.verify_mode = ssl.CERT_NONE
    if settings.sql_cert_file is not None and settings.sql_key_file is not None:
        context.load_cert_chain(settings.sql_cert_file, settings.sql_key_file)
    return context


def _describe_tls(tls: ssl.SSLSocket, settings: Settings) -> str:
    trust = (
        f"verified against TEMPORAL_SQL_CA_FILE ({settings.sql_ca_file})"
        if settings.sql_ca_file
        else f"verified against SSL_CERT_FILE ({settings.ssl_cert_file})"
        if settings.ssl_cert_file and tls.context.verify_mode != ssl.CERT_NONE
        else "verified against the system CA store"
        if tls.context.verify_mode != ssl.CERT_NONE
        else "not verified (host verification off, no CA file)"
    )
    cipher = tls.cipher()
    return f"{tls.version()} ({cipher[0] if cipher else 'unknown cipher'}), certificate {trust}"


def _certificate_diagnosis(settings: Settings, error: ssl.SSLCertVerificationError, name: str) -> str:
    if error.verify_code == HOSTNAME_MISMATCH:
        return (
            f"the certificate does not name {name}: set TEMPORAL_SQL_SERVER_NAME to a name it holds, "
            "or TEMPORAL_SQL_TLS_ENABLE_HOST_VERIFICATION=false"
        )
    if error.verify_code == EXPIRED:
        return "the server's certificate has expired: renew it"
    if error.verify_code in UNTRUSTED_CODES and settings.sql_ca_file is not None:
        return (
            "the server's certificate is not signed by the CA in TEMPORAL_SQL_CA_FILE "
            f"({settings.sql_ca_file}): point it at the CA bundle that signed the server's certificate "
            "(for DSQL unset it: the system store trusts Amazon's CAs)"
        )
    if error.verify_code in UNTRUSTED_CODES:
        return (
            "the system CA store does not trust the server's certificate: set TEMPORAL_SQL_CA_FILE to its CA"
        )
    return "check TEMPORAL_SQL_CA_FILE and TEMPORAL_SQL_SERVER_NAME"


# --- authentication, query, schema -----------------------------------------------------------------


def check_auth(settings: Settings, timeout: float) -> tuple[Check, psycopg.Connection | None]:
    """Log in as configured; the open connection feeds the query and schema checks."""
    method = (
        "a DbConnectAdmin token, as the dsql plugin does"
        if settings.plugin_signs_tokens
        else "an IAM token"
        if settings.sql_auth_method == "iam"
        else "a password"
    )
    user = login_user(settings)
    try:
        conn = open_connection(settings, connect_timeout=timeout)
    except UserError as error:
        return from_error("auth", f"login as {user} with {method} failed", error), None
    return passed("auth", f"logged in as {user} to database {settings.sql_database} with {method}"), conn


def check_query(conn: psycopg.Connection) -> Check:
    """Run `SELECT 1`."""
    started = time.monotonic()
    try:
        row = conn.execute("SELECT 1").fetchone()
    except psycopg.Error as error:
        return failed(
            "query",
            f"SELECT 1 failed: {failure_reason(error)}",
            "the server accepts logins but not queries; check its health and logs",
            EX_UNAVAILABLE,
        )
    elapsed = (time.monotonic() - started) * 1000
    return passed("query", f"SELECT 1 returned {row[0] if row else None} in {elapsed:.0f} ms")


def check_schema(
    conn: psycopg.Connection, name: str, database: str, schema_dir: Path, target_flag: str
) -> Check:
    """Compare the database's `schema_version` with the newest version in `schema_dir`."""
    try:
        current = bookkeeping.read_version(conn, database)
    except psycopg.Error as error:
        return failed(
            name,
            f"cannot read schema_version in {database}: {failure_reason(error)}",
            "check that the user may read the database's tables",
            EX_CONFIG,
        )
    if current is None:
        return failed(
            name,
            f"database {database} has no schema (no schema_version row)",
            SETUP_HINT.format(target=target_flag),
            EX_CONFIG,
        )
    if not schema_dir.is_dir():
        return passed(name, f"database {database} is at version {current} (no {schema_dir} to compare with)")
    try:
        expected = latest_version(schema_dir)
    except ConfigError as error:
        return from_error(name, f"cannot read {schema_dir}", error)
    if version_key(current) > version_key(expected):
        return failed(
            name,
            f"database {database} is at version {current}, newer than the newest in {schema_dir} ({expected})",
            "that directory is not the schema this database has: check --schema-dir (or TEMPORAL_SCHEMA_ROOT) "
            "and TEMPORAL_SQL_PLUGIN_NAME",
            EX_CONFIG,
        )
    if version_key(current) < version_key(expected):
        return failed(
            name,
            f"database {database} is at version {current}; the server needs {expected} "
            f"(newest in {schema_dir})",
            UPDATE_HINT.format(target=target_flag),
            EX_CONFIG,
        )
    return passed(name, f"database {database} is at version {current} (newest in {schema_dir}: {expected})")


def check_sql_visibility(settings: Settings, schema_dir: Path, timeout: float) -> Check:
    """For the `sql` visibility store: log in to the visibility database (on its own server when it has one)
    and compare its schema version."""
    database = settings.visibility_database or ""
    try:
        conn = open_connection(settings.visibility_sql(), database=database, connect_timeout=timeout)
    except DatabaseMissing:
        return failed(
            "visibility",
            f"database {database} does not exist",
            SETUP_HINT.format(target=" --target visibility") + ", which creates it",
            EX_CONFIG,
        )
    except UserError as error:
        return from_error("visibility", f"cannot log in to database {database}", error)
    with conn:
        return check_schema(conn, "visibility", database, schema_dir, " --target visibility")


# --- OpenSearch / Elasticsearch --------------------------------------------------------------------


def check_http_visibility(settings: Settings, timeout: float) -> Check:
    """GET the visibility index over HTTP(S), signed with SigV4 or basic auth as configured."""
    endpoint = (settings.opensearch_endpoint or "").rstrip("/")
    url = f"{endpoint}/{settings.opensearch_index}"
    parts = urlsplit(endpoint)
    try:
        where = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
    except ValueError as error:
        return failed(
            "visibility",
            f"TEMPORAL_OPENSEARCH_ENDPOINT has no usable port: {error}",
            "set TEMPORAL_OPENSEARCH_ENDPOINT to an http(s) URL with a port from 1 to 65535, "
            "e.g. https://search.example:443",
            EX_CONFIG,
        )
    try:
        headers = auth_headers(settings, "GET", url)
    except ConfigError as error:
        return from_error("visibility", "cannot sign the request", error)
    request = urllib.request.Request(url, headers=headers, method="GET")
    try:
        with urllib.request.urlopen(
            request, timeout=timeout, context=ssl.create_default_context()
        ) as response:
            status = int(response.status)
    except urllib.error.HTTPError as error:
        status = error.code
    except urllib.error.URLError as error:
        return _scheme_probe(error.reason, parts.scheme, where, timeout) or _unreachable(
            settings, where, error.reason
        )
    except (TimeoutError, OSError) as error:
        return _scheme_probe(error, parts.scheme, where, timeout) or _unreachable(settings, where, error)
    except UnicodeError:
        return failed(
            "visibility",
            f"{parts.hostname} is not a valid host name (an empty or over-long label)",
            f"check the host in TEMPORAL_OPENSEARCH_ENDPOINT: {HOST_NAME_RULE}",
            EX_CONFIG,
        )
    except http.client.HTTPException as error:
        return _wrong_scheme(parts.scheme, where, timeout) or failed(
            "visibility",
            f"{where} answered, but not in HTTP ({type(error).__name__})",
            "the visibility endpoint is not speaking HTTP: check the scheme and port in "
            "TEMPORAL_OPENSEARCH_ENDPOINT point at the OpenSearch domain",
            EX_UNAVAILABLE,
        )
    return _http_outcome(settings, status)


def _scheme_probe(reason: object, scheme: str, where: str, timeout: float) -> Check | None:
    """After a TLS failure or a dropped connection (not a refusal or timeout): probe for the other scheme."""
    tls_failed = isinstance(reason, ssl.SSLError) and not isinstance(reason, ssl.SSLCertVerificationError)
    if tls_failed or isinstance(reason, ConnectionResetError | ConnectionAbortedError):
        return _wrong_scheme(scheme, where, timeout)
    return None


def _wrong_scheme(scheme: str, where: str, timeout: float) -> Check | None:
    """When the request failed: does the endpoint speak the other protocol (plain HTTP vs TLS)?"""
    host, _, port = where.rpartition(":")
    other = "http" if scheme == "https" else "https"
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as probe:
            if other == "http":
                probe.sendall(b"HEAD / HTTP/1.0\r\n\r\n")
                if not probe.recv(5).startswith(b"HTTP/"):
                    return None
            else:
                context = ssl.create_default_context()
                context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
                context.wrap_socket(probe, server_hostname=host.strip("[]")).close()
    except (OSError, ValueError):
        return None
    return failed(
        "visibility",
        f"{where} speaks {other.upper()}, not {scheme.upper()}",
        f"use {other}:// in TEMPORAL_OPENSEARCH_ENDPOINT",
        EX_CONFIG,
    )


def _unreachable(settings: Settings, where: str, reason: object) -> Check:
    if isinstance(reason, ssl.SSLCertVerificationError):
        return failed(
            "visibility",
            f"{where}: certificate not accepted: {reason.verify_message}",
            "the system CA store must trust the endpoint's certificate; check TEMPORAL_OPENSEARCH_ENDPOINT",
            EX_CONFIG,
        )
    if isinstance(reason, socket.gaierror):
        detail, hint = f"{where} does not resolve", "check the host in TEMPORAL_OPENSEARCH_ENDPOINT"
    elif isinstance(reason, ConnectionRefusedError):
        detail = f"{where} refused the connection"
        hint = "check that the OpenSearch domain is up and the port in TEMPORAL_OPENSEARCH_ENDPOINT"
    else:
        detail = f"{where} unreachable: {reason}"
        hint = "check TEMPORAL_OPENSEARCH_ENDPOINT and the security groups between here and the domain"
    return failed(
        "visibility",
        detail,
        f"{hint}; a VPC domain is reachable only inside the VPC (Client VPN)",
        EX_UNAVAILABLE,
    )


def _http_outcome(settings: Settings, status: int) -> Check:
    index = settings.opensearch_index
    signed = {"aws-sigv4": ", SigV4-signed", "basic": ", basic auth"}.get(settings.opensearch_auth or "", "")
    if 200 <= status < 300:
        return passed("visibility", f"GET /{index} answered {status}{signed}")
    if status in (401, 403):
        hints = {
            "basic": "check TEMPORAL_OPENSEARCH_USER and TEMPORAL_OPENSEARCH_PASSWORD (or its _FILE form)",
            "aws-sigv4": "allow this AWS identity es:ESHttpGet in the domain's access policy (and map it in "
            "fine-grained access control); check TEMPORAL_OPENSEARCH_REGION",
            "none": "the endpoint needs authentication: set TEMPORAL_OPENSEARCH_AUTH (aws-sigv4 or basic)",
        }
        return failed(
            "visibility",
            f"GET /{index} answered {status}{signed}",
            hints[settings.opensearch_auth or "none"],
            EX_CONFIG,
        )
    if status == 404:
        return failed(
            "visibility",
            f"index {index} does not exist",
            SETUP_HINT.format(target=" --target visibility")
            + " to create it, or fix TEMPORAL_OPENSEARCH_INDEX",
            EX_CONFIG,
        )
    return failed(
        "visibility", f"GET /{index} answered {status}", "check the domain's health", EX_UNAVAILABLE
    )
