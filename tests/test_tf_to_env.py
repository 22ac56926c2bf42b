"""`tf-to-env`: terraform output JSON to the runtime's .env, which must load into the settings model."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from dotenv import dotenv_values
from hypothesis import given
from hypothesis import strategies as st

from temporal_dsql_runtime.commands.tf_to_env import tf_to_env
from temporal_dsql_runtime.errors import ConfigError
from temporal_dsql_runtime.loading import load_settings
from temporal_dsql_runtime.settings import Settings
from temporal_dsql_runtime.tf_to_env import Endpoint, env_value, parse_outputs, settings_from_outputs

FIXTURES = Path(__file__).parent / "fixtures" / "terraform"
OUTPUTS = FIXTURES / "outputs.json"
MISSING = FIXTURES / "outputs-missing.json"
CLUSTER_HOST = "abcdefghijklmnopqrstuvwxyz.dsql.eu-west-1.on.aws"
VPC_HOST = "vpce-0c1d2e3f4a5b60718-4xq2rz7k.dsql-fnh4.eu-west-1.vpce.amazonaws.com"
OPENSEARCH_URL = "https://vpc-temporal-dsql-visibility-3kq5w7d2hm4xq2rz7kp6a5e4jy.eu-west-1.es.amazonaws.com"

PUBLIC_ENV = {
    "TEMPORAL_SQL_PLUGIN_NAME": "dsql",
    "TEMPORAL_SQL_HOST": CLUSTER_HOST,
    "TEMPORAL_SQL_PORT": "5432",
    "TEMPORAL_SQL_DATABASE": "postgres",
    "TEMPORAL_SQL_USER": "admin",
    "TEMPORAL_SQL_AUTH_METHOD": "plugin",
    "TEMPORAL_SQL_REGION": "eu-west-1",
    "TEMPORAL_SQL_TLS_ENABLED": "true",
    "TEMPORAL_VISIBILITY_STORE": "opensearch",
    "TEMPORAL_OPENSEARCH_ENDPOINT": OPENSEARCH_URL,
    "TEMPORAL_OPENSEARCH_VERSION": "v7",
    "TEMPORAL_OPENSEARCH_INDEX": "temporal_visibility_v1",
    "TEMPORAL_OPENSEARCH_AUTH": "aws-sigv4",
    "TEMPORAL_OPENSEARCH_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1",
}


def run(*args: str, stdin: str | None = None, env: dict[str, str | None] | None = None) -> Result:
    result = CliRunner().invoke(tf_to_env, list(args), input=stdin, env=env)
    assert "Traceback" not in result.output
    return result


def parse_env(text: str) -> dict[str, str]:
    """Read .env text the way the runtime does (python-dotenv)."""
    values = dotenv_values(stream=io.StringIO(text))
    assert all(value is not None for value in values.values())
    return {key: value for key, value in values.items() if value is not None}


def test_public_endpoint_env_has_exactly_the_runtime_settings() -> None:
    result = run("--file", str(OUTPUTS))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("# Written by `temporal-dsql-runtime tf-to-env`")
    assert parse_env(result.stdout) == PUBLIC_ENV
    assert list(parse_env(result.stdout)) == list(PUBLIC_ENV), "stable order, persistence first"


def test_vpc_endpoint_env_dials_the_endpoint_and_signs_for_the_cluster_as_aws_documents() -> None:
    result = run("--file", str(OUTPUTS), "--endpoint", "vpc")
    assert result.exit_code == 0, result.stderr
    expected = PUBLIC_ENV | {
        "TEMPORAL_SQL_HOST": VPC_HOST,
        "TEMPORAL_SQL_TLS_ENABLE_HOST_VERIFICATION": "false",
        "CLUSTER_ENDPOINT": CLUSTER_HOST,
    }
    assert parse_env(result.stdout) == expected


def test_private_dns_env_dials_the_clusters_private_name() -> None:
    result = run("--file", str(OUTPUTS), "--endpoint", "private-dns")
    assert result.exit_code == 0, result.stderr
    private_name = "abcdefghijklmnopqrstuvwxyz.dsql-fnh4.eu-west-1.on.aws"
    assert parse_env(result.stdout) == PUBLIC_ENV | {"TEMPORAL_SQL_HOST": private_name}


@pytest.mark.parametrize("endpoint", ["public", "vpc"])
def test_the_env_loads_into_the_settings_model(endpoint: str, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    result = run("--file", str(OUTPUTS), "--endpoint", endpoint, "--output", str(env_file))
    assert result.exit_code == 0, result.stderr

    settings = load_settings(parse_env(env_file.read_text()))
    assert settings.sql_plugin_name == "dsql"
    assert settings.sql_host == (VPC_HOST if endpoint == "vpc" else CLUSTER_HOST)
    assert settings.token_host == CLUSTER_HOST
    assert settings.dsql_cluster_option() == (
        "-c amzn-cluster-id=abcdefghijklmnopqrstuvwxyz" if endpoint == "vpc" else None
    )
    assert settings.sql_region == "eu-west-1"
    assert settings.sql_tls_enabled is True
    assert settings.visibility_store == "opensearch"
    assert settings.opensearch_endpoint == OPENSEARCH_URL
    assert (settings.opensearch_auth, settings.opensearch_version) == ("aws-sigv4", "v7")
    assert load_settings({}, env_file=env_file) == settings, "the runtime's own --env-file reading agrees"


def test_every_name_written_is_one_the_settings_model_reads() -> None:
    read = {field.alias for field in Settings.model_fields.values()} | {"AWS_REGION"}
    written = settings_from_outputs(parse_outputs(OUTPUTS.read_text(), "fixture"), Endpoint.VPC)
    assert set(written) <= read, sorted(set(written) - read)


def test_stdin_and_output_file_written_0600_atomically(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("OLD=1\n")
    env_file.chmod(0o644)
    result = run("--file", "-", "--output", str(env_file), stdin=OUTPUTS.read_text())
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert parse_env(env_file.read_text()) == PUBLIC_ENV
    assert sorted(path.name for path in tmp_path.iterdir()) == [".env"], "no temporary file left behind"


def test_missing_outputs_are_named_one_line_each_and_nothing_is_written(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    result = run("--file", str(MISSING), "--endpoint", "vpc", "--output", str(env_file))
    assert result.exit_code == 78
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert [line.split(":")[1].strip() for line in lines] == [
        "terraform output dsql_vpc_endpoint_dns_entries",
        "terraform output opensearch_domain_endpoint",
    ]
    assert all(line.startswith("error: terraform output ") and "missing" in line for line in lines)
    assert not env_file.exists()


def test_empty_outputs_of_an_unapplied_stack_name_everything_needed() -> None:
    result = run("--file", "-", stdin="{}\n")
    assert result.exit_code == 78
    assert len(result.stderr.splitlines()) == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "--file -: not terraform output JSON"),
        ("[]", "--file -: not terraform output JSON (expected an object of outputs)"),
        ('{"region": "eu-west-1"}', "--file -: output 'region' has no 'value'"),
    ],
)
def test_malformed_input_is_a_one_line_config_error(text: str, message: str) -> None:
    result = run("--file", "-", stdin=text)
    assert result.exit_code == 78
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith(f"error: {message}")


def fixture_with(**changes: object) -> str:
    document = json.loads(OUTPUTS.read_text())
    for name, value in changes.items():
        document[name]["value"] = value
    return json.dumps(document)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"region": "Europe"}, "terraform output region: 'Europe' is not an AWS region code"),
        ({"dsql_public_endpoint": "db.example.com"}, "is not <cluster-id>.dsql.eu-west-1.on.aws"),
        ({"opensearch_domain_endpoint": "http://search.example.com"}, "must be reached over https"),
        ({"opensearch_domain_endpoint": "https://bad host"}, "is not a DNS host name"),
        ({"opensearch_domain_endpoint": "https://[x"}, "'https://[x' is not a URL or host name"),
        ({"opensearch_domain_endpoint": "[x"}, "'[x' is not a URL or host name"),
        ({"dsql_public_endpoint": "x.dsql.eu-west-1.on.aws\nEVIL=1"}, "is not a DNS host name"),
    ],
)
def test_implausible_output_values_are_refused(changes: dict[str, object], problem: str) -> None:
    result = run("--file", "-", stdin=fixture_with(**changes))
    assert result.exit_code == 78
    assert problem in result.stderr and len(result.stderr.splitlines()) == 1


def test_a_bare_opensearch_host_gets_https_and_a_wildcard_endpoint_name_the_cluster_id() -> None:
    entries = [{"dns_name": "*.vpce-0c1d2e3f4a5b60718-4xq2rz7k.dsql-fnh4.eu-west-1.vpce.amazonaws.com"}]
    text = fixture_with(
        opensearch_domain_endpoint=OPENSEARCH_URL.removeprefix("https://"),
        dsql_vpc_endpoint_dns_entries=entries,
    )
    result = run("--file", "-", "--endpoint", "vpc", stdin=text)
    assert result.exit_code == 0, result.stderr
    values = parse_env(result.stdout)
    assert values["TEMPORAL_OPENSEARCH_ENDPOINT"] == OPENSEARCH_URL
    assert values["TEMPORAL_SQL_HOST"] == "abcdefghijklmnopqrstuvwxyz." + VPC_HOST


@pytest.mark.parametrize("args", [[], ["--file", str(OUTPUTS), "--terraform-dir", "."]])
def test_exactly_one_input_is_required(args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert "give exactly one of --file FILE, --file - (stdin) or --terraform-dir DIR" in result.stderr


def terraform_dir_with_state(tmp_path: Path) -> Path:
    """A directory whose local state holds the fixture's outputs, as `terraform apply` leaves it."""
    outputs = {
        name: {"value": o["value"], "type": o["type"]} for name, o in json.loads(OUTPUTS.read_text()).items()
    }
    state = {
        "version": 4,
        "terraform_version": "1.11.4",
        "serial": 1,
        "lineage": "5c3e1f2a-1b2c-4d3e-8f4a-0123456789ab",
        "outputs": outputs,
        "resources": [],
        "check_results": None,
    }
    directory = tmp_path / "terraform"
    directory.mkdir()
    (directory / "terraform.tfstate").write_text(json.dumps(state))
    return directory


