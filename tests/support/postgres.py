"""A throwaway PostgreSQL server owned by the `postgres` OS user, on a free loopback port."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from .ports import free_port

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "postgres"


@dataclass(frozen=True)
class PostgresServer:
    """Where a running test server listens."""

    host: str
    port: int
    data_dir: Path

    def connect(self, dbname: str = "postgres", **kwargs: object) -> psycopg.Connection:
        """A superuser connection over the Unix socket (trusted), autocommit."""
        return psycopg.connect(
            host=str(self.data_dir), port=self.port, user=SUPERUSER, dbname=dbname, autocommit=True, **kwargs
        )

    def execute(self, sql: str, dbname: str = "postgres") -> None:
        """Run one statement as superuser."""
        with self.connect(dbname) as conn:
            conn.execute(sql)  # type: ignore[arg-type]


def _as_postgres(*command: str) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", SUPERUSER, "--", *command]
    return list(command)


@contextmanager
def running_postgres(
    *, ssl_files: tuple[Path, Path] | None = None, scram: bool = True
) -> Iterator[PostgresServer]:
    """Start PostgreSQL in a temp dir; TCP clients need a password (scram) unless `scram` is false.

    `ssl_files` = (certificate, key) turns on `ssl=on` with those files.
    """
    base = Path(tempfile.mkdtemp(prefix="tdr-pg-"))
    data_dir = base / "data"
    data_dir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, SUPERUSER)
        shutil.chown(data_dir, SUPERUSER)
    port = free_port()
    subprocess.run(
        _as_postgres(
            str(PG_BIN / "initdb"),
            "-D",
            str(data_dir),
            "-U",
            SUPERUSER,
            "--auth-local=trust",
            f"--auth-host={'scram-sha-256' if scram else 'trust'}",
            "-E",
            "UTF8",
            "--no-sync",
        ),
        check=True,
        capture_output=True,
    )
    settings = [
        f"port = {port}",
        "listen_addresses = '127.0.0.1'",
        f"unix_socket_directories = '{data_dir}'",
        "fsync = off",
        "max_connections = 300",
        "password_encryption = 'scram-sha-256'",
    ]
    if ssl_files is not None:
        for source, name in zip(ssl_files, ("server.crt", "server.key"), strict=True):
            target = data_dir / name
            shutil.copyfile(source, target)
            target.chmod(0o600)
            if os.geteuid() == 0:
                shutil.chown(target, SUPERUSER)
        settings += ["ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'"]
    with (data_dir / "postgresql.conf").open("a") as conf:
        conf.write("\n".join(settings) + "\n")
    log = base / "postgres.log"
    subprocess.run(
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data_dir), "-l", str(log), "-w", "-t", "60", "start"),
        check=True,
        capture_output=True,
    )
    server = PostgresServer("127.0.0.1", port, data_dir)
    try:
        _wait_ready(server)
        yield server
    finally:
        subprocess.run(
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "-w", "stop"),
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def _wait_ready(server: PostgresServer, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with server.connect() as conn:
                conn.execute("SELECT 1")
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
