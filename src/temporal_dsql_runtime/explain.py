"""`--explain`: each setting's value and where it came from, secrets redacted."""

from __future__ import annotations

from .loading import settings_from
from .render import REDACTED
from .settings import SECRET_FIELDS, Settings, variable_of
from .sources import Collected


def explain_lines(collected: Collected) -> list[str]:
    """One line per variable: `NAME = value  (origin)`; effective defaults shown for unset ones."""
    settings = settings_from(collected)
    lines = []
    for name, field in Settings.model_fields.items():
        variable = variable_of(name)
        value = getattr(settings, name)
        if name in SECRET_FIELDS:
            shown = REDACTED if value is not None else ""
        elif isinstance(value, bool):
            shown = "true" if value else "false"
        elif isinstance(value, tuple):
            shown = ",".join(value)
        elif isinstance(value, dict):
            shown = ",".join(f"{k}={v}" for k, v in value.items())
        else:
            shown = "" if value is None else str(value)
        origin = collected.origins.get(variable)
        if origin is None and name == "sql_region" and "AWS_REGION" in collected.origins:
            origin = f"{collected.origins['AWS_REGION']} (AWS_REGION)"
        if origin is None:
            unchanged = value == field.get_default(call_default_factory=True)
            origin = "default" if unchanged else "derived from other settings"
        lines.append(f"{variable} = {shown}  ({origin})")
    return lines
