"""`doctor` against real failures: each layer broken for real, with its diagnosis, exit code and no secret."""

from __future__ import annotations

import http.server
import io
import json
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from schema_support import (
    FIXTURE_SCHEMA,
    PASSWORD,
    TlsFiles,
    add_login,
    create_database,
    invoke,
    postgres_environment,
    settings_for,
    write_tls_files,
)
from support.ports import free_port
from support.postgres import PostgresServer, running_postgres
from temporal_dsql_runtime.doctor import CHECK_NAMES, Report, run_doctor, wait_until_healthy
from temporal_dsql_runtime.doctor_checks import check_dns, check_http_visibility
from temporal_dsql_runtime.errors import ConfigError
from temporal_dsql_runtime.launch_log import StepLog
from temporal_dsql_runtime.launcher import run_preflight
from temporal_dsql_runtime.schema.tasks import resolve_target, setup_schema

DOCTOR = ["doctor", "--schema-dir", str(FIXTURE_SCHEMA), "--visibility-schema-dir", str(FIXTURE_SCHEMA)]
DOCTOR += ["--timeout", "3"]
WRONG_PASSWORD = "wr0ng-Pa55word-also-secret"
AWS_EXAMPLE = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}

SIGV4 = {"TEMPORAL_OPENSEARCH_AUTH": "aws-sigv4", "TEMPORAL_OPENSEARCH_REGION": "eu-west-1"}
OFFLINE = {"TEMPORAL_SQL_PLUGIN_NAME": "postgres12", "TEMPORAL_SQL_HOST": "127.0.0.1"}
PROFILE_NOT_FOUND = (
    "TEMPORAL_OPENSEARCH_AUTH=aws-sigv4: cannot load AWS credentials to sign the request: "
    "The config profile (nope) could not be found"
)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return write_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_server(tls: TlsFiles) -> Iterator[PostgresServer]:
    """PostgreSQL with TLS; `temporal` and `temporal_visibility` at the fixture's newest version,
    `old` at 1.1, `empty` without a schema."""
    with running_postgres(ssl_files=(tls.cert, tls.key)) as server:
        add_login(server)
        environment = tls_environment(server, tls)
        settings = settings_for(environment)
        for target, database, version in (
            ("temporal", "temporal", None),
            ("visibility", "temporal_visibility", None),
            ("temporal", "old", "1.1"),
        ):
            chosen = resolve_target(settings, target=target, database=database, schema_dir=FIXTURE_SCHEMA)  # type: ignore[arg-type]
            setup_schema(settings, chosen, to_version=version)
        create_database(server, "empty")
        yield server


@pytest.fixture(scope="module")
def plain_server() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        add_login(server)
        yield server


def tls_environment(server: PostgresServer, tls: TlsFiles, **extra: str) -> dict[str, str]:
    return postgres_environment(
        server, TEMPORAL_SQL_TLS_ENABLED="true", TEMPORAL_SQL_CA_FILE=str(tls.ca), **extra
    )


def opensearch_environment(
    server: PostgresServer, tls: TlsFiles, endpoint: str, **extra: str
) -> dict[str, str]:
    """The TLS environment with the visibility store in OpenSearch at `endpoint`."""
    return tls_environment(
        server, tls, TEMPORAL_VISIBILITY_STORE="opensearch", TEMPORAL_OPENSEARCH_ENDPOINT=endpoint, **extra
    )


def doctor(environment: dict[str, str], *extra: str) -> tuple[int, dict[str, Any], str]:
    """Run `doctor --json`; return the exit code, the report and everything printed."""
    result = invoke([*DOCTOR, "--json", *extra], environment)
    assert PASSWORD not in result.output and WRONG_PASSWORD not in result.output
    return result.exit_code, json.loads(result.stdout), result.output


def failure(report: dict[str, Any]) -> dict[str, Any]:
    """The failed check, after checking that everything before it passed and everything after was skipped."""
    statuses = [check["status"] for check in report["checks"]]
    assert [check["name"] for check in report["checks"]] == list(CHECK_NAMES)
    index = statuses.index("fail")
    assert set(statuses[:index]) <= {"pass", "skip"} and set(statuses[index + 1 :]) <= {"skip"}
    assert not report["healthy"]
    return dict(report["checks"][index])


