"""IAM authentication tokens for Aurora DSQL and RDS/Aurora PostgreSQL, signed locally with SigV4.

botocore (boto3's core) is imported only when a token is minted: the credential command's cache hits and every
other command stay free of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

from .errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable

    from botocore.session import Session

    from .settings import Settings

IAM = "TEMPORAL_SQL_AUTH_METHOD=iam"
NO_CREDENTIALS = (
    f"{IAM}: no AWS credentials found (environment, profile, container or instance role); "
    "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or run with a task or instance role"
)
RDS_TOKEN_LIFETIME = 900
"""Seconds an RDS IAM token is valid; fixed by AWS."""


class _DsqlSigner(Protocol):
    def generate_db_connect_auth_token(self, Hostname: str, Region: str, ExpiresIn: int) -> str: ...
    def generate_db_connect_admin_auth_token(self, Hostname: str, Region: str, ExpiresIn: int) -> str: ...


class _RdsSigner(Protocol):
    def generate_db_auth_token(self, DBHostname: str, Port: int, DBUsername: str, Region: str) -> str: ...


def mint_dsql_token(
    host: str, region: str, user: str, expires_in: int, *, session: Session | None = None
) -> str:
    """A DSQL token, valid `expires_in` s: `DbConnectAdmin` for the `admin` role, else `DbConnect`."""
    signer = cast(_DsqlSigner, _signing_client("dsql", region, session))
    generate = (
        signer.generate_db_connect_admin_auth_token
        if user == "admin"
        else signer.generate_db_connect_auth_token
    )
    return _signed(lambda: generate(Hostname=host, Region=region, ExpiresIn=expires_in))


def mint_rds_token(host: str, port: int, region: str, user: str, *, session: Session | None = None) -> str:
    """An RDS IAM token (`rds-db:connect` for `user`), valid 900 s."""
    signer = cast(_RdsSigner, _signing_client("rds", region, session))
    return _signed(
        lambda: signer.generate_db_auth_token(DBHostname=host, Port=port, DBUsername=user, Region=region)
    )


def token_for_settings(settings: Settings) -> str:
    """A fresh token for the configured database: DSQL for a DSQL endpoint, RDS IAM otherwise."""
    host, region, user = iam_target(settings)
    if settings.uses_dsql:
        return mint_dsql_token(host, region, user, settings.sql_iam_token_ttl)
    return mint_rds_token(host, settings.sql_port, region, user)


def iam_target(settings: Settings) -> tuple[str, str, str]:
    """The host, region and user an IAM token is signed for; a one-line error names any that is missing."""
    return (
        _required(settings.sql_host, "TEMPORAL_SQL_HOST", "a host name"),
        _required(settings.sql_region, "TEMPORAL_SQL_REGION", "an AWS region such as eu-west-1"),
        _required(settings.sql_user, "TEMPORAL_SQL_USER", "a database user"),
    )


def _required(value: str | None, variable: str, accepts: str) -> str:
    if not value:
        raise ConfigError(f"{variable}: required for {IAM}; accepts {accepts}")
    return value


def _signing_client(service: str, region: str, session: Session | None) -> object:
    """A botocore client that can sign for `service`, after checking that credentials and a region exist."""
    if not region:
        raise ConfigError(f"TEMPORAL_SQL_REGION: required for {IAM}; accepts an AWS region such as eu-west-1")
    import botocore.session
    from botocore.exceptions import BotoCoreError

    try:
        session = session or botocore.session.Session()
        if session.get_credentials() is None:
            raise ConfigError(NO_CREDENTIALS)
        return session.create_client(service, region_name=region)
    except BotoCoreError as error:
        raise ConfigError(f"{IAM}: cannot load AWS credentials or client for {region}: {error}") from None


def _signed(sign: Callable[[], str]) -> str:
    from botocore.exceptions import BotoCoreError, NoCredentialsError

    try:
        return sign()
    except NoCredentialsError:
        raise ConfigError(NO_CREDENTIALS) from None
    except BotoCoreError as error:
        raise ConfigError(f"{IAM}: cannot sign a token: {error}") from None
