"""Go-style durations (`30s`, `1h30m`, `250ms`): parsed, compared, rendered as written."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_WHOLE = re.compile(rf"(?:{_PART.pattern})+")


class GoDuration(str):
    """A duration string that Go's `time.ParseDuration` accepts (no sign: negative durations are never wanted)."""

    __slots__ = ()

    @property
    def seconds(self) -> float:
        """The duration in seconds."""
        if self == "0":
            return 0.0
        return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _PART.findall(self))


def parse_go_duration(value: Any) -> GoDuration:
    """Accept a Go duration string; reject anything `time.ParseDuration` would refuse or misread."""
    if isinstance(value, GoDuration):
        return value
    if not isinstance(value, str):
        raise ValueError("expected a Go duration such as 30s, 5m or 1h")
    text = value.strip()
    if text != "0" and not _WHOLE.fullmatch(text):
        raise ValueError("expected a Go duration such as 30s, 5m or 1h (units ns, us, ms, s, m, h)")
    return GoDuration(text)


Duration = Annotated[
    GoDuration,
    PlainValidator(parse_go_duration),
    PlainSerializer(str),
    WithJsonSchema({"type": "string"}),
]
"""A pydantic field type for Go durations."""

DURATION_HELP = "a Go duration such as 30s, 5m or 1h"
