"""IAM authentication tokens for Aurora DSQL and RDS/Aurora PostgreSQL, signed locally with SigV4.

botocore (boto3's core) is imported only when a token is minted: the credential command's cache hits and every
other command stay free of it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import ConfigError

if TYPE_CHECKING:
    from botocore.session import Session

    from .settings import Settings

IAM = "TEMPORAL_SQL_AUTH_METHOD=iam"
NO_CREDENTIALS = (
    f"{IAM}: no AWS credentials found (environment, profile, container or instance role); "
    "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or run with a task or instance role"
)
RDS_TOKEN_LIFETIME = 900
"""Seconds an RDS IAM token is valid; fixed by AWS."""
PLUGIN_TOKEN_LIFETIME = 900
"""Seconds the fork's dsql plugin signs its tokens for by default (DSQL_TOKEN_DURATION, at most 15m)."""


@dataclass(frozen=True)
class MintedToken:
    """A token, and when the temporary credentials that signed it expire (Unix time; None for long-term keys).

    A presigned token stops working when its signing credentials expire, even before its own expiry.
    """

    token: str
    credentials_expire_at: float | None


def mint_dsql_token(
    host: str, region: str, user: str, expires_in: int, *, session: Session | None = None
) -> str:
    """A DSQL token, valid `expires_in` s: `DbConnectAdmin` for the `admin` role, else `DbConnect`.

    The same presigned URL as boto3's `generate_db_connect[_admin]_auth_token`, signed without building a
    client (loading the service model would cost the credential command a quarter of its run time).
    """
    return mint_dsql_token_with_expiry(host, region, user, expires_in, session=session).token


def mint_rds_token(host: str, port: int, region: str, user: str, *, session: Session | None = None) -> str:
    """An RDS IAM token (`rds-db:connect` for `user`), valid 900 s; boto3's `generate_db_auth_token`."""
    return mint_rds_token_with_expiry(host, port, region, user, session=session).token


def mint_dsql_token_with_expiry(
    host: str, region: str, user: str, expires_in: int, *, session: Session | None = None
) -> MintedToken:
    """`mint_dsql_token`, with the expiry of the credentials that signed it."""
    action = "DbConnectAdmin" if user == "admin" else "DbConnect"
    return _presigned(f"https://{host}", {"Action": action}, "dsql", region, expires_in, session)


def mint_rds_token_with_expiry(
    host: str, port: int, region: str, user: str, *, session: Session | None = None
) -> MintedToken:
    """`mint_rds_token`, with the expiry of the credentials that signed it."""
    query = {"Action": "connect", "DBUser": user}
    return _presigned(f"https://{host}:{port}", query, "rds-db", region, RDS_TOKEN_LIFETIME, session)


def token_for_settings(settings: Settings) -> str:
    """A fresh token for the configured database: DSQL for a DSQL endpoint, RDS IAM otherwise; with the
    fork's dsql plugin always `DbConnectAdmin` for `admin`, the only user the plugin connects as."""
    host, region, user = iam_target(settings)
    if settings.plugin_signs_tokens:
        lifetime = settings.sql_iam_token_ttl if settings.sql_auth_method == "iam" else PLUGIN_TOKEN_LIFETIME
        return mint_dsql_token(host, region, "admin", lifetime)
    if settings.uses_dsql:
        return mint_dsql_token(host, region, user, settings.sql_iam_token_ttl)
    return mint_rds_token(host, settings.sql_port, region, user)


def iam_target(settings: Settings) -> tuple[str, str, str]:
    """The host, region and user an IAM token is signed for; a one-line error names any that is missing.

    The host is CLUSTER_ENDPOINT when set (a PrivateLink endpoint's own DNS name is dialled, but AWS signs
    tokens for the cluster endpoint), else the host dialled."""
    return (
        _required(settings.token_host, "TEMPORAL_SQL_HOST", "a host name"),
        _required(settings.sql_region, "TEMPORAL_SQL_REGION", "an AWS region such as eu-west-1"),
        _required(settings.sql_user, "TEMPORAL_SQL_USER", "a database user"),
    )


def _required(value: str | None, variable: str, accepts: str) -> str:
    if not value:
        raise ConfigError(f"{variable}: required for {IAM}; accepts {accepts}")
    return value


def _presigned(
    endpoint: str,
    query: dict[str, str],
    signing_name: str,
    region: str,
    expires_in: int,
    session: Session | None,
) -> MintedToken:
    """A SigV4 presigned GET of `endpoint/?query`, without its scheme: what DSQL and RDS take as a password."""
    if not region:
        raise ConfigError(f"TEMPORAL_SQL_REGION: required for {IAM}; accepts an AWS region such as eu-west-1")
    import botocore.session
    from botocore.awsrequest import prepare_request_dict
    from botocore.exceptions import BotoCoreError
    from botocore.model import ServiceId
    from botocore.signers import RequestSigner

    try:
        session = session or botocore.session.Session()
        credentials = session.get_credentials()
        if credentials is None:
            raise ConfigError(NO_CREDENTIALS)
        signer = RequestSigner(
            ServiceId(signing_name),
            region,
            signing_name,
            "v4",
            credentials,
            session.get_component("event_emitter"),
        )
        request = {"url_path": "/", "query_string": "", "headers": {}, "body": query, "method": "GET"}
        prepare_request_dict(request, endpoint)
        url: str = signer.generate_presigned_url(
            request, operation_name=query["Action"], expires_in=expires_in, region_name=region,
            signing_name=signing_name,
        )  # fmt: skip
    except BotoCoreError as error:
        raise ConfigError(f"{IAM}: cannot sign a token for {region}: {error}") from None
    # Read after signing, which refreshes them if needed; botocore has no public accessor for the expiry.
    expiry = getattr(credentials, "_expiry_time", None)
    expire_at = expiry.timestamp() if isinstance(expiry, datetime.datetime) else None
    return MintedToken(url.removeprefix("https://"), expire_at)
