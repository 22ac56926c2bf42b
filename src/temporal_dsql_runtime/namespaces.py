"""Register Temporal namespaces through the frontend's HTTP API (port 7243), so a fresh cluster has them.

temporal-server has no setting that creates a namespace at start-up; its HTTP API (grpc-gateway) maps
`POST /api/v1/namespaces` to RegisterNamespace, with gRPC's ALREADY_EXISTS as 409. Plain HTTP from the
standard library: no Temporal SDK.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from .errors import UnavailableError

HTTP_CONFLICT = 409
RETRY_INTERVAL_SECONDS = 1.0
# Never route a call to the cluster's own frontend through an HTTP proxy named in the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class NamespaceResult:
    """What happened to one namespace: `registered` or `already registered`."""

    name: str
    outcome: str

    def describe(self) -> str:
        """`default: registered`."""
        return f"{self.name}: {self.outcome}"


def _call(method: str, url: str, body: dict[str, str] | None, timeout: float) -> int:
    """The HTTP status of one request; 2xx and the codes the caller handles come back, others raise."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def ensure_namespace(endpoint: str, name: str, retention_seconds: int, timeout: float) -> NamespaceResult:
    """Register `name` on the frontend at `endpoint` (`http://host:7243`); 409 means it exists already.

    Registering first, not describing: the frontend caches a "not found" for about a second, which a describe
    before the registration would leave for the clients that come right after it.
    """
    body = {"namespace": name, "workflowExecutionRetentionPeriod": f"{retention_seconds}s"}
    status = _call("POST", f"{endpoint.rstrip('/')}/api/v1/namespaces", body, timeout)
    if status == HTTP_CONFLICT:
        return NamespaceResult(name, "already registered")
    if not 200 <= status < 300:
        raise UnavailableError(f"{endpoint}: registering namespace {name} answered HTTP {status}")
    return NamespaceResult(name, "registered")


def ensure_namespaces(
    endpoint: str, names: list[str], retention_seconds: int, wait_seconds: float, timeout: float = 5.0
) -> list[NamespaceResult]:
    """Ensure every namespace, retrying while the frontend is unreachable or not ready, up to `wait_seconds`."""
    deadline = time.monotonic() + wait_seconds
    results: list[NamespaceResult] = []
    for name in names:
        while True:
            try:
                results.append(ensure_namespace(endpoint, name, retention_seconds, timeout))
                break
            except (UnavailableError, OSError) as error:
                if time.monotonic() >= deadline:
                    reason = error if isinstance(error, UnavailableError) else f"{endpoint}: {error}"
                    raise UnavailableError(
                        f"namespace {name} not ensured within {wait_seconds:g} s: {reason}"
                    ) from None
                time.sleep(RETRY_INTERVAL_SECONDS)
    return results
