"""Register Temporal namespaces through the frontend's HTTP API (port 7243), so a fresh cluster has them.

temporal-server has no setting that creates a namespace at start-up; its HTTP API (grpc-gateway) maps
`POST /api/v1/namespaces` to RegisterNamespace and `GET /api/v1/namespaces/{name}` to DescribeNamespace, with
gRPC's NOT_FOUND as 404 and ALREADY_EXISTS as 409. Plain HTTP from the standard library: no Temporal SDK.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from .errors import UnavailableError

HTTP_NOT_FOUND = 404
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
    """Register `name` unless the frontend at `endpoint` (`http://host:7243`) already knows it."""
    base = f"{endpoint.rstrip('/')}/api/v1/namespaces"
    status = _call("GET", f"{base}/{urllib.parse.quote(name, safe='')}", None, timeout)
    if 200 <= status < 300:
        return NamespaceResult(name, "already registered")
    if status != HTTP_NOT_FOUND:
        raise UnavailableError(f"{endpoint}: describing namespace {name} answered HTTP {status}")
    body = {"namespace": name, "workflowExecutionRetentionPeriod": f"{retention_seconds}s"}
    status = _call("POST", base, body, timeout)
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
