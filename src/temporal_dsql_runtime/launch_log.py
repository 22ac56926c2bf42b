"""The launcher's step log on stderr: plain text or JSON lines, never a secret."""

from __future__ import annotations

import json
import sys
import time
from typing import Literal, TextIO


class StepLog:
    """Writes one line per launcher step."""

    def __init__(self, style: Literal["text", "json"] = "text", stream: TextIO | None = None) -> None:
        self.style = style
        self.stream = stream or sys.stderr

    def __call__(self, step: str, message: str, level: str = "info") -> None:
        """Log `message` for `step`."""
        if self.style == "json":
            record = {"ts": round(time.time(), 3), "level": level, "step": step, "msg": message}
            line = json.dumps(record, ensure_ascii=False)
        else:
            line = f"temporal-dsql-runtime [{level}] {step}: {message}"
        self.stream.write(line + "\n")
        self.stream.flush()
