"""SQL files split into statements by PostgreSQL's own scanner and parser (pglast), DSQL's `ASYNC` included.

DSQL's `CREATE [UNIQUE] INDEX ASYNC` is not PostgreSQL grammar, so a file is parsed in its PostgreSQL form:
the scanner (PostgreSQL's lexer, which knows quoted strings and identifiers, dollar-quoted bodies and
comments) finds each `ASYNC` in that position as a token, which is blanked out with as many spaces. The
parser then splits and checks the whole file; as offsets are unchanged, each statement's slice cuts both the
DSQL text (as written) and the PostgreSQL text. A file the parser rejects stops the tool before anything
runs, naming file and line. (pglast's scanner-only split is not used: it silently drops everything after an
unbalanced parenthesis and splits SQL-standard `BEGIN ATOMIC` bodies apart.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import pglast
from pglast import parser

from ..errors import ConfigError

StatementKind = Literal["ddl", "dml", "procedural"]

DML_NODES = frozenset({"InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt", "SelectStmt"})
PROCEDURAL_NODES = frozenset({"DoStmt", "CallStmt"})
REFUSED_NODES = {
    "TransactionStmt": "transaction control (BEGIN/COMMIT) is refused: the tool owns transactions"
}
COMMENT_TOKENS = frozenset({"C_COMMENT", "SQL_COMMENT"})
SUMMARY_WIDTH = 100


@dataclass(frozen=True)
class Statement:
    """One statement of a schema file, in the form DSQL runs and the form PostgreSQL runs."""

    source: str
    """The file it came from, relative to the schema directory, e.g. `v1.2/indexes.sql`."""
    number: int
    """Its position in the file, from 1."""
    line: int
    """The line it starts on."""
    text: str
    """As written, for DSQL."""
    postgres_text: str
    """As PostgreSQL accepts it: `text` without DSQL's `ASYNC`."""
    kind: StatementKind
    async_index: bool
    """A `CREATE INDEX ASYNC`: DSQL returns a job id to wait for."""

    @property
    def where(self) -> str:
        """The file and position, for messages."""
        return f"{self.source} statement {self.number} (line {self.line})"

    @property
    def summary(self) -> str:
        """The statement on one line, shortened."""
        return shorten(self.text)


def shorten(sql: str) -> str:
    """A statement on one line without comments, cut at SUMMARY_WIDTH characters."""
    for token in reversed([token for token in parser.scan(sql) if token.name in COMMENT_TOKENS]):
        sql = sql[: token.start] + " " + sql[token.end + 1 :]
    flat = re.sub(r"\s+", " ", sql).strip()
    return flat if len(flat) <= SUMMARY_WIDTH else flat[: SUMMARY_WIDTH - 3] + "..."


def split_sql(sql: str, source: str) -> tuple[Statement, ...]:
    """The statements of one file's text; `source` names the file in every message."""
    async_tokens = _async_tokens(sql, source)
    postgres_sql = sql
    for token in async_tokens:
        postgres_sql = (
            postgres_sql[: token.start] + " " * (token.end + 1 - token.start) + postgres_sql[token.end + 1 :]
        )
    try:
        slices = pglast.split(postgres_sql, only_slices=True)
    except parser.ParseError as error:
        raise ConfigError(f"{source}: {_located(error, sql)}") from None
    statements = []
    for number, part in enumerate(slices, start=1):
        line = sql.count("\n", 0, part.start) + 1
        statement = Statement(
            source=source,
            number=number,
            line=line,
            text=sql[part],
            postgres_text=_without(sql, part, async_tokens),
            kind=_kind(postgres_sql[part], f"{source} statement {number} (line {line})"),
            async_index=any(part.start <= token.start < part.stop for token in async_tokens),
        )
        statements.append(statement)
    return tuple(statements)


def _without(sql: str, part: slice, tokens: list[parser.Token]) -> str:
    """A statement's text with the given tokens (and the blanks after each) cut out."""
    text, end = "", part.stop
    for token in reversed([token for token in tokens if part.start <= token.start < part.stop]):
        text = sql[token.end + 1 : end].lstrip(" \t") + text
        end = token.start
    return sql[part.start : end] + text


def _kind(postgres_text: str, where: str) -> StatementKind:
    node = type(parser.parse_sql(postgres_text)[0].stmt).__name__
    if node in REFUSED_NODES:
        raise ConfigError(f"{where}: {REFUSED_NODES[node]}")
    return "dml" if node in DML_NODES else "procedural" if node in PROCEDURAL_NODES else "ddl"


def _async_tokens(sql: str, source: str) -> list[parser.Token]:
    """Each `ASYNC` of `CREATE [UNIQUE] INDEX ASYNC ...` in a file.

    `ASYNC` is no PostgreSQL keyword, so the scanner calls it an identifier; in this position it is read as
    DSQL reads it, as the keyword, even before `ON` (an unnamed index: `CREATE INDEX ASYNC ON t (c)`). An
    index named async must be quoted (`"async"`), which the scanner reports as a different identifier text.
    """
    try:
        tokens = [token for token in parser.scan(sql) if token.name not in COMMENT_TOKENS]
    except parser.ParseError as error:
        raise ConfigError(f"{source}: {_located(error, sql)}") from None
    found = []
    for index, token in enumerate(tokens):
        if token.name != "IDENT" or sql[token.start : token.end + 1].lower() != "async":
            continue
        before = [earlier.name for earlier in tokens[max(index - 3, 0) : index]]
        if before[-2:] == ["CREATE", "INDEX"] or before == ["CREATE", "UNIQUE", "INDEX"]:
            found.append(token)
    return found


def _located(error: parser.ParseError, sql: str) -> str:
    """`line N: message` for a scanner or parser error (its offset counts characters)."""
    message = str(error.args[0]) if error.args else str(error)
    offset = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], int) else None
    if offset is None:
        return message
    return f"line {sql.count(chr(10), 0, offset) + 1}: {message}"
