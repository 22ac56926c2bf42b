"""Temporal's PostgreSQL schema set up with upstream's temporal-sql-tool, for clusters under test."""

from __future__ import annotations

import subprocess

from .postgres import PostgresServer
from .temporal_cluster import SERVER_MODULE, tool

SCHEMA_ROOT = SERVER_MODULE / "schema" / "postgresql" / "v12"


def create_temporal_databases(pg: PostgresServer, role: str, password: str, name: str = "temporal") -> None:
    """Databases `name` and `name_visibility` owned by `role`, both at the latest upstream schema.

    Each cluster under test gets its own: temporal-server processes starting together against metadata another
    cluster left (other ports) race to rewrite it, and one of them exits ("SaveClusterMetadata ... mismatch").
    """
    for database, schema in ((name, "temporal"), (f"{name}_visibility", "visibility")):
        pg.execute(f"CREATE DATABASE {database} OWNER {role}")
        common = [
            str(tool("temporal-sql-tool")),
            "--plugin",
            "postgres12",
            "--ep",
            pg.host,
            "-p",
            str(pg.port),
            "-u",
            role,
            "--pw",
            password,
            "--db",
            database,
        ]
        subprocess.run([*common, "setup-schema", "-v", "0.0"], check=True, capture_output=True)
        subprocess.run(
            [*common, "update-schema", "-d", str(SCHEMA_ROOT / schema / "versioned")],
            check=True,
            capture_output=True,
        )
