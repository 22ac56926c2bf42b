"""AWS Client VPN certificates: a small PKI (root CA, server, clients) and its import into ACM.

Keys are RSA 2048 and signatures SHA-256, which ACM import and Client VPN mutual authentication accept.
Private keys are written 0600 and every file is replaced atomically. The CA key never leaves the PKI
directory: the "root" ACM import uploads a client-authentication certificate together with the CA
certificate as its chain, which is what Client VPN's `root_certificate_chain_arn` takes.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .atomic_files import write_atomically
from .errors import ConfigError, UnavailableError, describe_os_error

if TYPE_CHECKING:
    from mypy_boto3_acm import ACMClient

KEY_SIZE = 2048
CA_VALID_DAYS = 3650
LEAF_VALID_DAYS = 825
DEFAULT_CA_NAME = "temporal-dsql VPN root CA"
DEFAULT_SERVER_NAME = "server.temporal-dsql.vpn"
ROOT_CHAIN_CLIENT = "acm-root-chain"
"""The client certificate that carries the CA chain into ACM for `root_certificate_chain_arn`."""

MAX_COMMON_NAME_BYTES = 64
"""X.509's upper bound for a subject common name (RFC 5280 ub-common-name), in UTF-8 bytes."""
CLIENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DNS_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
DNS_NAME = re.compile(rf"^(?=.{{1,253}}$){DNS_LABEL}(?:\.{DNS_LABEL})*$")
ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+$")
USAGE_NAMES = {ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth", ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth"}
AcmTarget = Literal["server", "root"]