def test_healthy_server_passes_every_check(tls_server: PostgresServer, tls: TlsFiles) -> None:
    result = invoke(DOCTOR, tls_environment(tls_server, tls))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[:2] for line in lines[:-1]] == [["ok", name] for name in CHECK_NAMES]
    assert lines[-1] == "healthy"
    assert f"verified against TEMPORAL_SQL_CA_FILE ({tls.ca})" in lines[2]
    assert "database temporal is at version 1.2" in lines[5]
    assert "database temporal_visibility is at version 1.2" in lines[6]
    assert PASSWORD not in result.output


def test_closed_port(tls: TlsFiles, tls_server: PostgresServer) -> None:
    port = free_port()
    code, report, _ = doctor(tls_environment(tls_server, tls, TEMPORAL_SQL_PORT=str(port)))
    check = failure(report)
    assert (code, report["exit_code"], check["name"]) == (69, 69, "tcp")
    assert check["detail"] == f"TCP connect to 127.0.0.1:{port} refused"
    assert (
        check["diagnosis"]
        == f"nothing listens on 127.0.0.1:{port}: start the database, or fix TEMPORAL_SQL_PORT"
    )


def test_unresolvable_name(tls: TlsFiles, tls_server: PostgresServer) -> None:
    host = "database.temporal-dsql-runtime.invalid"
    code, report, _ = doctor(tls_environment(tls_server, tls, TEMPORAL_SQL_HOST=host))
    check = failure(report)
    assert (code, check["name"]) == (69, "dns")
    assert check["detail"].startswith(f"{host} does not resolve")
    assert check["diagnosis"].startswith(
        "check TEMPORAL_SQL_HOST for typos; a VPC endpoint's private DNS name"
    )


def test_tls_required_by_the_client_but_the_server_has_none(
    plain_server: PostgresServer, tls: TlsFiles
) -> None:
    code, report, _ = doctor(tls_environment(plain_server, tls))
    check = failure(report)
    assert (code, check["name"]) == (78, "tls")
    assert check["detail"] == f"127.0.0.1:{plain_server.port} answered: no TLS"
    assert check["diagnosis"].startswith("the server does not offer TLS but TEMPORAL_SQL_TLS_ENABLED is true")


def test_wrong_ca(tls_server: PostgresServer, tmp_path: Path) -> None:
    other = write_tls_files(tmp_path, common_name="some-other-ca")
    code, report, _ = doctor(
        postgres_environment(tls_server, TEMPORAL_SQL_TLS_ENABLED="true", TEMPORAL_SQL_CA_FILE=str(other.ca))
    )
    check = failure(report)
    assert (code, check["name"]) == (78, "tls")
    assert check["detail"].startswith("certificate not accepted: ")
    assert check["diagnosis"].startswith(
        f"the server's certificate is not signed by the CA in TEMPORAL_SQL_CA_FILE ({other.ca})"
    )


