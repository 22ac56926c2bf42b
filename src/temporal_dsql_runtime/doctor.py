"""Layered connectivity diagnosis: DNS → TCP → TLS → authentication → SELECT 1 → schema → visibility.

Each layer runs only when the one below passed, so the first failure is the one to fix, and it comes with
a diagnosis naming the setting or the step to take. Exit codes: 0 when every check passed; 69
(EX_UNAVAILABLE) when something cannot be reached (name, port, TLS negotiation, query, visibility endpoint);
78 (EX_CONFIG) when a setting, a credential, a certificate or the schema is wrong. No result holds a secret.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path

from .doctor_checks import (
    Check,
    check_auth,
    check_dns,
    check_http_visibility,
    check_query,
    check_schema,
    check_sql_visibility,
    check_tcp,
    check_tls,
    skipped,
)
from .errors import ConfigError
from .schema.locations import SchemaTarget, default_schema_dir
from .settings import Settings

CHECK_NAMES = ("dns", "tcp", "tls", "auth", "query", "schema", "visibility")
DEFAULT_CHECK_TIMEOUT = 5.0
STATUS_LABELS = {"pass": "ok", "fail": "FAIL", "skip": "skip"}


@dataclass(frozen=True)
class Report:
    """Every check in order; those after a failure are skipped."""

    checks: tuple[Check, ...]

    @property
    def healthy(self) -> bool:
        """Whether no check failed."""
        return all(check.status != "fail" for check in self.checks)

    @property
    def exit_code(self) -> int:
        """0 when healthy, else the exit code of the first failure."""
        return next((check.exit_code for check in self.checks if check.status == "fail"), 0)

    @property
    def first_failure(self) -> Check | None:
        """The failed check, if any."""
        return next((check for check in self.checks if check.status == "fail"), None)

    def as_json(self) -> str:
        """The report for machines."""
        checks = [asdict(check) for check in self.checks]
        return json.dumps({"healthy": self.healthy, "exit_code": self.exit_code, "checks": checks}, indent=2)

    def lines(self) -> list[str]:
        """The report for people: one line per check, a `fix:` line under a failure."""
        lines = []
        for check in self.checks:
            lines.append(f"{STATUS_LABELS[check.status]:<5} {check.name:<11}{check.detail}")
            if check.diagnosis:
                lines.append(f"{'':<17}fix: {check.diagnosis}")
        lines.append("healthy" if self.healthy else f"unhealthy (exit {self.exit_code})")
        return lines


def run_doctor(
    settings: Settings,
    *,
    schema_dir: Path | None = None,
    visibility_schema_dir: Path | None = None,
    timeout: float = DEFAULT_CHECK_TIMEOUT,
) -> Report:
    """Run the checks in order, stopping at the first failure; `timeout` bounds each network step (seconds).

    `schema_dir` / `visibility_schema_dir` are the versioned schema directories whose newest version the
    server needs; by default those under TEMPORAL_SCHEMA_ROOT for each store's plugin (the schema check
    still requires a version row when the directory is absent, and reports the version it found).
    """
    dirs = (
        schema_dir or _plugin_schema_dir(settings, "temporal"),
        visibility_schema_dir or _plugin_schema_dir(settings.visibility_sql(), "visibility"),
    )
    checks: list[Check] = []
    with closing(_checks(settings, dirs, timeout)) as running:
        for check in running:
            checks.append(check)
            if check.status == "fail":
                break
    done = {check.name for check in checks}
    reason = f"not run: {checks[-1].name} failed" if checks and checks[-1].status == "fail" else "not run"
    checks += [skipped(name, reason) for name in CHECK_NAMES if name not in done]
    return Report(tuple(checks))


def _plugin_schema_dir(settings: Settings, target: SchemaTarget) -> Path:
    """The plugin's schema directory, or (for a plugin without one) a path that does not exist."""
    try:
        return default_schema_dir(settings.sql_plugin_name, target, settings.schema_root)
    except ConfigError:
        return settings.schema_root / "none" / target


def wait_until_healthy(
    settings: Settings,
    timeout: float,
    *,
    schema_dir: Path | None = None,
    visibility_schema_dir: Path | None = None,
    check_timeout: float = DEFAULT_CHECK_TIMEOUT,
    on_attempt: Callable[[Report], None] = lambda report: None,
    sleep: Callable[[float], None] = time.sleep,
) -> Report:
    """Run the doctor until it is healthy or `timeout` seconds have passed; return the last report."""
    if not 0 <= timeout < math.inf:
        raise ValueError(f"timeout must be a finite number of seconds, not less than 0: {timeout}")
    deadline = time.monotonic() + timeout
    interval = 0.5
    while True:
        remaining = deadline - time.monotonic()
        report = run_doctor(
            settings,
            schema_dir=schema_dir,
            visibility_schema_dir=visibility_schema_dir,
            timeout=max(0.5, min(check_timeout, remaining)),
        )
        if report.healthy or time.monotonic() + interval > deadline:
            return report
        on_attempt(report)
        sleep(interval)
        interval = min(interval * 2, 5.0)


def _checks(settings: Settings, dirs: tuple[Path, Path], timeout: float) -> Generator[Check, None, None]:
    """The checks, each run only when the ones before passed (the caller stops at a failure)."""
    schema_dir, visibility_schema_dir = dirs
    if settings.sql_plugin_name == "sqlite" or not settings.sql_host:
        for name in CHECK_NAMES[:-1]:
            yield skipped(name, "sqlite: no database server")
    else:
        dns, addresses = check_dns(settings.sql_host, settings.sql_port)
        yield dns
        tcp, address = check_tcp(settings.sql_host, addresses, settings.sql_port, timeout)
        yield tcp
        yield check_tls(settings, address or settings.sql_host, timeout)
        auth, conn = check_auth(settings, timeout)
        yield auth
        if conn is None:
            return
        with closing(conn):
            yield check_query(conn)
            yield check_schema(conn, "schema", settings.sql_database or "", schema_dir, "")
    yield _visibility(settings, visibility_schema_dir, timeout)


def _visibility(settings: Settings, schema_dir: Path, timeout: float) -> Check:
    store = settings.visibility_store
    if store == "sql":
        return check_sql_visibility(settings, schema_dir, timeout)
    if store in ("opensearch", "elasticsearch"):
        return check_http_visibility(settings, timeout)
    return skipped("visibility", f"visibility store {store}: nothing to reach")
