"""Turn validated settings into what rendering needs: credentials and the address to broadcast."""

from __future__ import annotations

from dataclasses import replace

from pydantic import SecretStr

from .credential_command import password_command_for
from .render import REDACTED, Credentials
from .settings import Settings
from .tokens import token_for_settings


def resolve_credentials(settings: Settings, *, mint_tokens: bool = True) -> Credentials:
    """The password or password command for the datastores, and the OpenSearch password.

    With `mint_tokens` false (dry runs), a token that would be minted now stays unminted and redacted.
    """
    opensearch_password = (
        settings.opensearch_password.get_secret_value()
        if settings.opensearch_auth == "basic" and settings.opensearch_password is not None
        else None
    )
    secrets = Credentials(
        opensearch_password=opensearch_password,
        visibility_sql_password=_secret(settings.visibility_sql_password),
    )
    method, delivery = settings.sql_auth_method, settings.sql_password_delivery
    if settings.sql_plugin_name == "sqlite" or method == "plugin":
        return secrets
    if delivery == "command":
        return replace(secrets, sql_password_command=password_command_for(settings))
    if method == "iam":
        token = token_for_settings(settings) if mint_tokens else REDACTED
        return replace(secrets, sql_password=token)
    return replace(secrets, sql_password=_secret(settings.sql_password))


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
