"""Terraform outputs (`terraform output -json` of terraform/) to a .env with the runtime's setting names.

The DSQL host is the cluster's public endpoint, or one of the two ways AWS documents for its PrivateLink
connection endpoint ("Managing and connecting to Amazon Aurora DSQL clusters using AWS PrivateLink"):
- `private-dns`: `<cluster-id>.<service id>.<region>.on.aws` (the service id is the last part of the
  endpoint service name, e.g. `dsql-fnh4`), resolved by the endpoint's private DNS; the token is signed
  for that name and `verify-full` works, as on the public endpoint.
- `vpc`: the interface endpoint's own Regional DNS name, which works without private DNS (e.g. from a
  peered network); AWS then signs the token for the cluster's public endpoint (CLUSTER_ENDPOINT), names the
  cluster with the `amzn-cluster-id` connection option, and does not support `verify-full` (TLS stays on
  with host verification off).
Visibility goes to the OpenSearch domain with SigV4 and the Elasticsearch v7 API, which OpenSearch 1.x and
2.x speak.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .atomic_files import write_atomically
from .errors import ConfigError, UnavailableError, describe_os_error
from .settings import dsql_region, env_name


class Endpoint(StrEnum):
    """Which DSQL endpoint Temporal connects to."""

    PUBLIC = "public"
    VPC = "vpc"
    PRIVATE_DNS = "private-dns"


OUTPUTS_READ: dict[Endpoint, tuple[str, ...]] = {
    Endpoint.PUBLIC: ("region", "dsql_public_endpoint", "opensearch_domain_endpoint"),
    Endpoint.VPC: (
        "region",
        "dsql_public_endpoint",
        "dsql_vpc_endpoint_dns_entries",
        "opensearch_domain_endpoint",
    ),
    Endpoint.PRIVATE_DNS: (
        "region",
        "dsql_public_endpoint",
        "dsql_vpc_endpoint_service_name",
        "opensearch_domain_endpoint",
    ),
}
"""The Terraform outputs each endpoint choice needs; every one is defined in terraform/outputs.tf."""

REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
PLAIN_VALUE = re.compile(r"^[A-Za-z0-9_./:@%+,=-]*$")
TERRAFORM_TIMEOUT_SECONDS = 120


def parse_outputs(text: str, source: str) -> dict[str, Any]:
    """The `value` of every output in `terraform output -json` text."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ConfigError(f"{source}: not terraform output JSON ({error})") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{source}: not terraform output JSON (expected an object of outputs)")
    values = {}
    for name, output in document.items():
        if not isinstance(output, dict) or "value" not in output:
            raise ConfigError(
                f"{source}: output {name!r} has no 'value'; give `terraform output -json` as it is"
            )
        values[name] = output["value"]
    return values


