"""The `schema_version` and `schema_update_history` tables, kept exactly as temporal-sql-tool keeps them.

Table definitions and statements follow upstream `common/persistence/sql/sqlplugin/postgresql/admin.go`; rows
follow `tools/common/schema/setuptask.go` and `updatetask.go`: one `schema_version` row per database
(`version_partition` 0, `db_name` the database connected to) and one history row per version applied, stamped
with the current UTC time. Either tool can therefore take over from the other, and temporal-server's start-up
check (`curr_version` not older than it expects) reads what it always reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

CREATE_SCHEMA_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version("
    "version_partition INT not null, "
    "db_name VARCHAR(255) not null, "
    "creation_time TIMESTAMP, "
    "curr_version VARCHAR(64), "
    "min_compatible_version VARCHAR(64), "
    "PRIMARY KEY (version_partition, db_name));"
)
CREATE_SCHEMA_UPDATE_HISTORY_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_update_history("
    "version_partition INT not null, "
    "year int not null, "
    "month int not null, "
    "update_time TIMESTAMP not null, "
    "description VARCHAR(255), "
    "manifest_md5 VARCHAR(64), "
    "new_version VARCHAR(64), "
    "old_version VARCHAR(64), "
    "PRIMARY KEY (version_partition, year, month, update_time));"
)
VERSION_TABLES_SQL = CREATE_SCHEMA_VERSION_TABLE + "\n" + CREATE_SCHEMA_UPDATE_HISTORY_TABLE
VERSION_TABLES_SOURCE = "(schema_version tables)"

READ_VERSION = "SELECT curr_version FROM schema_version WHERE version_partition=0 AND db_name=%s"
TABLE_EXISTS = "SELECT to_regclass('schema_version') IS NOT NULL"
"""Whether READ_VERSION's unqualified `schema_version` names a table on the search path; unlike
information_schema, independent of the user's privileges on it, so a missing privilege surfaces as one."""
WRITE_VERSION = (
    "INSERT INTO schema_version"
    "(version_partition, db_name, creation_time, curr_version, min_compatible_version) "
    "VALUES (0,%s,%s,%s,%s) "
    "ON CONFLICT (version_partition, db_name) DO UPDATE "
    "SET creation_time = excluded.creation_time, "
    "curr_version = excluded.curr_version, "
    "min_compatible_version = excluded.min_compatible_version"
)
WRITE_HISTORY = (
    "INSERT INTO schema_update_history"
    "(version_partition, year, month, update_time, old_version, new_version, manifest_md5, description) "
    "VALUES (0,%s,%s,%s,%s,%s,%s,%s)"
)


@dataclass(frozen=True)
class VersionRecord:
    """What one applied version writes: the new `schema_version` row and one history row."""

    old_version: str
    new_version: str
    min_compatible_version: str
    manifest_md5: str
    description: str


INITIAL_VERSION = "0.0"
INITIAL_RECORD = VersionRecord("0", INITIAL_VERSION, INITIAL_VERSION, "", "initial version")
"""What `temporal-sql-tool setup-schema --version 0.0` writes first."""


def read_version(conn: psycopg.Connection, database: str) -> str | None:
    """The database's `curr_version`, or None when the version table or its row is missing.

    A database whose server encoding is SQL_ASCII hands text over as bytes (psycopg cannot know their encoding);
    a version is ASCII, so it is decoded here.
    """
    if conn.execute(TABLE_EXISTS).fetchone() != (True,):
        return None
    row = conn.execute(READ_VERSION, (database,)).fetchone()
    if row is None:
        return None
    value = row[0]
    return value.decode("ascii", errors="replace") if isinstance(value, bytes) else str(value)


def write_version(
    conn: psycopg.Connection, database: str, record: VersionRecord, now: datetime | None = None
) -> None:
    """Write a version's rows (DML only; the caller owns the transaction)."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    conn.execute(WRITE_VERSION, (database, stamp, record.new_version, record.min_compatible_version))
    conn.execute(
        WRITE_HISTORY,
        (
            stamp.year,
            stamp.month,
            stamp,
            record.old_version,
            record.new_version,
            record.manifest_md5,
            record.description,
        ),
    )
