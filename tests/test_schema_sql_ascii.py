"""A database whose server encoding is SQL_ASCII (what `initdb` gives without a locale, as in most containers).

psycopg returns text columns of such a database as bytes; the schema version must still read as `1.19`.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from support.postgres import PostgresServer, running_postgres
from temporal_dsql_runtime.schema import bookkeeping

DATABASE = "temporal_sql_ascii"


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    with running_postgres() as running:
        running.execute(
            f"CREATE DATABASE {DATABASE} ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
        )
        yield running


def test_the_version_of_a_sql_ascii_database_reads_as_text(server: PostgresServer) -> None:
    with server.connect(DATABASE) as conn:
        assert conn.execute("SHOW server_encoding").fetchone() == (b"SQL_ASCII",)
        conn.execute(bookkeeping.VERSION_TABLES_SQL)
        record = bookkeeping.VersionRecord("1.18", "1.19", "1.0", "", "test")
        bookkeeping.write_version(conn, DATABASE, record)
        assert conn.execute("SELECT curr_version FROM schema_version").fetchone() == (b"1.19",), (
            "expected psycopg to hand SQL_ASCII text over as bytes"
        )
        assert bookkeeping.read_version(conn, DATABASE) == "1.19"


def test_a_utf8_database_still_reads_its_version(server: PostgresServer) -> None:
    server.execute("CREATE DATABASE temporal_utf8 ENCODING 'UTF8' TEMPLATE template0")
    with server.connect("temporal_utf8") as conn:
        assert isinstance(conn, psycopg.Connection)
        conn.execute(bookkeeping.VERSION_TABLES_SQL)
        bookkeeping.write_version(
            conn, "temporal_utf8", bookkeeping.VersionRecord("0", "1.19", "1.0", "", "t")
        )
        assert bookkeeping.read_version(conn, "temporal_utf8") == "1.19"
