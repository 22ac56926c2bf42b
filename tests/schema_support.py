"""Helpers for the schema and doctor tests: schema directories, TLS files, logins, the CLI, catalog dumps."""

from __future__ import annotations

import datetime
import ipaddress
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from support.postgres import PG_BIN, SUPERUSER, PostgresServer
from support.temporal_cluster import SERVER_MODULE, tool
from temporal_dsql_runtime.cli import cli
from temporal_dsql_runtime.loading import load_settings
from temporal_dsql_runtime.settings import Settings

FIXTURE_SCHEMA = Path(__file__).parent / "fixtures" / "dsql_schema"
UPSTREAM_TEMPORAL = SERVER_MODULE / "schema" / "postgresql" / "v12" / "temporal" / "versioned"
UPSTREAM_VISIBILITY = SERVER_MODULE / "schema" / "postgresql" / "v12" / "visibility" / "versioned"
LOGIN = "temporal"
PASSWORD = "s3cret-Pa55word-never-printed"
ISOLATED_PREFIXES = ("TEMPORAL_", "AWS_", "DSQL_", "SQL_")


@dataclass(frozen=True)
class TlsFiles:
    """A CA and a server certificate/key it signed, as PEM files."""

    ca: Path
    cert: Path
    key: Path


def write_tls_files(directory: Path, *, common_name: str = "test-ca") -> TlsFiles:
    """A fresh CA and a server certificate for 127.0.0.1 and localhost."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    files.key.chmod(0o600)
    return files


def add_login(server: PostgresServer, user: str = LOGIN, password: str = PASSWORD) -> None:
    """A role that logs in over TCP with a SCRAM password and may create databases."""
    server.execute(f"CREATE ROLE {user} LOGIN CREATEDB PASSWORD '{password}'")


def create_database(server: PostgresServer, name: str, owner: str = LOGIN) -> None:
    """An empty database owned by `owner`."""
    server.execute(f'CREATE DATABASE "{name}" OWNER {owner}')


def postgres_environment(server: PostgresServer, database: str = "temporal", **extra: str) -> dict[str, str]:
    """The launcher's variables for the postgres12 plugin on a test server, logging in as LOGIN."""
    return {
        "TEMPORAL_SQL_PLUGIN_NAME": "postgres12",
        "TEMPORAL_SQL_HOST": server.host,
        "TEMPORAL_SQL_PORT": str(server.port),
        "TEMPORAL_SQL_USER": LOGIN,
        "TEMPORAL_SQL_PASSWORD": PASSWORD,
        "TEMPORAL_SQL_DATABASE": database,
    } | extra


def settings_for(environment: Mapping[str, str]) -> Settings:
    """Settings from an explicit environment."""
    return load_settings(environment)


def invoke(args: list[str], environment: Mapping[str, str]) -> Result:
    """Run `temporal-dsql-runtime ARGS` in-process with exactly `environment` as its settings."""
    isolated: dict[str, str | None] = {
        name: None for name in os.environ if name.startswith(ISOLATED_PREFIXES)
    }
    return CliRunner().invoke(cli, args, env=isolated | dict(environment), catch_exceptions=False)


def sql_tool(server: PostgresServer, database: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the pinned temporal-sql-tool against a database as LOGIN; fail the test on a non-zero exit."""
    command = [
        str(tool("temporal-sql-tool")),
        "--plugin",
        "postgres12",
        "--ep",
        server.host,
        "-p",
        str(server.port),
    ]
    command += ["-u", LOGIN, "--db", database, *args]
    environment = {"PATH": os.environ.get("PATH", ""), "SQL_PASSWORD": PASSWORD}
    done = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def schema_dump(server: PostgresServer, database: str) -> str:
    """`pg_dump --schema-only` of a database: its tables, indexes, functions and views, without data."""
    command = [str(PG_BIN / "pg_dump"), "--schema-only", "--no-owner", "-h", str(server.data_dir)]
    command += ["-p", str(server.port), "-U", SUPERUSER, database]
    if os.geteuid() == 0:
        command = ["runuser", "-u", SUPERUSER, "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    noise = ("--", "\\restrict", "\\unrestrict")  # comments and pg_dump's per-run random restrict keys
    return "\n".join(line for line in done.stdout.splitlines() if not line.startswith(noise))


def version_rows(
    server: PostgresServer, database: str
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """`schema_version` rows and `schema_update_history` rows (without their timestamps), in order."""
    with server.connect(database) as conn:
        versions = conn.execute(
            "SELECT version_partition, db_name, curr_version, min_compatible_version FROM schema_version"
        ).fetchall()
        history = conn.execute(
            "SELECT version_partition, old_version, new_version, manifest_md5, description "
            "FROM schema_update_history ORDER BY update_time"
        ).fetchall()
    return versions, history
