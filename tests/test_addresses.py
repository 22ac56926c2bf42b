"""Broadcast address discovery: explicit values, ECS metadata, POD_IP, host name, interfaces, timeouts."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from addresses_support import (
    TASK_IP,
    TASK_METADATA,
    garbage_endpoint,
    hanging_endpoint,
    metadata_endpoint,
    run_isolated,
)
from support.ports import free_port
from temporal_dsql_runtime.addresses import (
    choose,
    discover,
    discover_broadcast_address,
    interface_addresses,
    routed_addresses,
)
from temporal_dsql_runtime.errors import ConfigError
from temporal_dsql_runtime.loading import load_settings

RENDER = Path(sys.executable).with_name("temporal-dsql-render")
REPORT = (
    "import json, temporal_dsql_runtime.addresses as a\n"
    "d = a.discover({})\n"
    "print(json.dumps([d.address, d.source]))"
)


def render_environment(**variables: str) -> dict[str, str]:
    """A minimal environment for `temporal-dsql-render` with SQLite, plus `variables`."""
    return {"PATH": os.environ["PATH"], "TEMPORAL_SQL_PLUGIN_NAME": "sqlite", **variables}


def test_the_ecs_task_metadata_endpoint_gives_the_awsvpc_address() -> None:
    with metadata_endpoint(TASK_METADATA) as (uri, requested):
        found = discover(ecs_metadata_uri=uri, pod_ip="10.9.9.9", hostname="localhost", timeout=2)

    assert (found.address, found.source, found.passed_over) == (TASK_IP, "ECS task metadata", ())
    assert requested == ["/v4/0123456789abcdef/task"]


def test_settings_feed_discovery(monkeypatch: pytest.MonkeyPatch) -> None:
    with metadata_endpoint(TASK_METADATA) as (uri, _):
        settings = load_settings(
            {"TEMPORAL_SQL_PLUGIN_NAME": "sqlite", "ECS_CONTAINER_METADATA_URI_V4": uri, "POD_IP": "10.9.9.9"}
        )
        assert discover_broadcast_address(settings).address == TASK_IP

    explicit = load_settings({"TEMPORAL_SQL_PLUGIN_NAME": "sqlite", "TEMPORAL_BROADCAST_ADDRESS": "10.7.7.7"})
    assert discover_broadcast_address(explicit).source == "TEMPORAL_BROADCAST_ADDRESS"


def test_a_task_without_an_awsvpc_network_moves_on() -> None:
    bridge = json.loads(json.dumps(TASK_METADATA))
    bridge["Containers"][0]["Networks"][0]["NetworkMode"] = "bridge"

    with metadata_endpoint(bridge) as (uri, _):
        found = discover(ecs_metadata_uri=uri, pod_ip="10.9.9.9", timeout=2)

    assert (found.address, found.source) == ("10.9.9.9", "POD_IP")
    assert found.passed_over == (
        f"ECS task metadata: {uri}/task: no awsvpc network address in the task metadata",
    )


def test_a_metadata_endpoint_that_hangs_is_left_after_its_timeout() -> None:
    with hanging_endpoint() as uri:
        started = time.monotonic()
        found = discover(ecs_metadata_uri=uri, pod_ip="10.9.9.9", timeout=0.5)
        elapsed = time.monotonic() - started

    assert (found.address, found.source) == ("10.9.9.9", "POD_IP")
    assert 0.5 <= elapsed < 2.0
    assert found.passed_over[0].startswith(f"ECS task metadata: {uri}/task: ")


def test_a_closed_metadata_port_moves_on() -> None:
    uri = f"http://127.0.0.1:{free_port()}/v4/0123456789abcdef"

    found = discover(ecs_metadata_uri=uri, pod_ip="fd00::17", timeout=2)

    assert (found.address, found.source) == ("fd00::17", "POD_IP")
    assert found.passed_over == (f"ECS task metadata: {uri}/task: Connection refused",)


def test_a_metadata_endpoint_that_answers_garbage_is_passed_over() -> None:
    with garbage_endpoint() as uri:
        found = discover(ecs_metadata_uri=uri, pod_ip="10.9.9.9", timeout=2)

    assert (found.address, found.source) == ("10.9.9.9", "POD_IP")
    assert found.passed_over == (f"ECS task metadata: {uri}/task: not an HTTP response (BadStatusLine)",)


def test_render_dry_run_passes_over_a_garbage_metadata_endpoint() -> None:
    with garbage_endpoint() as uri:
        result = subprocess.run(
            [str(RENDER), "--dry-run"],
            env=render_environment(ECS_CONTAINER_METADATA_URI_V4=uri, POD_IP="10.9.9.9"),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert result.returncode == 0, result.stderr
    assert 'broadcastAddress: "10.9.9.9"' in result.stdout


@pytest.mark.parametrize("name", ["a" * 70, "temporal..history", "x" * 64 + ".example.com"])
def test_a_host_name_idna_cannot_encode_is_passed_over(name: str) -> None:
    found = discover(hostname=name, timeout=2)

    assert found.source == "network interfaces"
    assert found.passed_over == (
        f"hostname {name}: is not a valid host name (a label is empty or over 63 characters)",
    )


def test_render_dry_run_with_an_over_long_host_name_does_not_crash() -> None:
    result = subprocess.run(
        [str(RENDER), "--dry-run"],
        env=render_environment(HOSTNAME="a" * 70),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_metadata_endpoint_with_nothing_else_is_one_line_error() -> None:
    uri = f"http://127.0.0.1:{free_port()}/v4/0123456789abcdef"
    code = (
        "from temporal_dsql_runtime.addresses import discover\n"
        "from temporal_dsql_runtime.errors import UserError\n"
        "try:\n"
        f"    discover(ecs_metadata_uri={uri!r}, hostname='localhost', timeout=1)\n"
        "except UserError as error:\n"
        "    print(type(error).__name__, error.exit_code, *error.problems)\n"
    )

    result = run_isolated(code)

    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1
    assert result.stdout.startswith(
        f"UnavailableError 69 no address to broadcast (ECS task metadata: {uri}/task: "
    )
    assert "hostname localhost: resolves only to 127.0.0.1" in result.stdout
    assert result.stdout.rstrip().endswith("set TEMPORAL_BROADCAST_ADDRESS or BIND_ON_IP")


@pytest.mark.parametrize(
    ("pod_ip", "bind"), [("10.1.4.7", None), ("fd00:0:0:0::9", "::"), ("10.1.4.7", "0.0.0.0")]
)
def test_pod_ip_is_broadcast_when_the_bind_address_is_unset_or_a_wildcard(
    pod_ip: str, bind: str | None
) -> None:
    found = discover(bind_on_ip=bind, pod_ip=pod_ip, hostname="localhost")

    assert (found.address, found.source) == (str(ipaddress.ip_address(pod_ip)), "POD_IP")


def test_the_host_name_is_resolved_to_a_reachable_address(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n10.1.2.3 temporal-history-0\nfd00::42 temporal-history-0\n")

    ipv4 = run_isolated(REPORT.format("hostname='temporal-history-0'"), hosts=hosts)
    ipv6 = run_isolated(REPORT.format("hostname='temporal-history-0', bind_on_ip='::'"), hosts=hosts)

    assert json.loads(ipv4.stdout) == ["10.1.2.3", "hostname temporal-history-0"], ipv4.stderr
    assert json.loads(ipv6.stdout) == ["fd00::42", "hostname temporal-history-0"], ipv6.stderr


def test_a_wildcard_bind_broadcasts_a_concrete_interface_address() -> None:
    found = discover(bind_on_ip="0.0.0.0", hostname="localhost")

    address = ipaddress.ip_address(found.address)
    assert found.source == "network interfaces"
    assert not (address.is_unspecified or address.is_loopback)
    assert found.address in routed_addresses() + interface_addresses()
    assert found.passed_over == (
        "hostname localhost: resolves only to 127.0.0.1, ::1",
    ) or found.passed_over == ("hostname localhost: resolves only to 127.0.0.1",)


def test_interfaces_enumerated_agree_with_the_routing_table() -> None:
    assert "127.0.0.1" in interface_addresses()
    assert set(routed_addresses()) <= set(interface_addresses())


def test_choose_skips_unreachable_addresses_and_honours_the_family() -> None:
    candidates = ["127.0.0.1", "::1", "fe80::1", "0.0.0.0", "224.0.0.1", "fd00::5", "10.0.0.5"]

    assert choose(candidates) == "10.0.0.5"
    assert choose(candidates, prefer_v6=True) == "fd00::5"
    assert choose(["127.0.0.1", "::1"]) is None


def test_explicit_values_win_in_order() -> None:
    everything = {"pod_ip": "10.9.9.9", "hostname": "localhost"}

    assert discover(broadcast_address="10.7.7.7", bind_on_ip="10.8.8.8", **everything).address == "10.7.7.7"
    assert discover(bind_on_ip="fd00::5", **everything).address == "fd00::5"
    assert discover(bind_on_ip="fd00::5", **everything).source == "BIND_ON_IP"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"broadcast_address": "0.0.0.0"}, "TEMPORAL_BROADCAST_ADDRESS: 0.0.0.0 is a wildcard"),
        (
            {"broadcast_address": "temporal.example"},
            "TEMPORAL_BROADCAST_ADDRESS: 'temporal.example' is not an IP",
        ),
        ({"bind_on_ip": "10.0.0.300"}, "BIND_ON_IP: '10.0.0.300' is not an IP address"),
        ({"pod_ip": "$(POD_IP)"}, "POD_IP: '$(POD_IP)' is not an IP address"),
        (
            {"ecs_metadata_uri": "file:///etc/passwd"},
            "ECS_CONTAINER_METADATA_URI_V4: 'file:///etc/passwd' is not",
        ),
    ],
)
def test_a_malformed_explicit_value_is_a_config_error(arguments: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        discover(**arguments)  # type: ignore[arg-type]

    [problem] = raised.value.problems
    assert problem.startswith(message)
