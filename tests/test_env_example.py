"""The committed .env.example is exactly what `temporal-dsql-runtime variables --format env` prints."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from temporal_dsql_runtime.cli import cli
from temporal_dsql_runtime.settings import variable_names

ENV_EXAMPLE = Path(__file__).resolve().parents[1] / ".env.example"
REGENERATE = "regenerate it: uv run temporal-dsql-runtime variables --format env > .env.example"


def generated() -> str:
    result = CliRunner().invoke(cli, ["variables", "--format", "env"], env={})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_committed_env_example_is_the_generated_one() -> None:
    assert ENV_EXAMPLE.read_text(encoding="utf-8") == generated(), REGENERATE


def test_the_env_example_documents_every_variable_once() -> None:
    named = re.findall(r"^# ([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert sorted(named) == sorted(variable_names().values()), REGENERATE
