"""Stand-ins for the network around a container: an ECS task metadata endpoint, a hanging one, namespaces."""

from __future__ import annotations

import json
import shlex
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TASK_IP = "10.0.2.106"
TASK_METADATA: dict[str, Any] = {
    "Cluster": "arn:aws:ecs:us-west-2:111122223333:cluster/default",
    "TaskARN": "arn:aws:ecs:us-west-2:111122223333:task/default/158d1c8083dd49d6b527399fd6414f5c",
    "Family": "temporal-history",
    "Revision": "7",
    "DesiredStatus": "RUNNING",
    "KnownStatus": "RUNNING",
    "Limits": {"CPU": 0.25, "Memory": 512},
    "PullStartedAt": "2020-10-08T20:47:16.053330955Z",
    "PullStoppedAt": "2020-10-08T20:47:19.592684631Z",
    "AvailabilityZone": "us-west-2a",
    "LaunchType": "FARGATE",
    "Containers": [
        {
            "DockerId": "e9028f8d5d8e4f258373e7b93ce9a3c3-2495160603",
            "Name": "history",
            "DockerName": "history",
            "Image": "111122223333.dkr.ecr.us-west-2.amazonaws.com/temporal-dsql:latest",
            "ImageID": "sha256:d691691e9652791a60114e67b365688d20d19940dde7c4736ea30e660d8d3553",
            "Labels": {"com.amazonaws.ecs.container-name": "history"},
            "DesiredStatus": "RUNNING",
            "KnownStatus": "RUNNING",
            "Limits": {"CPU": 2},
            "CreatedAt": "2020-10-08T20:47:20.567813946Z",
            "StartedAt": "2020-10-08T20:47:20.567813946Z",
            "Type": "NORMAL",
            "Networks": [
                {
                    "NetworkMode": "awsvpc",
                    "IPv4Addresses": [TASK_IP],
                    "AttachmentIndex": 0,
                    "MACAddress": "0a:de:f6:10:51:e5",
                    "IPv4SubnetCIDRBlock": "10.0.2.0/24",
                    "DomainNameServers": ["10.0.0.2"],
                    "DomainNameSearchList": ["us-west-2.compute.internal"],
                    "PrivateDNSName": "ip-10-0-2-106.us-west-2.compute.internal",
                    "SubnetGatewayIpv4Address": "10.0.2.1/24",
                }
            ],
            "ContainerARN": "arn:aws:ecs:us-west-2:111122223333:container/05966557-f16c-49cb-9352",
            "LogDriver": "awslogs",
        }
    ],
}
"""Shaped as AWS documents `${ECS_CONTAINER_METADATA_URI_V4}/task` for an awsvpc (Fargate) task."""


@contextmanager
def metadata_endpoint(document: Any) -> Iterator[tuple[str, list[str]]]:
    """Serve `document` at <uri>/task on loopback; yields the URI and the paths requested."""
    requested: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requested.append(self.path)
            found = self.path == "/v4/0123456789abcdef/task"
            body = json.dumps(document).encode() if found else b"{}"
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v4/0123456789abcdef", requested
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def hanging_endpoint() -> Iterator[str]:
    """A port that takes connections (the kernel's backlog) but never answers a request."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v4/0123456789abcdef"


@contextmanager
def garbage_endpoint(answer: bytes = b"garbage\r\n\r\n") -> Iterator[str]:
    """A port that reads each request and answers `answer`, which is not HTTP, then hangs up."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                connection.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v4/0123456789abcdef"
    finally:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(5)


def run_isolated(code: str, *, hosts: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run Python `code` in new user, network and mount namespaces: only a loopback interface (down), and
    `hosts` bind-mounted over /etc/hosts when given."""
    python = f"{sys.executable} -c {shlex.quote(code)}"
    script = (
        f"mount --bind {shlex.quote(str(hosts))} /etc/hosts && exec {python}" if hosts else f"exec {python}"
    )
    return subprocess.run(
        ["unshare", "--map-root-user", "--net", "--mount", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
