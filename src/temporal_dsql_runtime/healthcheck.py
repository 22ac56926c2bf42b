"""Whether this process's Temporal services are serving, asked through the gRPC health protocol.

temporal-server (v1.32) registers `grpc.health.v1.Health` on every role's gRPC port and reports SERVING per
role under the names below: the frontend once membership is ready, history once its first shards are acquired,
matching and worker once started. A closed port, a silent one or any other status counts as not serving.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from .settings import Settings

HEALTH_SERVICE_NAMES = {
    "frontend": "temporal.api.workflowservice.v1.WorkflowService",
    "history": "temporal.api.workflowservice.v1.HistoryService",
    "matching": "temporal.api.workflowservice.v1.MatchingService",
    "worker": "temporal.api.workflowservice.v1.WorkerService",
}
"""The health-check service name each role's gRPC server answers for."""

WILDCARD_ADDRESSES = ("0.0.0.0", "::")
LOOPBACK = "127.0.0.1"

SERVING = "SERVING"
DESCRIBED_RPC_ERRORS = {
    grpc.StatusCode.UNAVAILABLE: "unreachable",
    grpc.StatusCode.DEADLINE_EXCEEDED: "no answer in time",
    grpc.StatusCode.NOT_FOUND: "not registered yet",
    grpc.StatusCode.UNIMPLEMENTED: "no gRPC health service",
}


@dataclass(frozen=True)
class ServiceHealth:
    """One role's answer: where it was asked and what it said."""

    service: str
    target: str
    status: str

    @property
    def serving(self) -> bool:
        """Whether the role reported SERVING."""
        return self.status == SERVING

    def describe(self) -> str:
        """`frontend 127.0.0.1:7233 SERVING`."""
        return f"{self.service} {self.target} {self.status}"


def probe_host(settings: Settings) -> str:
    """The address to ask: the bind address when it names one interface, else the loopback address."""
    bound = (settings.bind_on_ip or "").strip("[]")
    if not bound or bound in WILDCARD_ADDRESSES:
        return LOOPBACK
    return bound


def grpc_target(host: str, port: int) -> str:
    """`host:port`, with an IPv6 address in brackets."""
    try:
        is_ipv6 = ipaddress.ip_address(host).version == 6
    except ValueError:
        is_ipv6 = False
    return f"[{host}]:{port}" if is_ipv6 else f"{host}:{port}"


def check_services(settings: Settings, timeout: float) -> list[ServiceHealth]:
    """Ask every service of `settings.services` at once; each answer or failure arrives within `timeout`."""
    host = probe_host(settings)
    # Never route a local probe through an HTTP proxy named in the environment.
    options = [("grpc.enable_http_proxy", 0)]
    channels: list[grpc.Channel] = []
    try:
        pending = []
        for service in settings.services:
            target = grpc_target(host, settings.grpc_port(service))
            channel = grpc.insecure_channel(target, options=options)
            channels.append(channel)
            request = health_pb2.HealthCheckRequest(service=HEALTH_SERVICE_NAMES[service])
            future = health_pb2_grpc.HealthStub(channel).Check.future(request, timeout=timeout)
            pending.append((service, target, future))
        return [ServiceHealth(service, target, _status(future)) for service, target, future in pending]
    finally:
        for channel in channels:
            channel.close()


def _status(future: grpc.Future) -> str:
    try:
        response = future.result()
    except grpc.RpcError as error:
        code = error.code()
        return DESCRIBED_RPC_ERRORS.get(code, f"health check failed ({code.name})")
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))
