"""`temporal-dsql-runtime healthcheck` against real gRPC health servers, closed ports and silent ports."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest
from click.testing import CliRunner, Result
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from support.ports import free_port
from temporal_dsql_runtime.cli import cli
from temporal_dsql_runtime.healthcheck import HEALTH_SERVICE_NAMES, grpc_target, probe_host
from temporal_dsql_runtime.loading import load_settings
from temporal_dsql_runtime.settings import SERVICES

REPO_ROOT = Path(__file__).resolve().parents[1]
SERVER_MODULE = REPO_ROOT / ".tools" / "server-module"
STATUS = health_pb2.HealthCheckResponse


@contextmanager
def health_server(statuses: dict[str, int], host: str = "127.0.0.1") -> Iterator[int]:
    """A real grpc.health.v1 server on a free port, answering `statuses` (health service name → status)."""
    servicer = health.HealthServicer()
    for name, status in statuses.items():
        servicer.set(name, status)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port(grpc_target(host, 0))
    server.start()
    try:
        yield port
    finally:
        server.stop(grace=None)


@contextmanager
def silent_listener() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def run_healthcheck(environment: dict[str, str], *args: str) -> Result:
    base = {"TEMPORAL_SQL_PLUGIN_NAME": "sqlite"}
    return CliRunner().invoke(cli, ["healthcheck", *args], env=base | environment)


def ports_environment(ports: dict[str, int]) -> dict[str, str]:
    variables = {f"TEMPORAL_{service.upper()}_GRPC_PORT": str(port) for service, port in ports.items()}
    return variables | {"TEMPORAL_SERVICES": ",".join(ports)}


def test_a_serving_frontend_is_healthy() -> None:
    with health_server({HEALTH_SERVICE_NAMES["frontend"]: STATUS.SERVING}) as port:
        result = run_healthcheck(ports_environment({"frontend": port}))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"healthy: frontend 127.0.0.1:{port} SERVING\n"


def test_a_frontend_that_is_not_serving_is_unhealthy() -> None:
    with health_server({HEALTH_SERVICE_NAMES["frontend"]: STATUS.NOT_SERVING}) as port:
        result = run_healthcheck(ports_environment({"frontend": port}))
    assert result.exit_code == 69
    assert result.stdout == ""
    assert result.stderr == f"error: unhealthy: frontend 127.0.0.1:{port} NOT_SERVING\n"


def test_a_server_that_knows_another_role_only_is_unhealthy() -> None:
    with health_server({HEALTH_SERVICE_NAMES["history"]: STATUS.SERVING}) as port:
        result = run_healthcheck(ports_environment({"frontend": port}))
    assert result.exit_code == 69
    assert "frontend" in result.stderr and "not registered yet" in result.stderr


def test_a_closed_port_is_unhealthy_quickly() -> None:
    port = free_port()
    started = time.monotonic()
    result = run_healthcheck(ports_environment({"frontend": port}), "--timeout", "5")
    assert result.exit_code == 69
    assert result.stderr == f"error: unhealthy: frontend 127.0.0.1:{port} unreachable\n"
    assert time.monotonic() - started < 5


def test_a_silent_port_is_unhealthy_within_the_timeout() -> None:
    with silent_listener() as port:
        started = time.monotonic()
        result = run_healthcheck(ports_environment({"frontend": port}), "--timeout", "0.5")
        elapsed = time.monotonic() - started
    assert result.exit_code == 69
    assert "no answer in time" in result.stderr
    assert elapsed < 3


def test_every_role_is_asked_under_its_own_name_on_its_own_port() -> None:
    with (
        health_server({HEALTH_SERVICE_NAMES["frontend"]: STATUS.SERVING}) as frontend,
        health_server({HEALTH_SERVICE_NAMES["history"]: STATUS.SERVING}) as history,
        health_server({HEALTH_SERVICE_NAMES["matching"]: STATUS.SERVING}) as matching,
        health_server({HEALTH_SERVICE_NAMES["worker"]: STATUS.SERVING}) as worker,
    ):
        ports = {"frontend": frontend, "history": history, "matching": matching, "worker": worker}
        result = run_healthcheck(ports_environment(ports))
    assert result.exit_code == 0, result.output
    expected = ", ".join(f"{service} 127.0.0.1:{port} SERVING" for service, port in ports.items())
    assert result.stdout == f"healthy: {expected}\n"


def test_one_unhealthy_role_makes_the_container_unhealthy_and_all_are_reported() -> None:
    with health_server({HEALTH_SERVICE_NAMES["history"]: STATUS.SERVING}) as port:
        matching = free_port()
        ports = {"history": port, "matching": matching}
        result = run_healthcheck(ports_environment(ports))
    assert result.exit_code == 69
    assert result.stderr == (
        f"error: unhealthy: history 127.0.0.1:{port} SERVING, matching 127.0.0.1:{matching} unreachable\n"
    )


def test_a_specific_bind_address_is_probed_there() -> None:
    with health_server({HEALTH_SERVICE_NAMES["worker"]: STATUS.SERVING}, host="::1") as port:
        result = run_healthcheck(ports_environment({"worker": port}) | {"BIND_ON_IP": "::1"})
    assert result.exit_code == 0, result.output
    assert result.stdout == f"healthy: worker [::1]:{port} SERVING\n"


@pytest.mark.parametrize(
    ("bind_on_ip", "expected"),
    [(None, "127.0.0.1"), ("0.0.0.0", "127.0.0.1"), ("::", "127.0.0.1"), ("10.1.2.3", "10.1.2.3")],
)
def test_wildcard_bind_addresses_are_probed_on_loopback(bind_on_ip: str | None, expected: str) -> None:
    environment = {"TEMPORAL_SQL_PLUGIN_NAME": "sqlite"} | ({"BIND_ON_IP": bind_on_ip} if bind_on_ip else {})
    assert probe_host(load_settings(environment)) == expected


def test_a_bad_setting_is_a_configuration_error() -> None:
    result = run_healthcheck({"TEMPORAL_FRONTEND_GRPC_PORT": "99999", "TEMPORAL_SERVICES": "frontend"})
    assert result.exit_code == 78
    assert result.stderr.startswith("error: TEMPORAL_FRONTEND_GRPC_PORT:")


def test_the_timeout_option_is_bounded() -> None:
    result = run_healthcheck({}, "--timeout", "0")
    assert result.exit_code == 2


def test_health_service_names_are_the_ones_temporal_server_registers() -> None:
    """The names come from the pinned server's source; a rename upstream must fail here, not in production."""
    sources = {
        "frontend": "service/frontend/interface.go",
        "history": "service/history/handler.go",
        "matching": "service/matching/handler.go",
        "worker": "service/worker/service.go",
    }
    assert set(sources) == set(SERVICES) == set(HEALTH_SERVICE_NAMES)
    for service, path in sources.items():
        source = (SERVER_MODULE / path).read_text(encoding="utf-8")
        assert f'"{HEALTH_SERVICE_NAMES[service]}"' in source, service
