"""Settings from an environment: collect the values, check each field, then the rules across settings."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from . import rules
from .errors import ConfigError
from .settings import SURROGATES, Settings, accepted_variables, describe_errors, present
from .sources import SECRET_VARIABLES, Collected, collect

OURS = re.compile(r"^(?:TEMPORAL_|DSQL_)|CLUSTER_?ENDPOINT")
"""Names this runtime (or the fork's plugin it configures) would read: a typo among them is a silent no-op."""
OTHER_TOOLS = re.compile(
    r"^TEMPORAL_(?:ROOT|CONFIG_DIR|ENVIRONMENT|AVAILABILI?TY_ZONE|SERVER_CONFIG_FILE_PATH|ADDRESS|NAMESPACE|"
    r"API_KEY|PROFILE|CONFIG_FILE|TLS(?:_[A-Z_]+)?|GRPC_META_[A-Z0-9_]+|CODEC_[A-Z_]+|CLI_[A-Z_]+|"
    r"DISABLE_[A-Z_]+|UI_[A-Z_]+|CORS_ORIGINS|SERVER_VERSION|DSQL_RUNTIME)$"
)
"""TEMPORAL_* names that belong to temporal-server's old flags, the Temporal CLI/SDK, UI or our tooling."""


def load_settings(environment: Mapping[str, str], env_file: Path | None = None) -> Settings:
    """Validate the settings an environment describes; every problem found is raised together."""
    return settings_from(collect(environment, env_file))


def settings_from(collected: Collected) -> Settings:
    """Validate collected values: field checks first, then the cross-setting rules."""
    values: dict[str, Any] = present(collected.values)
    undecodable = [name for name, value in values.items() if SURROGATES.search(value)]
    if undecodable:
        raise ConfigError(
            *(f"{name}: holds bytes that are not UTF-8; accepts UTF-8 text" for name in undecodable)
        )
    try:
        settings = Settings(**values)
    except ValidationError as error:
        raise ConfigError(*describe_errors(error)) from None
    problems = rules.problems(settings)
    if problems:
        raise ConfigError(*problems)
    return settings


def unknown_names(names: Iterable[str]) -> list[str]:
    """One warning per name that looks like ours but is read by nothing, with the closest known name."""
    known = accepted_variables() | {f"{name}_FILE" for name in SECRET_VARIABLES}
    found = []
    for name in sorted(names):
        if name in known or not OURS.search(name) or OTHER_TOOLS.match(name):
            continue
        closest = difflib.get_close_matches(name, known, n=1, cutoff=0.0)
        hint = f"; did you mean {closest[0]}?" if closest else ""
        found.append(f"{name}: not a setting; nothing reads it{hint}")
    return found


def warnings(collected: Collected, settings: Settings) -> list[str]:
    """Everything valid but worth a word: unknown names, then settings the fork ignores or overrides."""
    return unknown_names(collected.values) + rules.warnings(settings)