def test_wrong_password_from_a_file(tls_server: PostgresServer, tls: TlsFiles, tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text(WRONG_PASSWORD + "\n")
    environment = tls_environment(tls_server, tls, TEMPORAL_SQL_PASSWORD_FILE=str(secret))
    del environment["TEMPORAL_SQL_PASSWORD"]
    code, report, output = doctor(environment)
    check = failure(report)
    assert (code, check["name"]) == (78, "auth")
    assert check["diagnosis"] == (
        f"127.0.0.1:{tls_server.port}: password authentication failed for user temporal: "
        "check TEMPORAL_SQL_PASSWORD (or TEMPORAL_SQL_PASSWORD_FILE) and TEMPORAL_SQL_USER"
    )
    assert WRONG_PASSWORD not in output


def test_schema_missing(tls_server: PostgresServer, tls: TlsFiles) -> None:
    code, report, _ = doctor(tls_environment(tls_server, tls, TEMPORAL_SQL_DATABASE="empty"))
    check = failure(report)
    assert (code, check["name"]) == (78, "schema")
    assert check["detail"] == "database empty has no schema (no schema_version row)"
    assert check["diagnosis"] == "run `temporal-dsql-runtime schema setup`"


def test_schema_older_than_required(tls_server: PostgresServer, tls: TlsFiles) -> None:
    code, report, _ = doctor(tls_environment(tls_server, tls, TEMPORAL_SQL_DATABASE="old"))
    check = failure(report)
    assert (code, check["name"]) == (78, "schema")
    assert check["detail"] == (
        f"database old is at version 1.1; the server needs 1.2 (newest in {FIXTURE_SCHEMA})"
    )
    assert check["diagnosis"] == "run `temporal-dsql-runtime schema update`"


def test_visibility_endpoint_down(tls_server: PostgresServer, tls: TlsFiles) -> None:
    port = free_port()
    code, report, _ = doctor(opensearch_environment(tls_server, tls, f"http://127.0.0.1:{port}"))
    check = failure(report)
    assert (code, check["name"]) == (69, "visibility")
    assert check["detail"] == f"127.0.0.1:{port} refused the connection"
    assert check["diagnosis"].startswith(
        "check that the OpenSearch domain is up and the port in TEMPORAL_OPENSEARCH_ENDPOINT"
    )


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        type(self).seen.append({"path": self.path, **dict(self.headers.items())})
        found = self.path == "/temporal_visibility_v1"
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def test_visibility_request_is_sigv4_signed(tls_server: PostgresServer, tls: TlsFiles) -> None:
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder) as endpoint:
        threading.Thread(target=endpoint.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{endpoint.server_address[1]}"
        environment = opensearch_environment(tls_server, tls, url, **SIGV4, **AWS_EXAMPLE)
        code, report, output = doctor(environment)
        endpoint.shutdown()
    assert code == 0, output
    assert report["checks"][-1]["detail"] == "GET /temporal_visibility_v1 answered 200, SigV4-signed"
    authorization = _Recorder.seen[-1]["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/")
    assert "/eu-west-1/es/aws4_request" in authorization
    assert AWS_EXAMPLE["AWS_SECRET_ACCESS_KEY"] not in output


def test_wait_retries_until_the_schema_appears(tls_server: PostgresServer, tls: TlsFiles) -> None:
    create_database(tls_server, "later")
    settings = settings_for(tls_environment(tls_server, tls, TEMPORAL_SQL_DATABASE="later"))
    attempts: list[Report] = []

    def set_up_after_first_failure(report: Report) -> None:
        attempts.append(report)
        if len(attempts) == 1:
            setup_schema(settings, resolve_target(settings, schema_dir=FIXTURE_SCHEMA))

    report = wait_until_healthy(
        settings,
        60,
        schema_dir=FIXTURE_SCHEMA,
        visibility_schema_dir=FIXTURE_SCHEMA,
        on_attempt=set_up_after_first_failure,
    )
    assert report.healthy and report.exit_code == 0
    assert [attempt.first_failure.name for attempt in attempts if attempt.first_failure] == ["schema"]


def test_wait_gives_up_at_the_timeout(tls: TlsFiles, tls_server: PostgresServer) -> None:
    port = free_port()
    result = invoke([*DOCTOR, "--wait", "2s"], tls_environment(tls_server, tls, TEMPORAL_SQL_PORT=str(port)))
    assert result.exit_code == 69
    assert f"waiting: tcp: TCP connect to 127.0.0.1:{port} refused" in result.stderr
    assert result.stdout.splitlines()[-1] == "unhealthy (exit 69)"


def test_schema_version_the_user_has_no_privilege_on_is_a_privilege_failure_not_missing(
    tls_server: PostgresServer, tls: TlsFiles
) -> None:
    tls_server.execute(f"CREATE ROLE outsider LOGIN PASSWORD '{PASSWORD}'")
    code, report, _ = doctor(tls_environment(tls_server, tls, TEMPORAL_SQL_USER="outsider"))
    check = failure(report)
    assert (code, check["name"]) == (78, "schema")
    assert (
        check["detail"]
        == "cannot read schema_version in temporal: permission denied for table schema_version"
    )


def test_unknown_aws_profile_fails_the_check_and_the_preflight_without_a_traceback(
    tls_server: PostgresServer, tls: TlsFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws = {
        "AWS_PROFILE": "nope",
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
    }
    environment = opensearch_environment(tls_server, tls, f"http://127.0.0.1:{free_port()}", **SIGV4, **aws)
    code, report, _ = doctor(environment)
    check = failure(report)
    assert (code, check["name"], check["detail"]) == (78, "visibility", "cannot sign the request")
    assert check["diagnosis"] == PROFILE_NOT_FOUND

    for name, value in aws.items():  # botocore reads the process environment
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        run_preflight(settings_for(environment), StepLog(stream=io.StringIO()))
    assert raised.value.problems == (f"preflight visibility: cannot sign the request; {PROFILE_NOT_FOUND}",)


class _Garbage(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.recv(65536)
        self.request.sendall(b"garbage\r\n\r\n")


def test_visibility_endpoint_not_speaking_http(tls_server: PostgresServer, tls: TlsFiles) -> None:
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Garbage) as endpoint:
        threading.Thread(target=endpoint.serve_forever, daemon=True).start()
        port = endpoint.server_address[1]
        code, report, _ = doctor(opensearch_environment(tls_server, tls, f"http://127.0.0.1:{port}"))
        endpoint.shutdown()
    check = failure(report)
    assert (code, check["name"]) == (69, "visibility")
    assert check["detail"] == f"127.0.0.1:{port} answered, but not in HTTP (BadStatusLine)"
    assert check["diagnosis"].startswith("the visibility endpoint is not speaking HTTP")


@pytest.mark.parametrize(
    ("endpoint", "detail"),
    [
        (
            "http://127.0.0.1:99999",
            "TEMPORAL_OPENSEARCH_ENDPOINT has no usable port: Port out of range 0-65535",
        ),
        ("http://a..b:9200", "a..b is not a valid host name (an empty or over-long label)"),
    ],
)
def test_unusable_visibility_endpoint_is_a_failed_check(endpoint: str, detail: str) -> None:
    valid = settings_for(
        OFFLINE
        | {"TEMPORAL_VISIBILITY_STORE": "opensearch", "TEMPORAL_OPENSEARCH_ENDPOINT": "http://127.0.0.1:9200"}
    )
    check = check_http_visibility(valid.model_copy(update={"opensearch_endpoint": endpoint}), 3)
    assert (check.name, check.status, check.exit_code, check.detail) == ("visibility", "fail", 78, detail)
    assert check.diagnosis is not None and "TEMPORAL_OPENSEARCH_ENDPOINT" in check.diagnosis


@pytest.mark.parametrize("host", ["a..b", "x" * 64 + ".example"])
def test_host_with_an_empty_or_over_long_label_fails_dns_as_configuration(host: str) -> None:
    check, addresses = check_dns(host, 5432)
    assert (check.status, check.exit_code, addresses) == ("fail", 78, [])
    assert check.detail == f"{host} is not a valid host name (an empty or over-long label)"
    assert check.diagnosis is not None and check.diagnosis.startswith("check TEMPORAL_SQL_HOST for typos")
    report = run_doctor(settings_for(OFFLINE).model_copy(update={"sql_host": host}), timeout=1)
    assert (report.exit_code, report.first_failure) == (78, check)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("wait", ["nan", "inf", "1e999", "-1", "-5s"])
def test_wait_must_be_a_finite_number_of_seconds(wait: str) -> None:
    result = invoke(["doctor", f"--wait={wait}"], OFFLINE)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--wait': expected a finite number of seconds, 0 or more, "
        "or a Go duration such as 30s or 2m"
    )
    with pytest.raises(ValueError, match="finite"):
        wait_until_healthy(settings_for(OFFLINE), float(wait.removesuffix("s")))
