"""The image's venv after trimming (docker/trim_botocore.py, debug symbols, bytecode) still does its work."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from image_support import REPO_ROOT, TRIM_SCRIPT, build_runtime_venv, moto_sts, slim_venv, trim_script

EXAMPLE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}
CLIENT_CALL = re.compile(r"""\b(?:client|create_client)\(\s*["']([a-z0-9-]+)["']""")


@dataclass(frozen=True)
class SlimVenv:
    """A trimmed copy of the image's venv and what trimming saved."""

    path: Path
    size_before: int
    size_after: int
    report: str

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"


@pytest.fixture(scope="module")
def slim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlimVenv]:
    venv = build_runtime_venv(tmp_path_factory.mktemp("image-venv"))
    tree_size = trim_script().tree_size
    before = tree_size(venv)
    report = slim_venv(venv)
    yield SlimVenv(venv, before, tree_size(venv), report)


def run_in(slim: SlimVenv, code: str, environment: dict[str, str] | None = None) -> str:
    base = {"PATH": "/usr/bin:/bin", "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null"}
    result = subprocess.run(
        [slim.python, "-c", textwrap.dedent(code)],
        env=base | (environment or {}),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_trimming_removes_most_of_botocore_and_reports_it(slim: SlimVenv) -> None:
    match = re.fullmatch(
        r"trimmed (\d+) AWS service models: botocore\+boto3 ([\d.]+) MB -> ([\d.]+) MB, "
        r"venv ([\d.]+) MB -> ([\d.]+) MB\n",
        slim.report,
    )
    assert match, slim.report
    removed, aws_before, aws_after = int(match[1]), float(match[2]), float(match[3])
    assert removed > 300
    assert aws_after < aws_before / 3
    assert slim.size_after < slim.size_before
    print(
        f"\nimage venv: {slim.size_before / 1e6:.1f} MB built, {slim.size_after / 1e6:.1f} MB trimmed "
        f"({slim.report.strip()})"
    )


def test_the_trimmed_venv_mints_dsql_and_rds_tokens(slim: SlimVenv) -> None:
    output = run_in(
        slim,
        """
        import boto3
        from temporal_dsql_runtime.tokens import mint_dsql_token

        host = "abcdefghijklmnopqrstuvwxyz.dsql.eu-west-1.on.aws"
        print(mint_dsql_token(host, "eu-west-1", "admin", 900))
        print(boto3.client("dsql", region_name="eu-west-1").generate_db_connect_auth_token(host, "eu-west-1"))
        rds = boto3.client("rds", region_name="eu-west-1")
        print(rds.generate_db_auth_token("db.example.internal", 5432, "temporal"))
        """,
        EXAMPLE_CREDENTIALS,
    )
    admin, user, rds = output.splitlines()
    credential = "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F"
    assert admin.startswith("abcdefghijklmnopqrstuvwxyz.dsql.eu-west-1.on.aws/?Action=DbConnectAdmin&")
    assert user.startswith("abcdefghijklmnopqrstuvwxyz.dsql.eu-west-1.on.aws/?Action=DbConnect&")
    assert rds.startswith("db.example.internal:5432/?Action=connect&DBUser=temporal&")
    for token in (admin, user):
        assert credential in token and "%2Feu-west-1%2Fdsql%2Faws4_request" in token
    assert credential in rds and "%2Feu-west-1%2Frds-db%2Faws4_request" in rds


def test_the_credential_command_mints_tokens_in_the_trimmed_venv(slim: SlimVenv, tmp_path: Path) -> None:
    """`temporal-dsql-runtime token` is what temporal-server runs in the image for every new connection."""
    executable = slim.path / "bin" / "temporal-dsql-runtime"
    common = ["--region", "eu-west-1", "--cache-dir", str(tmp_path / "cache")]
    requests = {
        "dsql": ["--kind", "dsql", "--host", "abc.dsql.eu-west-1.on.aws", "--user", "admin"],
        "rds": ["--kind", "rds", "--host", "db.example.internal", "--port", "5432", "--user", "temporal"],
    }
    environment = {"PATH": "/usr/bin:/bin", "AWS_CONFIG_FILE": "/dev/null"} | EXAMPLE_CREDENTIALS
    for kind, arguments in requests.items():
        result = subprocess.run(
            [executable, "token", *arguments, *common],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F" in result.stdout, kind
        assert result.stdout.startswith(arguments[3]), kind


def test_kept_services_load_and_the_others_are_gone(slim: SlimVenv) -> None:
    kept = sorted(trim_script().KEPT_SERVICES)
    output = run_in(
        slim,
        f"""
        import boto3, botocore.exceptions
        for name in {kept!r}:
            boto3.client(name, region_name="eu-west-1")
        print(sorted(boto3.session.Session().get_available_services()))
        try:
            boto3.client("s3", region_name="eu-west-1")
        except botocore.exceptions.UnknownServiceError:
            print("s3 gone")
        """,
        EXAMPLE_CREDENTIALS,
    )
    assert output.splitlines() == [repr(kept), "s3 gone"]


def test_credential_chains_through_sts_work_in_the_trimmed_venv(slim: SlimVenv, tmp_path: Path) -> None:
    """Assume-role and web-identity profiles create STS clients inside botocore; moto stands in for STS."""
    token_file = tmp_path / "web-identity-token"
    token_file.write_text("example-oidc-token")
    config = tmp_path / "aws-config"
    role = "arn:aws:iam::123456789012:role/temporal"
    config.write_text(
        f"[profile base]\naws_access_key_id = {EXAMPLE_CREDENTIALS['AWS_ACCESS_KEY_ID']}\n"
        f"aws_secret_access_key = {EXAMPLE_CREDENTIALS['AWS_SECRET_ACCESS_KEY']}\n"
        f"[profile assumed]\nrole_arn = {role}\nsource_profile = base\n"
        f"[profile web]\nrole_arn = {role}\nweb_identity_token_file = {token_file}\n"
    )
    with moto_sts() as sts_url:
        output = run_in(
            slim,
            """
            import boto3
            for profile in ("assumed", "web"):
                frozen = boto3.Session(profile_name=profile).get_credentials().get_frozen_credentials()
                print(profile, frozen.access_key[:4], bool(frozen.token))
            """,
            {
                "AWS_CONFIG_FILE": str(config),
                "AWS_ENDPOINT_URL_STS": sts_url,
                "AWS_DEFAULT_REGION": "eu-west-1",
            },
        )
    assert output.splitlines() == ["assumed ASIA True", "web ASIA True"]


def test_every_module_of_the_package_imports_in_the_trimmed_venv(slim: SlimVenv) -> None:
    output = run_in(
        slim,
        """
        import importlib, pkgutil, temporal_dsql_runtime
        prefix = "temporal_dsql_runtime."
        names = [m.name for m in pkgutil.walk_packages(temporal_dsql_runtime.__path__, prefix)]
        for name in names:
            importlib.import_module(name)
        print(len(names))
        """,
    )
    assert int(output) > 20


def test_every_subcommand_loads_from_the_installed_entry_point(slim: SlimVenv) -> None:
    from temporal_dsql_runtime.cli import SUBCOMMANDS

    executable = slim.path / "bin" / "temporal-dsql-runtime"
    for name in SUBCOMMANDS:
        result = subprocess.run([executable, name, "--help"], capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{name}: {result.stderr}"
        assert f"usage: temporal-dsql-runtime {name}" in result.stdout.lower()


def test_our_code_creates_clients_only_for_kept_services() -> None:
    """A new `client("...")` for a trimmed service must fail here, not in a container."""
    kept = trim_script().KEPT_SERVICES
    called = {
        match
        for path in (REPO_ROOT / "src").rglob("*.py")
        for match in CLIENT_CALL.findall(path.read_text(encoding="utf-8"))
    }
    assert called, "expected at least one boto3 client in the source"
    assert called <= kept, f"trimmed from the image but used: {sorted(called - kept)}"


def test_trimming_refuses_when_a_kept_model_is_missing(slim: SlimVenv) -> None:
    result = subprocess.run(
        [sys.executable, TRIM_SCRIPT, slim.path, "--keep", "no-such-service"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "has no model for no-such-service; refusing to trim" in result.stderr
