"""Turn validated settings into what rendering needs: credentials and the address to broadcast."""

from __future__ import annotations

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
    method, delivery = settings.sql_auth_method, settings.sql_password_delivery
    if settings.sql_plugin_name == "sqlite" or method == "plugin":
        return Credentials(opensearch_password=opensearch_password)
    if delivery == "command":
        return Credentials(
            sql_password_command=password_command_for(settings), opensearch_password=opensearch_password
        )
    if method == "iam":
        token = token_for_settings(settings) if mint_tokens else REDACTED
        return Credentials(sql_password=token, opensearch_password=opensearch_password)
    password = settings.sql_password.get_secret_value() if settings.sql_password is not None else None
    return Credentials(sql_password=password, opensearch_password=opensearch_password)
