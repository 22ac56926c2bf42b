"""`certs`: the AWS Client VPN PKI (root CA, server, clients), its check, and its import into ACM."""

from __future__ import annotations

from pathlib import Path

import click

from .. import certs as pki
from ..cli_support import echo_lines, process_environment, reports_user_errors

pki_dir_option = click.option(
    "--pki-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("pki"),
    show_default=True,
    help="Directory holding the CA, server and client certificates and keys.",
)
force_option = click.option("--force", is_flag=True, help="Replace an existing certificate and key.")
days_option = click.option(
    "--days", type=int, default=pki.LEAF_VALID_DAYS, show_default=True, help="Validity."
)
region_option = click.option("--region", default=None, help="AWS region of ACM. Default: AWS_REGION.")


@click.group()
def certs() -> None:
    """Client VPN certificates: create them, verify them, import them into ACM, print the Terraform ARNs."""


@certs.command()
@pki_dir_option
@reports_user_errors
def init(pki_dir: Path) -> None:
    """Create the PKI directory (mode 0700)."""
    pki.init_pki(pki_dir)
    click.echo(f"PKI directory: {pki_dir}")


@certs.command("create-root-ca")
@pki_dir_option
@click.option("--common-name", default=pki.DEFAULT_CA_NAME, show_default=True, help="CA subject CN.")
@click.option("--days", type=int, default=pki.CA_VALID_DAYS, show_default=True, help="Validity.")
@force_option
@reports_user_errors
def create_root_ca(pki_dir: Path, common_name: str, days: int, force: bool) -> None:
    """Create the root CA that signs the server and client certificates."""
    click.echo(f"root CA: {pki.create_root_ca(pki_dir, common_name, days, force)}")


@certs.command("create-server")
@pki_dir_option
@click.option("--common-name", default=pki.DEFAULT_SERVER_NAME, show_default=True, help="Server CN and SAN.")
@click.option("--dns-name", "dns_names", multiple=True, help="Extra subject alternative name (repeatable).")
@days_option
@force_option
@reports_user_errors
def create_server(
    pki_dir: Path, common_name: str, dns_names: tuple[str, ...], days: int, force: bool
) -> None:
    """Create the Client VPN server certificate (serverAuth)."""
    path = pki.create_server_certificate(pki_dir, common_name, dns_names, days, force)
    click.echo(f"server certificate: {path}")


@certs.command("create-client")
@click.argument("name")
@pki_dir_option
@days_option
@force_option
@reports_user_errors
def create_client(name: str, pki_dir: Path, days: int, force: bool) -> None:
    """Create a client certificate (clientAuth) for one VPN user or machine."""
    click.echo(f"client certificate: {pki.create_client_certificate(pki_dir, name, days, force)}")


@certs.command()
@pki_dir_option
@reports_user_errors
def verify(pki_dir: Path) -> None:
    """Check every certificate: signed by the CA, valid now, right key usage, matching key."""
    echo_lines([f"ok {line}" for line in pki.verify_pki(pki_dir)])


@certs.command("acm-import-server")
@pki_dir_option
@region_option
@reports_user_errors
def acm_import_server(pki_dir: Path, region: str | None) -> None:
    """Import the server certificate into ACM (re-import keeps the ARN)."""
    click.echo(pki.import_to_acm(pki_dir, "server", region, process_environment()))


@certs.command("acm-import-root")
@pki_dir_option
@region_option
@reports_user_errors
def acm_import_root(pki_dir: Path, region: str | None) -> None:
    """Import the CA chain into ACM for client authentication (the CA key stays here)."""
    click.echo(pki.import_to_acm(pki_dir, "root", region, process_environment()))


@certs.command("print-acm-arns")
@pki_dir_option
@click.option(
    "--format",
    "style",
    type=click.Choice(["tfvars", "var-flags"]),
    default="tfvars",
    show_default=True,
    help="tfvars lines, or -var flags for `terraform apply`.",
)
@reports_user_errors
def print_acm_arns(pki_dir: Path, style: str) -> None:
    """Print the imported ARNs as the Terraform variables of terraform/."""
    click.echo(pki.terraform_variables(pki_dir, "tfvars" if style == "tfvars" else "var-flags"), nl=False)
