"""Splitting schema files with PostgreSQL's scanner and parser, DSQL's CREATE INDEX ASYNC included."""

from __future__ import annotations

import pytest

from temporal_dsql_runtime.errors import ConfigError
from temporal_dsql_runtime.schema.statements import split_sql


def texts(sql: str) -> list[str]:
    return [statement.text for statement in split_sql(sql, "v1.0/test.sql")]


def test_semicolons_inside_quotes_dollar_bodies_and_comments_do_not_split() -> None:
    sql = """
    -- a line comment; with a semicolon
    CREATE TABLE t (a TEXT DEFAULT 'x;y', "b;c" INT); /* block; comment */
    CREATE FUNCTION f() RETURNS TEXT AS $body$ SELECT 'p;q'; $body$ LANGUAGE sql;
    INSERT INTO t (a) VALUES (E'it\\'s; -- not a comment');
    """
    assert texts(sql) == [
        "CREATE TABLE t (a TEXT DEFAULT 'x;y', \"b;c\" INT)",
        "CREATE FUNCTION f() RETURNS TEXT AS $body$ SELECT 'p;q'; $body$ LANGUAGE sql",
        "INSERT INTO t (a) VALUES (E'it\\'s; -- not a comment')",
    ]


def test_sql_standard_function_bodies_stay_whole() -> None:
    sql = "CREATE FUNCTION g() RETURNS INT LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END; SELECT 3;"
    assert texts(sql) == [
        "CREATE FUNCTION g() RETURNS INT LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END",
        "SELECT 3",
    ]


def test_async_index_keeps_its_dsql_text_and_gets_a_postgres_form() -> None:
    sql = "CREATE UNIQUE INDEX ASYNC by_name ON t (a);\ncreate index async if not exists by_b on t (b);"
    first, second = split_sql(sql, "v1.0/test.sql")
    assert (first.text, first.postgres_text, first.async_index) == (
        "CREATE UNIQUE INDEX ASYNC by_name ON t (a)",
        "CREATE UNIQUE INDEX by_name ON t (a)",
        True,
    )
    assert second.postgres_text == "create index if not exists by_b on t (b)"
    assert second.async_index and second.line == 2


def test_async_before_on_is_dsqls_unnamed_async_index_and_elsewhere_an_identifier() -> None:
    sql = 'CREATE INDEX async ON t (a); CREATE INDEX "async" ON t (b); SELECT async FROM t;'
    statements = split_sql(sql, "f.sql")
    assert [s.async_index for s in statements] == [True, False, False]
    assert [s.postgres_text for s in statements] == [
        "CREATE INDEX ON t (a)",
        'CREATE INDEX "async" ON t (b)',
        "SELECT async FROM t",
    ]


def test_statements_are_classified_for_dsql_transactions() -> None:
    sql = "CREATE TABLE t (a INT); INSERT INTO t VALUES (1); UPDATE t SET a = 2;"
    sql += "DO $$ BEGIN END $$; DROP TABLE t"
    assert [s.kind for s in split_sql(sql, "f.sql")] == ["ddl", "dml", "dml", "procedural", "ddl"]


def test_positions_count_statements_and_lines() -> None:
    sql = "-- header\n\nCREATE TABLE a (x INT);\n\n/* note */\nCREATE TABLE b (y INT);"
    assert [(s.number, s.line, s.where) for s in split_sql(sql, "v1.1/x.sql")] == [
        (1, 3, "v1.1/x.sql statement 1 (line 3)"),
        (2, 6, "v1.1/x.sql statement 2 (line 6)"),
    ]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT 1;\nCREATE TABLE x (a INT;\nSELECT 2;", 'v1.0/bad.sql: line 2: syntax error at or near ";"'),
        ("CREATE TABLE (;", 'v1.0/bad.sql: line 1: syntax error at or near "("'),
        ("SELECT 'unterminated", "v1.0/bad.sql: line 1: unterminated quoted string"),
        ("BEGIN;\nCREATE TABLE x (a INT);", "v1.0/bad.sql statement 1 (line 1): transaction control"),
    ],
)
def test_broken_files_are_refused_with_file_and_line(sql: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        split_sql(sql, "v1.0/bad.sql")
    assert raised.value.problems[0].startswith(message)


def test_a_file_of_comments_has_no_statements() -> None:
    assert split_sql("-- nothing here;\n/* nor; here */\n", "f.sql") == ()
