"""Delete botocore's and boto3's data for AWS services the runtime never calls, from a virtual environment.

botocore ships a model for every AWS service (hundreds of directories); a client loads only its own service's
model, plus the shared endpoint and retry files. The runtime creates clients for the services in
KEPT_SERVICES and nothing else, so every other model is dead weight in the image. boto3's `data` holds
resource models (`boto3.resource(...)`), which the runtime never uses.

Run in the image's build stage: `python3 trim_botocore.py VENV [--keep SERVICE ...]`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

KEPT_SERVICES = frozenset(
    {
        "dsql",  # IAM tokens for Aurora DSQL (the launcher, the credential command, doctor, schema)
        "rds",  # IAM tokens for RDS/Aurora PostgreSQL
        "acm",  # `certs` imports the Client VPN certificates
        "sts",  # credential chains: assume-role profiles and web identity (EKS/IRSA), caller identity
        "sso",  # credential chains: IAM Identity Center profiles
        "sso-oidc",  # refresh of IAM Identity Center tokens
        "signin",  # credential chains: `aws login` profiles
    }
)
"""Service models kept: those the runtime's own clients and botocore's credential providers create."""


def site_packages(venv: Path) -> Path:
    """The one `lib/pythonX.Y/site-packages` directory of a virtual environment."""
    found = sorted(venv.glob("lib/python3*/site-packages"))
    if len(found) != 1:
        raise SystemExit(f"error: {venv}: expected one lib/python3*/site-packages, found {len(found)}")
    return found[0]


def tree_size(path: Path) -> int:
    """Bytes taken by the regular files under `path`."""
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file() and not item.is_symlink())


def trim(packages: Path, kept: frozenset[str]) -> list[str]:
    """Remove unkept service models and boto3's resource models; return the removed services' names."""
    models = packages / "botocore" / "data"
    missing = sorted(name for name in kept if not (models / name).is_dir())
    if missing:
        raise SystemExit(f"error: {models} has no model for {', '.join(missing)}; refusing to trim")
    removed = sorted(entry.name for entry in models.iterdir() if entry.is_dir() and entry.name not in kept)
    for name in removed:
        shutil.rmtree(models / name)
    resources = packages / "boto3" / "data"
    if resources.is_dir():
        for entry in resources.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    return removed


def aws_size(packages: Path) -> int:
    """Bytes taken by botocore and boto3."""
    return tree_size(packages / "botocore") + tree_size(packages / "boto3")


def megabytes(size: int) -> str:
    """`12.3 MB`."""
    return f"{size / 1_000_000:.1f} MB"


def main(argv: Sequence[str] | None = None) -> int:
    """Trim the venv given on the command line and print what it saved."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("venv", type=Path, help="the virtual environment to trim")
    parser.add_argument("--keep", action="append", default=[], metavar="SERVICE", help="keep one more model")
    arguments = parser.parse_args(argv)
    packages = site_packages(arguments.venv)
    aws_before, venv_before = aws_size(packages), tree_size(arguments.venv)
    removed = trim(packages, KEPT_SERVICES | set(arguments.keep))
    print(
        f"trimmed {len(removed)} AWS service models: botocore+boto3 "
        f"{megabytes(aws_before)} -> {megabytes(aws_size(packages))}, "
        f"venv {megabytes(venv_before)} -> {megabytes(tree_size(arguments.venv))}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
