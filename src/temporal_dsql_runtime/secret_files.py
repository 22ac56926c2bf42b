"""Secrets kept in files (`*_FILE`, Kubernetes or Compose secrets): read the same way everywhere.

Only the standard library and `errors` are imported: the credential command re-reads a password file for every
new database connection.
"""

from __future__ import annotations

import os

from .errors import ConfigError

UNREADABLE_HINT = (
    "make it readable by uid {uid} (this process's user): Compose and `docker run -v` mount a secret file with "
    "its host owner and mode, so give it mode 0644 inside a 0700 directory, or owner {uid}"
)


def read_secret_file(path: str, label: str) -> str:
    """The file's content without one trailing newline (`\\n` or `\\r\\n`); `label` names the setting in errors.

    A missing, unreadable, non-UTF-8 or empty file is a one-line `ConfigError` that never shows the content.
    """
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            content = handle.read()
    except PermissionError as error:
        hint = UNREADABLE_HINT.format(uid=os.getuid())
        raise ConfigError(f"{label}: cannot read {path}: {error.strerror}; {hint}") from None
    except OSError as error:
        raise ConfigError(f"{label}: cannot read {path}: {error.strerror or type(error).__name__}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{label}: {path} is not UTF-8 text") from None
    secret = content.removesuffix("\n")
    if secret != content:
        secret = secret.removesuffix("\r")
    if not secret:
        raise ConfigError(f"{label}: {path} is empty; it must hold the secret")
    return secret
