"""Fake AWS credentials and a way to run the credential command in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

EXAMPLE_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
EXAMPLE_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
"""AWS's documented example credentials: they sign locally and are valid nowhere."""

DSQL_HOST = "abcdefghijklmnopqrst.dsql.us-east-1.on.aws"
REGION = "us-east-1"

AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)

TOKEN_COMMAND = (sys.executable, "-c", "from temporal_dsql_runtime.entrypoint import main; main()", "token")
"""What the console script does, spelled out so tests do not depend on how the script is installed."""


def aws_environment(
    home: Path, *, credentials: bool = True, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """An environment whose only AWS credentials are the example keys (or none): no profile files, no IMDS."""
    environment = {k: v for k, v in (os.environ if base is None else base).items() if k not in AWS_VARIABLES}
    environment |= {
        "AWS_CONFIG_FILE": str(home / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if credentials:
        environment |= {"AWS_ACCESS_KEY_ID": EXAMPLE_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": EXAMPLE_SECRET_KEY}
    return environment


def dsql_arguments(cache_dir: Path, *, user: str = "admin", ttl: int = 900) -> list[str]:
    """Arguments of the credential command for a DSQL token."""
    return [
        "--kind", "dsql", "--host", DSQL_HOST, "--region", REGION, "--user", user,
        "--ttl", str(ttl), "--cache-dir", str(cache_dir),
    ]  # fmt: skip


def run_token(
    arguments: Sequence[str], environment: Mapping[str, str], *, python_flags: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    """Run `temporal-dsql-runtime token ARGUMENTS` in a fresh interpreter."""
    command = [TOKEN_COMMAND[0], *python_flags, *TOKEN_COMMAND[1:], *arguments]
    return subprocess.run(
        command, env=dict(environment), capture_output=True, text=True, timeout=60, check=False
    )
