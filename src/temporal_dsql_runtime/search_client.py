"""HTTP requests to the OpenSearch/Elasticsearch visibility endpoint, authenticated as the settings say.

SigV4 signs the method, path, query and body (service `aoss` for OpenSearch Serverless, else `es`); basic auth
sends the configured user and password. Credentials never appear in an error.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError, UnavailableError
from .settings import Settings


@dataclass(frozen=True)
class Response:
    """A status and the JSON body (None when the body is empty or not JSON)."""

    status: int
    body: Any


def endpoint_url(settings: Settings, path: str) -> str:
    """The full URL of `path` (starting with /) on the configured endpoint."""
    return (settings.opensearch_endpoint or "").rstrip("/") + path


def auth_headers(settings: Settings, method: str, url: str, body: bytes = b"") -> dict[str, str]:
    """Accept, Content-Type and the authentication headers for one request."""
    headers = {"Accept": "application/json"}
    if body:
        headers["Content-Type"] = "application/json"
    if settings.opensearch_auth == "basic" and settings.opensearch_password is not None:
        pair = f"{settings.opensearch_user}:{settings.opensearch_password.get_secret_value()}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    elif settings.opensearch_auth == "aws-sigv4":
        headers |= sigv4_headers(method, url, settings.opensearch_region or "", body, headers)
    return headers


def sigv4_headers(
    method: str, url: str, region: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> dict[str, str]:
    """The headers of a SigV4-signed request (Authorization, X-Amz-Date, the payload hash, any token)."""
    import botocore.session
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.exceptions import BotoCoreError, ClientError

    service = "aoss" if ".aoss." in (urlsplit(url).hostname or "") else "es"
    request = AWSRequest(
        method=method,
        url=url,
        data=body,
        headers={**(headers or {}), "X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()},
    )
    try:
        credentials = botocore.session.Session().get_credentials()
        if credentials is None:
            raise ConfigError(
                "TEMPORAL_OPENSEARCH_AUTH=aws-sigv4: no AWS credentials found (environment, profile, "
                "container or instance role) to sign the request"
            )
        SigV4Auth(credentials, service, region).add_auth(request)
    except (BotoCoreError, ClientError) as error:
        raise ConfigError(
            f"TEMPORAL_OPENSEARCH_AUTH=aws-sigv4: cannot load AWS credentials to sign the request: {error}"
        ) from None
    return {name: str(value) for name, value in request.headers.items()}


def request(settings: Settings, method: str, path: str, body: object = None, timeout: float = 30) -> Response:
    """Send one request; an unreachable endpoint is an UnavailableError, never a traceback."""
    url = endpoint_url(settings, path)
    data = b"" if body is None else json.dumps(body).encode()
    outgoing = urllib.request.Request(
        url, data=data or None, headers=auth_headers(settings, method, url, data), method=method
    )
    try:
        with urllib.request.urlopen(
            outgoing, timeout=timeout, context=ssl.create_default_context()
        ) as answer:
            return Response(int(answer.status), _json(answer.read()))
    except urllib.error.HTTPError as error:
        return Response(error.code, _json(error.read()))
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
        reason = error.reason if isinstance(error, urllib.error.URLError) else error
        where = urlsplit(url).netloc
        raise UnavailableError(
            f"TEMPORAL_OPENSEARCH_ENDPOINT: {method} {path.split('?')[0]} on {where} failed: {reason}; "
            "check that the endpoint is up and its scheme (http or https) and port"
        ) from None


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