def test_terraform_dir_runs_the_real_terraform_output(tmp_path: Path) -> None:
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not on PATH; install Terraform to test `tf-to-env --terraform-dir`")
    result = run("--terraform-dir", str(terraform_dir_with_state(tmp_path)), "--endpoint", "vpc")
    assert result.exit_code == 0, result.stderr
    assert parse_env(result.stdout)["TEMPORAL_SQL_HOST"] == VPC_HOST


def test_terraform_dir_without_terraform_or_without_state(tmp_path: Path) -> None:
    directory = terraform_dir_with_state(tmp_path)
    result = run("--terraform-dir", str(directory), env={"PATH": str(tmp_path / "empty")})
    assert result.exit_code == 69
    assert result.stderr == "error: terraform: 'terraform' is not on PATH; install Terraform or use --file\n"
    result = run("--terraform-dir", str(tmp_path / "absent"))
    assert (result.exit_code, result.stderr) == (
        78,
        f"error: --terraform-dir: {tmp_path / 'absent'} is not a directory\n",
    )


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="'\\\r\n\x00"), max_size=40))
def test_written_values_read_back_unchanged(value: str) -> None:
    line = f"NAME={env_value('NAME', value)}\n"
    assert parse_env(line).get("NAME", "") == value


@pytest.mark.parametrize("value", ["it's", "a\nb", "back\\slash"])
def test_values_that_cannot_be_written_safely_are_refused(value: str) -> None:
    with pytest.raises(ConfigError, match=r"cannot be written to a \.env file safely"):
        env_value("NAME", value)


def test_the_command_group_runs_tf_to_env_in_a_fresh_interpreter(tmp_path: Path) -> None:
    env_file = tmp_path / "stack.env"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from temporal_dsql_runtime.cli import cli; cli()",
            "tf-to-env",
            "--file",
            str(OUTPUTS),
            "--output",
            str(env_file),
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert parse_env(env_file.read_text()) == PUBLIC_ENV
