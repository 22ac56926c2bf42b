"""(f) Every dynamic config file the project ships passes `temporal-server validate-dynamic-config`."""

from __future__ import annotations

import subprocess
from importlib.resources import files
from pathlib import Path

import pytest

from support.temporal_cluster import tool

SHIPPED = sorted(Path(str(files("temporal_dsql_runtime").joinpath("dynamicconfig"))).glob("*.yaml"))


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tool("temporal-server")), "validate-dynamic-config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_project_ships_dynamic_config_files() -> None:
    assert {p.name for p in SHIPPED} >= {"development.yaml", "dsql.yaml"}


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_dynamic_config_is_valid(path: Path) -> None:
    result = validate(path)
    assert result.returncode == 0, result.stderr
    # The validator exits 0 even for unknown keys or wrong types; it reports them as warnings.
    assert "warning" not in (result.stdout + result.stderr).lower(), result.stdout + result.stderr


def test_the_validator_reports_unknown_keys_and_bad_types(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "frontend.enableUpdateWorkflowExecutionn:\n  - value: true\nlimit.maxIDLength:\n  - value: abc\n"
    )
    output = validate(bad).stdout
    assert 'unregistered key "frontend.enableupdateworkflowexecutionn"' in output
    assert "value type is not int" in output
