"""Errors a user can cause, each with the exit code the CLI returns for it."""

from __future__ import annotations

import os

EX_USAGE = 2
EX_UNAVAILABLE = 69
EX_SOFTWARE = 70
EX_CONFIG = 78


class UserError(Exception):
    """A problem the user can fix; printed as one line per problem, never with a traceback."""

    exit_code = EX_SOFTWARE

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems: tuple[str, ...] = problems


class ConfigError(UserError):
    """A setting is missing, malformed or inconsistent with another."""

    exit_code = EX_CONFIG


class UnavailableError(UserError):
    """A dependency (server, endpoint, binary) cannot be reached."""

    exit_code = EX_UNAVAILABLE


def describe_os_error(error: OSError) -> str:
    """A short, secret-free description of a filesystem error."""
    return error.strerror or os.strerror(error.errno or 0) or type(error).__name__
