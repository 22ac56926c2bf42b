"""A recording reverse proxy in front of the test OpenSearch node.

The node checks no credentials, so the proxy does what an AWS domain or a secured cluster would: it verifies
every SigV4 signature against the static test keys (recomputing it with botocore) or enforces basic auth,
refuses what fails (403 / 401), and records each request so a test can prove how it arrived.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import http.server
import re
import secrets
import ssl
import string
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/"
    r"aws4_request, ?SignedHeaders=(?P<signed>[^,]+), ?Signature=(?P<signature>[0-9a-f]{64})$"
)
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}
Mode = Literal["sigv4", "basic", "open"]
REFUSED = b'{"error":"refused by the test proxy"}'


@dataclass(frozen=True)
class SeenRequest:
    """One request as the proxy saw it."""

    method: str
    path: str
    auth: str
    """"sigv4", "basic" or "none": what the Authorization header carried."""
    accepted: bool
    """Whether the signature verified (sigv4) or the credentials matched (basic)."""
    status: int


@dataclass
class ProxyRules:
    """What the proxy enforces and against which secrets."""

    mode: Mode
    upstream_port: int
    key_id: str = ""
    secret_key: str = ""
    region: str = ""
    user: str = ""
    password: str = ""
    seen: list[SeenRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def static_aws_keys() -> dict[str, str]:
    """AWS keys made for this run: what botocore (and temporal-server's aws-sdk-default) read."""
    key_id = "AKIA" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16))
    return {"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secrets.token_urlsafe(30)}


def sigv4_valid(rules: ProxyRules, method: str, url: str, headers: dict[str, str], body: bytes) -> bool:
    """Recompute the request's signature from the headers it signed; compare with the one it carries."""
    match = AUTHORIZATION.match(headers.get("authorization", ""))
    if match is None or match["key"] != rules.key_id or match["region"] != rules.region:
        return False
    signed = match["signed"].split(";")
    if any(name not in headers for name in signed) or "x-amz-date" not in signed:
        return False
    request = AWSRequest(method=method, url=url, data=body, headers={name: headers[name] for name in signed})
    request.context["timestamp"] = headers["x-amz-date"]
    signer = SigV4Auth(Credentials(rules.key_id, rules.secret_key), match["service"], rules.region)
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    declared_hash = headers.get("x-amz-content-sha256")
    body_ok = declared_hash is None or declared_hash == hashlib.sha256(body).hexdigest()
    return body_ok and hmac.compare_digest(expected, match["signature"])


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    rules: ProxyRules

    def _handle(self) -> None:
        body = self._body()
        headers = {name.lower(): value for name, value in self.headers.items()}
        authorization = headers.get("authorization", "")
        auth = (
            "sigv4"
            if authorization.startswith("AWS4-")
            else "basic"
            if authorization.startswith("Basic ")
            else "none"
        )
        accepted = self._accepted(auth, headers, body)
        if not accepted and self.rules.mode != "open":
            status = 403 if self.rules.mode == "sigv4" else 401
            answer = (
                status,
                {"content-type": "application/json", "www-authenticate": 'Basic realm="test"'},
                REFUSED,
            )
        else:
            answer = self._forward(body)
        with self.rules.lock:  # recorded before answering: a client that got its answer finds it here
            self.rules.seen.append(SeenRequest(self.command, self.path, auth, accepted, answer[0]))
        self._answer(*answer)

    def _body(self) -> bytes:
        """The request body, whole: Go's client sends gzip bodies with chunked transfer encoding."""
        if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))
        chunks = []
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return b"".join(chunks)

    def _accepted(self, auth: str, headers: dict[str, str], body: bytes) -> bool:
        if auth == "sigv4":
            url = f"http://{headers.get('host', '')}{self.path}"
            return sigv4_valid(self.rules, self.command, url, headers, body)
        if auth == "basic":
            expected = base64.b64encode(f"{self.rules.user}:{self.rules.password}".encode()).decode()
            return hmac.compare_digest(headers["authorization"], f"Basic {expected}")
        return False

    def _forward(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        upstream = http.client.HTTPConnection("127.0.0.1", self.rules.upstream_port, timeout=60)
        try:
            forwarded = {
                k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"authorization"}
            }
            upstream.request(self.command, self.path, body=body or None, headers=forwarded)
            response = upstream.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        except OSError:
            return 502, {"content-type": "application/json"}, b'{"error":"upstream down"}'
        finally:
            upstream.close()

    def _answer(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@dataclass
class RecordingProxy:
    """A running proxy: its URL and what it saw."""

    url: str
    rules: ProxyRules

    def seen(self) -> list[SeenRequest]:
        """A snapshot of the requests so far."""
        with self.rules.lock:
            return list(self.rules.seen)


@contextmanager
def recording_proxy(rules: ProxyRules, tls: tuple[Path, Path] | None = None) -> Iterator[RecordingProxy]:
    """Serve on a free loopback port (HTTPS with `tls` = (certificate, key)) until the block ends."""
    handler = type("Handler", (_Handler,), {"rules": rules})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    scheme = "http"
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RecordingProxy(f"{scheme}://127.0.0.1:{server.server_address[1]}", rules)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
