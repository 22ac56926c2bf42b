"""The Terraform module in terraform/: formatting, structure, the outputs tf-to-env reads, and checkov."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import hcl2
import pytest

from support.terraform import (
    REPO,
    RUNTIME_SETTINGS_MODULE,
    TERRAFORM_DIR,
    blocks,
    resources,
    terraform,
    unquote,
)
from temporal_dsql_runtime.tf_to_env import OUTPUTS_READ

MODULE_FILES = (
    "versions.tf",
    "variables.tf",
    "network.tf",
    "dsql.tf",
    "opensearch.tf",
    "vpn.tf",
    "ecs.tf",
    "ecs_iam.tf",
    "ecs_network.tf",
    "ecs_autoscaling.tf",
    "outputs.tf",
    "modules/runtime_settings/main.tf",
)
ECS_FIXTURE = Path(__file__).parent / "fixtures" / "terraform" / "ecs.tfvars"
TEMPORAL_PORTS = {"7233", "7234", "7235", "7239", "6933", "6934", "6935", "6939"}


def test_terraform_fmt_check_passes() -> None:
    result = subprocess.run(
        [terraform(), "fmt", "-check", "-recursive", "-diff", str(TERRAFORM_DIR)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}"


def test_module_is_laid_out_by_concern_and_every_file_parses() -> None:
    for name in MODULE_FILES:
        assert (TERRAFORM_DIR / name).is_file(), f"terraform/{name} is missing"
    assert (TERRAFORM_DIR / "README.md").is_file()
    for path in TERRAFORM_DIR.rglob("*.tf"):
        assert isinstance(hcl2.loads(path.read_text()), dict), path


@pytest.mark.parametrize("module", [TERRAFORM_DIR, RUNTIME_SETTINGS_MODULE], ids=["root", "runtime_settings"])
def test_every_variable_has_a_type_and_a_description(module: Path) -> None:
    variables = blocks("variable", module)
    assert len(variables) >= (20 if module == TERRAFORM_DIR else 8)
    for name, body in variables.items():
        assert "type" in body, f"variable {name} has no type"
        assert unquote(body.get("description", "")).strip(), f"variable {name} has no description"
        for validation in body.get("validation", []):
            assert unquote(validation["error_message"]).startswith(name), (
                f"variable {name}: a validation message should name the variable"
            )


def test_variables_where_a_wrong_value_is_possible_are_validated() -> None:
    variables = blocks("variable")
    free_form = {
        "tags",
        "dsql_deletion_protection",
        "dsql_vpc_endpoint_private_dns_enabled",
        "ecs_start_services",
    }
    for name, body in variables.items():
        if name not in free_form:
            assert body.get("validation"), f"variable {name} has no validation block"
    cidr_variables = (
        "vpc_cidr",
        "private_subnet_cidrs",
        "client_vpn_cidr",
        "temporal_task_cidrs",
        "frontend_client_cidrs",
    )
    for name in cidr_variables:
        conditions = " ".join(str(v["condition"]) for v in variables[name]["validation"])
        assert "cidrhost" in conditions, f"{name} must be checked as a CIDR block"
    assert "var.vpc_cidr" in str(variables["private_subnet_cidrs"]["validation"]), (
        "subnets must lie in the VPC"
    )


@pytest.mark.parametrize("module", [TERRAFORM_DIR, RUNTIME_SETTINGS_MODULE], ids=["root", "runtime_settings"])
def test_every_output_has_a_description(module: Path) -> None:
    outputs = blocks("output", module)
    for name, body in outputs.items():
        assert unquote(body.get("description", "")).strip(), f"output {name} has no description"


def test_outputs_read_by_tf_to_env_exist() -> None:
    outputs = set(blocks("output"))
    read = {name for names in OUTPUTS_READ.values() for name in names}
    assert read <= outputs, f"tf-to-env reads outputs that outputs.tf lacks: {sorted(read - outputs)}"
    seed_outputs = {
        "dsql_cluster_identifier",
        "dsql_public_endpoint",
        "dsql_vpc_endpoint_dns_entries",
        "opensearch_domain_endpoint",
        "client_vpn_endpoint_id",
        "vpc_id",
        "client_vpn_security_group_id",
        "dsql_endpoint_security_group_id",
        "opensearch_security_group_id",
        "region",
    }
    assert seed_outputs <= outputs, sorted(seed_outputs - outputs)


def test_opensearch_domain_is_encrypted_private_and_logged() -> None:
    domain = resources()["aws_opensearch_domain.this"]
    assert domain["encrypt_at_rest"][0]["enabled"] is True
    assert domain["node_to_node_encryption"][0]["enabled"] is True
    endpoint_options = domain["domain_endpoint_options"][0]
    assert endpoint_options["enforce_https"] is True
    assert unquote(endpoint_options["tls_security_policy"]).startswith("Policy-Min-TLS-1-2")
    assert domain["advanced_security_options"][0]["enabled"] is True
    assert domain["vpc_options"], "the domain must live in the VPC"
    log_types = {unquote(option["log_type"]) for option in domain["log_publishing_options"]}
    assert log_types == {"ES_APPLICATION_LOGS", "INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS", "AUDIT_LOGS"}
    assert "aws_cloudwatch_log_resource_policy.opensearch" in resources()


def test_client_vpn_uses_certificates_split_tunnel_and_connection_logs() -> None:
    vpn = resources()["aws_ec2_client_vpn_endpoint.this"]
    assert vpn["split_tunnel"] is True
    assert vpn["connection_log_options"][0]["enabled"] is True
    assert "var.client_vpn_server_certificate_arn" in str(vpn["server_certificate_arn"])
    assert "aws_ec2_client_vpn_network_association.private" in resources()
    assert "aws_ec2_client_vpn_authorization_rule.vpc" in resources()


def test_security_groups_open_single_known_ports_and_never_to_the_internet() -> None:
    all_resources = resources()
    for name, body in all_resources.items():
        if name.startswith(("aws_vpc_security_group_ingress_rule.", "aws_vpc_security_group_egress_rule.")):
            assert body["from_port"] == body["to_port"], f"{name} opens a port range"
            assert unquote(body["ip_protocol"]) == "tcp", name
    assert "0.0.0.0/0" not in str(all_resources)
    text = "\n".join(path.read_text() for path in TERRAFORM_DIR.glob("*.tf"))
    literal_ports = set(re.findall(r"(?:port|grpc|membership)\s*=\s*(\d+)", text))
    assert literal_ports == {"5432", "443"} | TEMPORAL_PORTS, sorted(literal_ports)
    assert not any(
        name.startswith("aws_security_group.") and ("ingress" in body or "egress" in body)
        for name, body in all_resources.items()
    ), "rules belong in aws_vpc_security_group_*_rule resources"


def test_availability_zones_are_named_not_whatever_the_region_lists() -> None:
    zones = [
        body
        for document in (hcl2.loads(path.read_text()) for path in TERRAFORM_DIR.glob("*.tf"))
        for block in document.get("data", [])
        for kind, named in block.items()
        if unquote(kind) == "aws_availability_zones"
        for body in named.values()
    ]
    assert len(zones) == 1
    filters = {unquote(f["name"]): f["values"] for f in zones[0]["filter"]}
    assert filters["zone-name"] == "${local.availability_zone_names}"
    subnet = resources()["aws_subnet.private"]
    assert subnet["availability_zone"] == "${local.availability_zone_names[count.index]}"
    assert "availability_zone_names" in str(subnet["lifecycle"][0]["precondition"])


def test_dsql_cluster_has_an_interface_endpoint_and_deletion_protection_variable() -> None:
    all_resources = resources()
    cluster = all_resources["aws_dsql_cluster.this"]
    assert cluster["deletion_protection_enabled"] == "${var.dsql_deletion_protection}"
    endpoint = all_resources["aws_vpc_endpoint.dsql"]
    assert unquote(endpoint["vpc_endpoint_type"]) == "Interface"
    assert endpoint["service_name"] == "${aws_dsql_cluster.this.vpc_endpoint_service_name}"


def _checkov_command(requirements: Path) -> list[str]:
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail(
            "uv is not on PATH; it runs checkov (dependency group `infra`) in an isolated environment"
        )
    export = subprocess.run(
        [
            uv,
            "export",
            "--only-group",
            "infra",
            "--no-hashes",
            "--frozen",
            "--no-emit-project",
            "-o",
            str(requirements),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert export.returncode == 0, export.stderr
    # Isolated: checkov's bc-python-hcl2 and the dev group's python-hcl2 both install a package named `hcl2`.
    return [uv, "run", "--isolated", "--no-project", "--with-requirements", str(requirements), "checkov"]


def test_checkov_reports_no_failed_check_and_every_skip_has_a_reason(tmp_path: Path) -> None:
    command = _checkov_command(tmp_path / "checkov-requirements.txt")
    result = subprocess.run(
        [
            *command,
            *("-d", str(TERRAFORM_DIR), "--framework", "terraform", "--skip-download", "-o", "json"),
            # The ECS part exists only with a container image; the fixture sets one so checkov sees it.
            *("--var-file", str(ECS_FIXTURE)),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=540,
    )
    report = json.loads(result.stdout)
    summary = report["summary"]
    failed = [f"{c['check_id']} {c['resource']}" for c in report["results"]["failed_checks"]]
    print(f"checkov: passed {summary['passed']}, failed {summary['failed']}, skipped {summary['skipped']}")
    assert summary["parsing_errors"] == 0
    assert failed == [] and summary["failed"] == 0, failed
    assert result.returncode == 0, result.stderr[-2000:]
    assert summary["passed"] >= 200 and summary["resource_count"] >= 50, summary
    checked = {c["resource"].split("[")[0] for c in report["results"]["passed_checks"]}
    ecs = {
        "aws_ecs_cluster.this",
        "aws_ecs_task_definition.role",
        "aws_ecs_task_definition.schema_setup",
        "aws_ecs_service.autoscaled",
        "aws_ecs_service.fixed",
        "aws_iam_policy_document.ecs_task",
        "aws_iam_policy_document.ecs_execution",
        "aws_security_group.ecs_tasks",
        "aws_cloudwatch_log_group.ecs",
    }
    assert ecs <= checked, f"checkov did not check {sorted(ecs - checked)}"

    skipped = report["results"]["skipped_checks"]
    for check in skipped:
        reason = check["check_result"].get("suppress_comment", "")
        assert len(reason) >= 30, (
            f"{check['check_id']} on {check['resource']} is skipped without a real reason"
        )
    written = {
        match
        for path in TERRAFORM_DIR.rglob("*.tf")
        for match in re.findall(r"#checkov:skip=(CKV2?_AWS_\d+):", path.read_text())
    }
    assert written == {check["check_id"] for check in skipped}, (
        "every inline skip must suppress a real finding"
    )
