"""Reading terraform/ with python-hcl2, and running Terraform itself on the module that needs no provider."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import hcl2
import pytest

REPO = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO / "terraform"
RUNTIME_SETTINGS_MODULE = TERRAFORM_DIR / "modules" / "runtime_settings"


def unquote(value: Any) -> Any:
    """python-hcl2 keeps the quotes of names and string literals; drop them."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


@functools.cache
def _documents(directory: Path = TERRAFORM_DIR) -> tuple[dict[str, Any], ...]:
    """Every .tf file of a module, parsed once per test session (python-hcl2 is slow; nothing edits them)."""
    return tuple(hcl2.loads(path.read_text()) for path in sorted(directory.glob("*.tf")))


def blocks(kind: str, directory: Path = TERRAFORM_DIR) -> dict[str, dict[str, Any]]:
    """Every `variable`/`output`/`module` block of a module by name."""
    found: dict[str, dict[str, Any]] = {}
    for document in _documents(directory):
        for block in document.get(kind, []):
            for name, body in block.items():
                found[unquote(name)] = body
    return found


def typed_blocks(kind: str, directory: Path = TERRAFORM_DIR) -> dict[str, dict[str, Any]]:
    """Every `resource`/`data` block of a module as "type.name" -> body."""
    found: dict[str, dict[str, Any]] = {}
    for document in _documents(directory):
        for block in document.get(kind, []):
            for type_name, named in block.items():
                for name, body in named.items():
                    found[f"{unquote(type_name)}.{unquote(name)}"] = body
    return found


def resources() -> dict[str, dict[str, Any]]:
    """Every resource of terraform/ as "type.name" -> body."""
    return typed_blocks("resource")


def local_values(directory: Path = TERRAFORM_DIR) -> dict[str, Any]:
    """Every local value of a module by name."""
    found: dict[str, Any] = {}
    for document in _documents(directory):
        for block in document.get("locals", []):
            found.update({name: value for name, value in block.items() if not name.startswith("__")})
    return found


def terraform() -> str:
    """The terraform binary; a test that needs it fails loudly without it."""
    found = shutil.which("terraform")
    if found is None:
        pytest.fail(
            "terraform is not on PATH; install Terraform >= 1.9 (the tests run `terraform fmt` and apply a module)"
        )
    return found


class RuntimeSettingsModule:
    """modules/runtime_settings, initialised once in a private copy, applied with any inputs."""

    def __init__(self, workdir: Path) -> None:
        self.directory = workdir / "runtime_settings"
        shutil.copytree(RUNTIME_SETTINGS_MODULE, self.directory)
        initialised = self._run("init", "-input=false", "-no-color")
        assert initialised.returncode == 0, initialised.stderr
        self._applied = 0

    def _run(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [terraform(), f"-chdir={self.directory}", *arguments],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    def apply(self, inputs: Mapping[str, Any]) -> subprocess.CompletedProcess[str]:
        """`terraform apply` with these inputs, in a state file of its own."""
        self._applied += 1
        variables = self.directory / f"inputs-{self._applied}.tfvars.json"
        variables.write_text(json.dumps(inputs))
        self.state = self.directory / f"state-{self._applied}.tfstate"
        return self._run(
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
            f"-var-file={variables}",
            f"-state={self.state}",
        )

    def outputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The module's outputs for these inputs (the apply must succeed)."""
        applied = self.apply(inputs)
        assert applied.returncode == 0, applied.stderr
        shown = self._run("output", "-json", f"-state={self.state}")
        assert shown.returncode == 0, shown.stderr
        return {name: output["value"] for name, output in json.loads(shown.stdout).items()}