@dataclass(frozen=True)
class Pki:
    """Where each file of a PKI directory lives."""

    directory: Path

    @property
    def ca_cert(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca.key"

    @property
    def server_cert(self) -> Path:
        return self.directory / "server.crt"

    @property
    def server_key(self) -> Path:
        return self.directory / "server.key"

    @property
    def clients(self) -> Path:
        return self.directory / "clients"

    @property
    def acm_state(self) -> Path:
        return self.directory / "acm.json"

    def client_cert(self, name: str) -> Path:
        return self.clients / f"{name}.crt"

    def client_key(self, name: str) -> Path:
        return self.clients / f"{name}.key"


# --- files -------------------------------------------------------------------------------------------


def _refuse_existing(paths: Iterable[Path], force: bool) -> None:
    for path in paths:
        if path.exists() and not force:
            raise ConfigError(f"--force: {path} already exists; pass --force to replace it")


def _write(path: Path, data: bytes, mode: int) -> None:
    try:
        write_atomically(path, data, mode)
    except OSError as error:
        raise ConfigError(f"--pki-dir: cannot write {path}: {describe_os_error(error)}") from None


def _read(path: Path, what: str, hint: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{what}: {path} does not exist; {hint}") from None
    except OSError as error:
        raise ConfigError(f"{what}: cannot read {path}: {describe_os_error(error)}") from None


def _certificate(path: Path, what: str, hint: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(_read(path, what, hint))
    except ValueError:
        raise ConfigError(f"{what}: {path} is not a PEM certificate; {hint}") from None


def open_pki(directory: Path) -> Pki:
    """A PKI directory made by `init_pki`; a missing one is a one-line error."""
    if not directory.is_dir():
        raise ConfigError(f"--pki-dir: {directory} is not a PKI directory; run `certs init` first")
    return Pki(directory)


def init_pki(directory: Path) -> Pki:
    """Create the PKI directory (0700) and its clients/ folder; an existing one is kept as it is."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        (directory / "clients").mkdir(mode=0o700, exist_ok=True)
    except FileExistsError:
        raise ConfigError(f"--pki-dir: {directory} exists and is not a directory") from None
    except OSError as error:
        raise ConfigError(f"--pki-dir: cannot create {directory}: {describe_os_error(error)}") from None
    return Pki(directory)


# --- certificates ------------------------------------------------------------------------------------


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _cert_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _load_ca(pki: Pki) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    hint = "run `certs create-root-ca` first"
    certificate = _certificate(pki.ca_cert, "root CA", hint)
    try:
        key = serialization.load_pem_private_key(_read(pki.ca_key, "root CA key", hint), password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"root CA key: {pki.ca_key} is not an unencrypted PEM RSA key; {hint}")
    return certificate, key


def _validate_days(days: int) -> None:
    if not 1 <= days <= 36500:
        raise ConfigError(f"--days: {days} is not accepted; give a whole number of days from 1 to 36500")


def _validate_common_name_length(common_name: str, hint: str = "") -> None:
    size = len(common_name.encode())
    if size > MAX_COMMON_NAME_BYTES:
        raise ConfigError(
            f"--common-name: {size} bytes is too long; "
            f"a certificate's common name holds at most {MAX_COMMON_NAME_BYTES} (UTF-8){hint}"
        )


def create_root_ca(
    directory: Path, common_name: str = DEFAULT_CA_NAME, days: int = CA_VALID_DAYS, force: bool = False
) -> Path:
    """Create the self-signed root CA (CA:TRUE, pathlen 0, keyCertSign + cRLSign); returns its certificate."""
    pki = open_pki(directory)
    _validate_days(days)
    if not common_name.strip():
        raise ConfigError("--common-name: must not be empty")
    _validate_common_name_length(common_name)
    _refuse_existing((pki.ca_key, pki.ca_cert), force)
    key = _new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = _now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(pki.ca_key, _key_pem(key), 0o600)
    _write(pki.ca_cert, _cert_pem(certificate), 0o644)
    return pki.ca_cert


def _key_usage(
    digital_signature: bool = False,
    key_encipherment: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _issue_leaf(
    pki: Pki,
    common_name: str,
    dns_names: Iterable[str],
    usage: x509.ObjectIdentifier,
    days: int,
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    _validate_days(days)
    ca_certificate, ca_key = _load_ca(pki)
    key = _new_key()
    now = _now()
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(min(now + datetime.timedelta(days=days), ca_certificate.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            _key_usage(digital_signature=True, key_encipherment=usage == ExtendedKeyUsageOID.SERVER_AUTH),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    names = list(dns_names)
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name) for name in names]), critical=False
        )
    return builder.sign(ca_key, hashes.SHA256()), key


def create_server_certificate(
    directory: Path,
    common_name: str = DEFAULT_SERVER_NAME,
    extra_dns_names: Iterable[str] = (),
    days: int = LEAF_VALID_DAYS,
    force: bool = False,
) -> Path:
    """Issue the Client VPN server certificate (serverAuth; digitalSignature + keyEncipherment)."""
    pki = open_pki(directory)
    names = [common_name, *[name for name in extra_dns_names if name != common_name]]
    for name in names:
        if not DNS_NAME.match(name):
            raise ConfigError(f"--common-name/--dns-name: {name!r} is not accepted; give a DNS name")
    _validate_common_name_length(common_name, "; put a longer name in --dns-name")
    _refuse_existing((pki.server_key, pki.server_cert), force)
    certificate, key = _issue_leaf(pki, common_name, names, ExtendedKeyUsageOID.SERVER_AUTH, days)
    _write(pki.server_key, _key_pem(key), 0o600)
    _write(pki.server_cert, _cert_pem(certificate), 0o644)
    return pki.server_cert


def validate_client_name(name: str) -> str:
    """A client name becomes a file name and a CN: letters, digits, `.`, `_`, `-`, at most 64."""
    if not CLIENT_NAME.match(name):
        raise ConfigError(
            f"NAME: {name!r} is not accepted; use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def create_client_certificate(
    directory: Path, name: str, days: int = LEAF_VALID_DAYS, force: bool = False
) -> Path:
    """Issue a client certificate (clientAuth; digitalSignature) with CN = name."""
    pki = open_pki(directory)
    validate_client_name(name)
    _refuse_existing((pki.client_key(name), pki.client_cert(name)), force)
    certificate, key = _issue_leaf(pki, name, (), ExtendedKeyUsageOID.CLIENT_AUTH, days)
    try:
        pki.clients.mkdir(mode=0o700, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"--pki-dir: cannot create {pki.clients}: {describe_os_error(error)}") from None
    _write(pki.client_key(name), _key_pem(key), 0o600)
    _write(pki.client_cert(name), _cert_pem(certificate), 0o644)
    return pki.client_cert(name)


# --- verification ------------------------------------------------------------------------------------


def _certificate_problems(
    label: str,
    certificate: x509.Certificate,
    key_pem: bytes,
    issuer: x509.Certificate,
    usage: x509.ObjectIdentifier | None,
    now: datetime.datetime,
) -> list[str]:
    problems = []
    try:
        certificate.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        problems.append(f"{label}: not signed by the root CA in this PKI directory")
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        problems.append(
            f"{label}: not valid now (valid {certificate.not_valid_before_utc:%Y-%m-%d} "
            f"to {certificate.not_valid_after_utc:%Y-%m-%d})"
        )
    if usage is not None:
        try:
            usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            usages = x509.ExtendedKeyUsage([])
        if usage not in usages:
            problems.append(f"{label}: extended key usage lacks {USAGE_NAMES[usage]}")
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        problems.append(f"{label}: its key file is not an unencrypted PEM private key")
    else:
        if _public_key_der(key.public_key()) != _public_key_der(certificate.public_key()):
            problems.append(f"{label}: its key file does not match the certificate")
    return problems


def _public_key_der(public_key: PublicKeyTypes) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def verify_pki(directory: Path) -> list[str]:
    """Check the CA, the server and every client certificate; returns one line per good certificate."""
    pki = open_pki(directory)
    now = _now()
    ca = _certificate(pki.ca_cert, "root CA", "run `certs create-root-ca` first")
    ca_key_pem = _read(pki.ca_key, "root CA key", "recreate the CA with `certs create-root-ca --force`")
    problems = _certificate_problems("root CA", ca, ca_key_pem, ca, None, now)
    try:
        constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
        ca_usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
        if not constraints.ca or not ca_usage.key_cert_sign:
            problems.append("root CA: lacks CA:TRUE or keyCertSign")
    except x509.ExtensionNotFound:
        problems.append("root CA: lacks basicConstraints or keyUsage")
    good = [] if problems else [f"root CA: {ca.subject.rfc4514_string()}"]

    server, client = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH
    leaves = [("server", pki.server_cert, pki.server_key, server)] if pki.server_cert.exists() else []
    if not leaves:
        problems.append(f"server: {pki.server_cert} does not exist; run `certs create-server`")
    client_certs = sorted(pki.clients.glob("*.crt")) if pki.clients.is_dir() else []
    leaves += [(f"client {path.stem}", path, pki.client_key(path.stem), client) for path in client_certs]
    for label, cert_path, key_path, usage in leaves:
        certificate = _certificate(cert_path, label, "recreate it with --force")
        key_pem = _read(key_path, f"{label} key", "recreate the certificate with --force")
        found = _certificate_problems(label, certificate, key_pem, ca, usage, now)
        problems.extend(found)
        if not found:
            good.append(f"{label}: {certificate.subject.rfc4514_string()}")
    if problems:
        raise ConfigError(*problems)
    return good


# --- ACM ---------------------------------------------------------------------------------------------


def resolve_region(region: str | None, environment: Mapping[str, str]) -> str:
    """The region option, else AWS_REGION, else AWS_DEFAULT_REGION; none is a configuration error."""
    chosen = region or environment.get("AWS_REGION") or environment.get("AWS_DEFAULT_REGION")
    if not chosen:
        raise ConfigError("--region: no AWS region given; pass --region or set AWS_REGION (e.g. eu-west-1)")
    if not re.match(r"^[a-z]{2}(-[a-z]+)+-\d+$", chosen):
        raise ConfigError(f"--region: {chosen!r} is not accepted; give an AWS region code such as eu-west-1")
    return chosen


def read_acm_state(directory: Path) -> dict[str, dict[str, str]]:
    """ARNs recorded by earlier imports: {"server"|"root": {"arn": ..., "region": ...}}."""
    path = Pki(directory).acm_state
    if not path.exists():
        return {}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ConfigError(f"--pki-dir: {path} is not readable JSON; delete it and import again") from None
    if not isinstance(state, dict):
        raise ConfigError(f"--pki-dir: {path} is not an ACM state object; delete it and import again")
    return {key: value for key, value in state.items() if isinstance(value, dict)}


def _acm_client(region: str) -> ACMClient:
    import boto3

    return boto3.client("acm", region_name=region)


def import_to_acm(
    directory: Path,
    target: AcmTarget,
    region: str | None,
    environment: Mapping[str, str],
) -> str:
    """Import the server certificate, or the CA chain (through the root-chain client certificate), into ACM.

    A certificate imported before into the same region is re-imported under the same ARN, so the Terraform
    variables stay valid. The ARN is recorded in acm.json in the PKI directory and returned.
    """
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    pki = open_pki(directory)
    chosen_region = resolve_region(region, environment)
    ca_pem = _read(pki.ca_cert, "root CA", "run `certs create-root-ca` first")
    if target == "server":
        hint = "run `certs create-server` first"
        cert_pem = _read(pki.server_cert, "server certificate", hint)
        key_pem = _read(pki.server_key, "server key", hint)
    else:
        if not pki.client_cert(ROOT_CHAIN_CLIENT).exists():
            create_client_certificate(directory, ROOT_CHAIN_CLIENT)
        hint = f"run `certs create-client {ROOT_CHAIN_CLIENT}` first"
        cert_pem = _read(pki.client_cert(ROOT_CHAIN_CLIENT), "root chain certificate", hint)
        key_pem = _read(pki.client_key(ROOT_CHAIN_CLIENT), "root chain key", hint)

    state = read_acm_state(directory)
    previous = state.get(target, {})
    reuse_arn = previous.get("arn") if previous.get("region") == chosen_region else None
    try:
        client = _acm_client(chosen_region)
        if reuse_arn:
            response = client.import_certificate(
                CertificateArn=reuse_arn, Certificate=cert_pem, PrivateKey=key_pem, CertificateChain=ca_pem
            )
        else:
            response = client.import_certificate(
                Certificate=cert_pem, PrivateKey=key_pem, CertificateChain=ca_pem
            )
    except NoCredentialsError:
        raise ConfigError("AWS credentials: none found; configure a profile or AWS_ACCESS_KEY_ID") from None
    except NoRegionError:
        raise ConfigError("--region: no AWS region given; pass --region or set AWS_REGION") from None
    except ClientError as error:
        details = error.response.get("Error", {})
        code = details.get("Code", "error")
        message = str(details.get("Message", "")).splitlines()[0] if details.get("Message") else ""
        raise ConfigError(f"ACM import ({target}) in {chosen_region}: {code}: {message}") from None
    except BotoCoreError as error:
        raise UnavailableError(f"ACM in {chosen_region}: {type(error).__name__}: {error}") from None

    arn = response["CertificateArn"]
    state[target] = {"arn": arn, "region": chosen_region}
    try:
        write_atomically(pki.acm_state, (json.dumps(state, indent=2, sort_keys=True) + "\n").encode(), 0o600)
    except OSError as error:
        raise ConfigError(f"--pki-dir: cannot write {pki.acm_state}: {describe_os_error(error)}") from None
    return arn


def _recorded_arns(directory: Path) -> tuple[str, str]:
    state = read_acm_state(directory)
    recorded_in = Pki(directory).acm_state
    missing = [
        f"{target} certificate: no ACM ARN recorded in {recorded_in}; run `certs acm-import-{target}`"
        for target in ("server", "root")
        if not ACM_ARN.match(str(state.get(target, {}).get("arn", "")))
    ]
    if missing:
        raise ConfigError(*missing)
    return state["server"]["arn"], state["root"]["arn"]


def terraform_variables(directory: Path, style: Literal["tfvars", "var-flags"] = "tfvars") -> str:
    """The recorded ARNs as the Terraform variables of terraform/: tfvars lines or `-var` flags."""
    server_arn, root_arn = _recorded_arns(directory)
    if style == "tfvars":
        return (
            f'client_vpn_server_certificate_arn = "{server_arn}"\n'
            "client_vpn_authentication_options = [\n"
            "  {\n"
            '    type                       = "certificate-authentication"\n'
            f'    root_certificate_chain_arn = "{root_arn}"\n'
            "  },\n"
            "]\n"
        )
    options = f'[{{type="certificate-authentication",root_certificate_chain_arn="{root_arn}"}}]'
    return (
        f"-var 'client_vpn_server_certificate_arn={server_arn}' "
        f"-var 'client_vpn_authentication_options={options}'\n"
    )
