"""`certs`: the Client VPN PKI checked with real openssl, and its ACM import against moto."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import hcl2
import pytest
from click.testing import CliRunner, Result
from moto import mock_aws

from temporal_dsql_runtime import certs as pki
from temporal_dsql_runtime.commands.certs import certs
from temporal_dsql_runtime.errors import ConfigError

AWS_EXAMPLE_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_SESSION_TOKEN": None,
    "AWS_PROFILE": None,
    "AWS_REGION": "eu-west-1",
    "AWS_DEFAULT_REGION": None,
}


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    result = CliRunner().invoke(certs, list(args), env=env)
    assert "Traceback" not in result.output
    assert "PRIVATE KEY" not in result.output, "key material must never be printed"
    return result


def ok(*args: str, env: dict[str, str | None] | None = None) -> str:
    result = run(*args, env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def openssl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def made_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("vpn") / "pki"
    ok("init", "--pki-dir", str(directory))
    ok("create-root-ca", "--pki-dir", str(directory))
    ok("create-server", "--pki-dir", str(directory), "--dns-name", "vpn.example.com")
    ok("create-client", "alice", "--pki-dir", str(directory))
    return directory


@pytest.fixture
def pki_dir(made_once: Path, tmp_path: Path) -> Path:
    """A private copy (modes kept) of the PKI made once per module: root CA, server, client alice."""
    return Path(shutil.copytree(made_once, tmp_path / "pki"))


def test_keys_are_0600_certificates_readable_directory_private(pki_dir: Path) -> None:
    assert stat.S_IMODE(pki_dir.stat().st_mode) == 0o700
    for key in ("ca.key", "server.key", "clients/alice.key"):
        assert stat.S_IMODE((pki_dir / key).stat().st_mode) == 0o600, key
    for certificate in ("ca.crt", "server.crt", "clients/alice.crt"):
        assert stat.S_IMODE((pki_dir / certificate).stat().st_mode) == 0o644, certificate
    assert not list(pki_dir.rglob("*.tmp")), "no temporary file may be left behind"


def test_openssl_verifies_the_chain_for_the_right_purposes(pki_dir: Path) -> None:
    ca = str(pki_dir / "ca.crt")
    server = openssl("verify", "-CAfile", ca, "-purpose", "sslserver", str(pki_dir / "server.crt"))
    assert server.returncode == 0 and ": OK" in server.stdout, server.stdout + server.stderr
    client = openssl("verify", "-CAfile", ca, "-purpose", "sslclient", str(pki_dir / "clients/alice.crt"))
    assert client.returncode == 0 and ": OK" in client.stdout, client.stdout + client.stderr
    wrong = openssl("verify", "-CAfile", ca, "-purpose", "sslserver", str(pki_dir / "clients/alice.crt"))
    assert wrong.returncode != 0, "a client certificate must not pass as a server certificate"


def x509_text(path: Path) -> str:
    result = openssl("x509", "-in", str(path), "-noout", "-text")
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_key_usages_match_what_aws_client_vpn_needs(pki_dir: Path) -> None:
    ca = x509_text(pki_dir / "ca.crt")
    assert "CA:TRUE" in ca and "Certificate Sign" in ca
    server = x509_text(pki_dir / "server.crt")
    assert "TLS Web Server Authentication" in server
    assert "Digital Signature, Key Encipherment" in server
    assert "DNS:server.temporal-dsql.vpn, DNS:vpn.example.com" in server
    assert "CA:FALSE" in server
    client = x509_text(pki_dir / "clients/alice.crt")
    assert "TLS Web Client Authentication" in client and "TLS Web Server Authentication" not in client
    assert "Subject: CN = alice" in client
    for text in (ca, server, client):
        assert "Public-Key: (2048 bit)" in text and "sha256WithRSAEncryption" in text


def test_each_key_matches_its_certificate(pki_dir: Path) -> None:
    for certificate, key in (
        ("ca.crt", "ca.key"),
        ("server.crt", "server.key"),
        ("clients/alice.crt", "clients/alice.key"),
    ):
        from_certificate = openssl("x509", "-in", str(pki_dir / certificate), "-noout", "-pubkey").stdout
        from_key = openssl("pkey", "-in", str(pki_dir / key), "-pubout").stdout
        assert from_certificate and from_certificate == from_key, certificate


def test_verify_reports_every_certificate(pki_dir: Path) -> None:
    assert ok("verify", "--pki-dir", str(pki_dir)).splitlines() == [
        "ok root CA: CN=temporal-dsql VPN root CA",
        "ok server: CN=server.temporal-dsql.vpn",
        "ok client alice: CN=alice",
    ]


def test_verify_fails_on_a_foreign_or_misused_certificate(tmp_path: Path) -> None:
    mine, other = tmp_path / "mine", tmp_path / "other"
    for directory in (mine, other):
        ok("init", "--pki-dir", str(directory))
        ok("create-root-ca", "--pki-dir", str(directory))
        ok("create-server", "--pki-dir", str(directory))
        ok("create-client", "bob", "--pki-dir", str(directory))
    (mine / "clients/bob.crt").write_bytes((other / "clients/bob.crt").read_bytes())
    (mine / "server.crt").write_bytes((mine / "clients/bob.crt").read_bytes())

    result = run("verify", "--pki-dir", str(mine))
    assert result.exit_code == 78
    assert result.stderr.splitlines() == [
        "error: server: not signed by the root CA in this PKI directory",
        "error: server: extended key usage lacks serverAuth",
        "error: server: its key file does not match the certificate",
        "error: client bob: not signed by the root CA in this PKI directory",
        "error: client bob: its key file does not match the certificate",
    ]
    openssl_says = openssl("verify", "-CAfile", str(mine / "ca.crt"), str(mine / "clients/bob.crt"))
    assert openssl_says.returncode != 0


def test_a_corrupt_certificate_or_key_is_a_one_line_error(pki_dir: Path) -> None:
    (pki_dir / "ca.crt").write_text("not a certificate\n")
    result = run("verify", "--pki-dir", str(pki_dir))
    assert (result.exit_code, result.stderr) == (
        78,
        f"error: root CA: {pki_dir / 'ca.crt'} is not a PEM certificate; run `certs create-root-ca` first\n",
    )
    (pki_dir / "ca.key").write_text("not a key\n")
    result = run("create-client", "frank", "--pki-dir", str(pki_dir))
    assert result.exit_code == 78 and len(result.stderr.splitlines()) == 1


def test_existing_files_are_kept_unless_forced(pki_dir: Path) -> None:
    before = (pki_dir / "clients/alice.key").read_bytes()
    result = run("create-client", "alice", "--pki-dir", str(pki_dir))
    assert result.exit_code == 78
    assert result.stderr.strip().endswith("already exists; pass --force to replace it")
    assert (pki_dir / "clients/alice.key").read_bytes() == before

    ok("create-client", "carol", "--pki-dir", str(pki_dir))
    first = (pki_dir / "clients/carol.crt").read_bytes()
    ok("create-client", "carol", "--pki-dir", str(pki_dir), "--force")
    assert (pki_dir / "clients/carol.crt").read_bytes() != first
    assert stat.S_IMODE((pki_dir / "clients/carol.key").stat().st_mode) == 0o600


@pytest.mark.parametrize("name", ["../evil", "", "a b", "-rf", "x" * 65])
def test_a_client_name_that_is_no_safe_file_name_is_refused(pki_dir: Path, name: str) -> None:
    before = sorted(p.name for p in pki_dir.rglob("*"))
    result = run("create-client", name, "--pki-dir", str(pki_dir))
    assert result.exit_code in (2, 78)
    assert len(result.stderr.strip().splitlines()) == 1 or result.exit_code == 2
    assert sorted(p.name for p in pki_dir.rglob("*")) == before


@pytest.mark.parametrize(
    ("command", "common_name"),
    [
        ("create-root-ca", "a" * 65),
        ("create-root-ca", "é" * 33),
        ("create-server", "a" * 60 + ".example.com"),
    ],
)
def test_a_common_name_over_64_bytes_is_a_one_line_config_error(
    pki_dir: Path, command: str, common_name: str
) -> None:
    before = {path: path.read_bytes() for path in pki_dir.rglob("*") if path.is_file()}

    result = run(command, "--pki-dir", str(pki_dir), "--common-name", common_name, "--force")

    assert result.exit_code == 78
    assert result.stderr.startswith("error: --common-name: ") and len(result.stderr.splitlines()) == 1
    assert "at most 64" in result.stderr
    assert {path: path.read_bytes() for path in pki_dir.rglob("*") if path.is_file()} == before


def test_a_common_name_of_exactly_64_bytes_is_accepted(pki_dir: Path) -> None:
    server_name = "a" * 52 + ".example.com"
    ok("create-root-ca", "--pki-dir", str(pki_dir), "--common-name", "a" * 64, "--force")
    ok("create-server", "--pki-dir", str(pki_dir), "--common-name", server_name, "--force")

    subjects = [
        openssl("x509", "-in", str(pki_dir / name), "-noout", "-subject").stdout.strip()
        for name in ("ca.crt", "server.crt")
    ]
    assert subjects == [f"subject=CN = {'a' * 64}", f"subject=CN = {server_name}"]


def test_steps_out_of_order_are_one_line_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here"
    result = run("create-root-ca", "--pki-dir", str(missing))
    assert (result.exit_code, result.stderr) == (
        78,
        f"error: --pki-dir: {missing} is not a PKI directory; run `certs init` first\n",
    )
    ok("init", "--pki-dir", str(missing))
    result = run("create-server", "--pki-dir", str(missing))
    assert result.exit_code == 78
    assert (
        result.stderr
        == f"error: root CA: {missing / 'ca.crt'} does not exist; run `certs create-root-ca` first\n"
    )
    result = run("create-root-ca", "--pki-dir", str(missing), "--days", "0")
    assert result.exit_code == 78 and "--days" in result.stderr


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def test_acm_import_and_terraform_arns(pki_dir: Path, aws: None) -> None:
    server_arn = ok("acm-import-server", "--pki-dir", str(pki_dir), env=AWS_EXAMPLE_ENV).strip()
    root_arn = ok("acm-import-root", "--pki-dir", str(pki_dir), env=AWS_EXAMPLE_ENV).strip()
    assert server_arn.startswith("arn:aws:acm:eu-west-1:") and root_arn.startswith("arn:aws:acm:eu-west-1:")
    assert server_arn != root_arn

    acm = boto3.client("acm", region_name="eu-west-1")
    server = acm.get_certificate(CertificateArn=server_arn)
    assert server["Certificate"].strip() == (pki_dir / "server.crt").read_text().strip()
    ca_pem = (pki_dir / "ca.crt").read_text().strip()
    assert server["CertificateChain"].startswith(ca_pem), (
        "our CA must head the chain (moto, like ACM, adds its own)"
    )
    root = acm.get_certificate(CertificateArn=root_arn)
    assert root["CertificateChain"].startswith(ca_pem)
    assert root["Certificate"].strip() == (pki_dir / "clients/acm-root-chain.crt").read_text().strip()
    assert "TLS Web Client Authentication" in x509_text(pki_dir / "clients/acm-root-chain.crt")

    state_file = pki_dir / "acm.json"
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    assert json.loads(state_file.read_text()) == {
        "root": {"arn": root_arn, "region": "eu-west-1"},
        "server": {"arn": server_arn, "region": "eu-west-1"},
    }
    again = ok("acm-import-server", "--pki-dir", str(pki_dir), "--region", "eu-west-1", env=AWS_EXAMPLE_ENV)
    assert again.strip() == server_arn, "a re-import keeps the ARN the Terraform variables name"
    assert len(acm.list_certificates()["CertificateSummaryList"]) == 2

    tfvars = hcl2.loads(ok("print-acm-arns", "--pki-dir", str(pki_dir)))
    assert tfvars["client_vpn_server_certificate_arn"] == f'"{server_arn}"'
    options = tfvars["client_vpn_authentication_options"]
    assert [{key: value.strip('"') for key, value in option.items()} for option in options] == [
        {"type": "certificate-authentication", "root_certificate_chain_arn": root_arn}
    ]
    flags = ok("print-acm-arns", "--pki-dir", str(pki_dir), "--format", "var-flags")
    assert flags == (
        f"-var 'client_vpn_server_certificate_arn={server_arn}' -var 'client_vpn_authentication_options="
        f'[{{type="certificate-authentication",root_certificate_chain_arn="{root_arn}"}}]\'\n'
    )


def test_acm_import_without_a_region_is_a_one_line_config_error(pki_dir: Path, aws: None) -> None:
    env = AWS_EXAMPLE_ENV | {"AWS_REGION": None, "AWS_DEFAULT_REGION": None}
    result = run("acm-import-server", "--pki-dir", str(pki_dir), env=env)
    assert result.exit_code == 78
    assert (
        result.stderr
        == "error: --region: no AWS region given; pass --region or set AWS_REGION (e.g. eu-west-1)\n"
    )
    result = run("acm-import-root", "--pki-dir", str(pki_dir), "--region", "Mars-1", env=env)
    assert result.exit_code == 78 and result.stderr.startswith("error: --region: 'Mars-1' is not accepted")


def test_print_acm_arns_before_any_import_names_the_missing_steps(tmp_path: Path) -> None:
    ok("init", "--pki-dir", str(tmp_path / "pki"))
    result = run("print-acm-arns", "--pki-dir", str(tmp_path / "pki"))
    assert result.exit_code == 78
    assert [line.rsplit("; ", 1)[1] for line in result.stderr.splitlines()] == [
        "run `certs acm-import-server`",
        "run `certs acm-import-root`",
    ]


def test_acm_rejection_is_a_one_line_error_without_key_material(pki_dir: Path, aws: None) -> None:
    foreign = "arn:aws:acm:eu-west-1:111122223333:certificate/00000000-0000-0000-0000-000000000000"
    (pki_dir / "acm.json").write_text(json.dumps({"server": {"arn": foreign, "region": "eu-west-1"}}))
    result = run("acm-import-server", "--pki-dir", str(pki_dir), env=AWS_EXAMPLE_ENV)
    assert result.exit_code == 78
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: ACM import (server)")


def test_the_installed_command_group_runs_certs(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "from temporal_dsql_runtime.cli import cli; cli()", "certs"]
    directory = str(tmp_path / "pki")
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    for step in (["init"], ["create-root-ca"], ["create-server"], ["create-client", "dave"], ["verify"]):
        result = subprocess.run(
            [*command, *step, "--pki-dir", directory], capture_output=True, text=True, env=env
        )
        assert result.returncode == 0, result.stderr
    result = subprocess.run(
        [*command, "acm-import-root", "--pki-dir", directory], capture_output=True, text=True, env=env
    )
    assert (
        result.returncode == 78
        and result.stderr.startswith("error: --region")
        and "Traceback" not in result.stderr
    )


def test_library_verify_returns_lines_and_rejects_bad_days(pki_dir: Path) -> None:
    assert pki.verify_pki(pki_dir)[0].startswith("root CA: ")
    with pytest.raises(ConfigError, match="--days"):
        pki.create_client_certificate(pki_dir, "erin", days=40000)
