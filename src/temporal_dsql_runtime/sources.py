"""Where setting values come from: the environment, an optional .env file and `*_FILE` secret files."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from .errors import ConfigError
from .secret_files import read_secret_file

SECRET_VARIABLES = (
    "TEMPORAL_SQL_PASSWORD",
    "TEMPORAL_OPENSEARCH_PASSWORD",
    "TEMPORAL_VISIBILITY_SQL_PASSWORD",
)
"""Variables that hold a secret and may instead name a file with `<NAME>_FILE`."""


@dataclass(frozen=True)
class Collected:
    """Raw setting values by variable name, and where each came from."""

    values: dict[str, str] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE pairs of a .env file (values without a `=` are ignored)."""
    if not path.is_file():
        raise ConfigError(f"--env-file: {path} is not a readable file")
    return {key: value for key, value in dotenv_values(path).items() if value is not None}


def collect(environment: Mapping[str, str], env_file: Path | None = None) -> Collected:
    """Merge a .env file under the environment, resolve secret files, and drop empty values."""
    values: dict[str, str] = {}
    origins: dict[str, str] = {}
    if env_file is not None:
        for key, value in read_env_file(env_file).items():
            values[key], origins[key] = value, f"env file {env_file}"
    for key, value in environment.items():
        values[key], origins[key] = value, "environment"
    for key in [key for key, value in values.items() if value == ""]:
        del values[key], origins[key]

    problems: list[str] = []
    for variable in SECRET_VARIABLES:
        file_variable = f"{variable}_FILE"
        if file_variable not in values:
            continue
        if variable in values:
            problems.append(f"{variable} and {file_variable}: set one or the other, not both")
            continue
        try:
            values[variable] = read_secret_file(values[file_variable], file_variable)
        except ConfigError as error:
            problems.extend(error.problems)
            continue
        origins[variable] = f"file {values[file_variable]}"
    if problems:
        raise ConfigError(*problems)
    return Collected(values, origins)