def read_outputs_file(path: Path) -> str:
    """The text of a saved `terraform output -json`."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = describe_os_error(error) if isinstance(error, OSError) else "not UTF-8 text"
        raise ConfigError(f"--file: cannot read {path}: {reason}") from None


def run_terraform_output(terraform_dir: Path, terraform: str = "terraform") -> str:
    """Run `terraform output -json` in a directory and return what it prints."""
    if not terraform_dir.is_dir():
        raise ConfigError(f"--terraform-dir: {terraform_dir} is not a directory")
    try:
        completed = subprocess.run(
            [terraform, f"-chdir={terraform_dir}", "output", "-json", "-no-color"],
            capture_output=True,
            text=True,
            timeout=TERRAFORM_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        raise UnavailableError(
            f"terraform: {terraform!r} is not on PATH; install Terraform or use --file"
        ) from None
    except subprocess.TimeoutExpired:
        raise UnavailableError(
            f"terraform: `terraform output -json` in {terraform_dir} took over {TERRAFORM_TIMEOUT_SECONDS}s"
        ) from None
    except OSError as error:
        raise UnavailableError(f"terraform: cannot run {terraform!r}: {describe_os_error(error)}") from None
    if completed.returncode != 0:
        detail = next((line.strip(" │╷╵") for line in completed.stderr.splitlines() if "Error" in line), "")
        raise UnavailableError(
            f"terraform: `terraform output -json` in {terraform_dir} failed (exit {completed.returncode})"
            + (f": {detail}" if detail else "")
        )
    return completed.stdout


def _require(outputs: Mapping[str, Any], endpoint: Endpoint) -> None:
    missing = [name for name in OUTPUTS_READ[endpoint] if outputs.get(name) in (None, "", [])]
    if missing:
        hint = "apply terraform/ (it defines this output) and pass its `terraform output -json`"
        raise ConfigError(*(f"terraform output {name}: missing; {hint}" for name in missing))


def _host(name: str, value: Any) -> str:
    if not isinstance(value, str) or not HOST_NAME.match(value):
        raise ConfigError(f"terraform output {name}: {value!r} is not a DNS host name")
    return value.lower()


def _vpc_endpoint_host(entries: Any, public_host: str) -> str:
    """The Regional DNS name of the interface endpoint (its first entry); a wildcard gets the cluster id."""
    name = "dsql_vpc_endpoint_dns_entries"
    first = entries[0] if isinstance(entries, list) and entries else None
    dns_name = first.get("dns_name") if isinstance(first, dict) else None
    if not isinstance(dns_name, str):
        raise ConfigError(f"terraform output {name}: expected a list of {{dns_name, hosted_zone_id}} objects")
    if dns_name.startswith("*."):
        dns_name = public_host.split(".", 1)[0] + dns_name[1:]
    return _host(name, dns_name)


def _opensearch_url(value: Any) -> str:
    name = "opensearch_domain_endpoint"
    if not isinstance(value, str):
        raise ConfigError(f"terraform output {name}: {value!r} is not a URL or host name")
    url = value if "://" in value else f"https://{value}"
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ConfigError(f"terraform output {name}: {value!r} is not a URL or host name") from None
    if parts.scheme != "https":
        raise ConfigError(
            f"terraform output {name}: {value!r} is not accepted; OpenSearch must be reached over https"
        )
    _host(name, parts.hostname)
    return url.rstrip("/")


def settings_from_outputs(outputs: Mapping[str, Any], endpoint: Endpoint) -> dict[str, str]:
    """The runtime settings (variable name -> value) for a DSQL + OpenSearch stack built by terraform/."""
    _require(outputs, endpoint)
    region = outputs["region"]
    if not isinstance(region, str) or not REGION.match(region):
        raise ConfigError(f"terraform output region: {region!r} is not an AWS region code")
    public_host = _host("dsql_public_endpoint", outputs["dsql_public_endpoint"])
    if dsql_region(public_host) != region:
        raise ConfigError(
            f"terraform output dsql_public_endpoint: {public_host!r} is not <cluster-id>.dsql.{region}.on.aws"
        )
    sql = {
        "sql_plugin_name": "dsql",
        "sql_host": public_host,
        "sql_port": "5432",
        "sql_database": "postgres",
        "sql_user": "admin",
        "sql_auth_method": "plugin",
        "sql_region": region,
        "sql_tls_enabled": "true",
    }
    if endpoint is Endpoint.VPC:
        sql["sql_host"] = _vpc_endpoint_host(outputs["dsql_vpc_endpoint_dns_entries"], public_host)
        sql["sql_tls_enable_host_verification"] = "false"
    if endpoint is Endpoint.PRIVATE_DNS:
        sql["sql_host"] = _private_dns_host(outputs["dsql_vpc_endpoint_service_name"], public_host, region)
    visibility = {
        "visibility_store": "opensearch",
        "opensearch_endpoint": _opensearch_url(outputs["opensearch_domain_endpoint"]),
        "opensearch_version": "v7",
        "opensearch_index": "temporal_visibility_v1",
        "opensearch_auth": "aws-sigv4",
        "opensearch_region": region,
    }
    written = {env_name(field): value for field, value in (sql | visibility).items()} | {"AWS_REGION": region}
    if endpoint is Endpoint.VPC:
        written["CLUSTER_ENDPOINT"] = public_host
    return written


def _private_dns_host(service_name: Any, public_host: str, region: str) -> str:
    """`<cluster-id>.<service id>.<region>.on.aws`, from `com.amazonaws.<region>.<service id>`."""
    name = "dsql_vpc_endpoint_service_name"
    prefix = f"com.amazonaws.{region}."
    text = service_name if isinstance(service_name, str) else ""
    service_id = text.removeprefix(prefix)
    if not text.startswith(prefix) or not re.fullmatch(r"dsql-[a-z0-9]+", service_id):
        raise ConfigError(
            f"terraform output {name}: {service_name!r} is not com.amazonaws.{region}.dsql-<id>"
        )
    return f"{public_host.split('.', 1)[0]}.{service_id}.{region}.on.aws"


def env_value(name: str, value: str) -> str:
    """A value as .env text: bare when safe, else single-quoted (no expansion); quotes, newlines refused."""
    if PLAIN_VALUE.match(value):
        return value
    if "'" in value or "\\" in value or "\n" in value or "\r" in value:
        raise ConfigError(f"{name}: {value!r} cannot be written to a .env file safely")
    return f"'{value}'"


def render_env(settings: Mapping[str, str], endpoint: Endpoint) -> str:
    """The .env text: a header naming its origin, then one NAME=value line per setting."""
    lines = [
        "# Written by `temporal-dsql-runtime tf-to-env` from the outputs of terraform/.",
        f"# DSQL endpoint: {endpoint.value}. Regenerate rather than edit.",
    ]
    lines += [f"{name}={env_value(name, value)}" for name, value in settings.items()]
    return "\n".join(lines) + "\n"


def write_env_file(path: Path, text: str) -> None:
    """Write the .env atomically with mode 0600."""
    try:
        write_atomically(path, text.encode("utf-8"), 0o600)
    except OSError as error:
        raise ConfigError(f"--output: cannot write {path}: {describe_os_error(error)}") from None
