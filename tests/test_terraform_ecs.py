"""Temporal on ECS Fargate (terraform/ecs*.tf, modules/runtime_settings): what each task gets and may do.

The environment comes from modules/runtime_settings, which needs no provider: the tests apply it with real
Terraform and compare what it writes with the runtime's own commands (`variables`, `tf-to-env`,
`temporal-dsql-render --check`). The rest is read with python-hcl2 (the AWS provider cannot be downloaded
here, so the root module is never planned).
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from support.terraform import (
    REPO,
    TERRAFORM_DIR,
    RuntimeSettingsModule,
    blocks,
    local_values,
    resources,
    typed_blocks,
    unquote,
)
from temporal_dsql_runtime.tf_to_env import OUTPUTS_READ, Endpoint, settings_from_outputs

ROLES = ("frontend", "history", "matching", "worker")
OUTPUTS_FIXTURE = Path(__file__).parent / "fixtures" / "terraform" / "outputs.json"
BIN = Path(sys.executable).parent
AWS_SDK_VARIABLES = {"AWS_REGION"}
"""Read by botocore and the fork's plugin; tf-to-env writes it beside the runtime's settings."""


@functools.cache
def runtime_variables() -> dict[str, dict[str, str]]:
    """Every variable the runtime reads, from `temporal-dsql-runtime variables --format json`."""
    listed = subprocess.run(
        [str(BIN / "temporal-dsql-runtime"), "variables", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": str(BIN)},
    )
    return {entry["name"]: entry for entry in json.loads(listed.stdout)}


def fixture_outputs() -> dict[str, Any]:
    """The values of the `terraform output -json` fixture the tf-to-env tests use."""
    return {name: output["value"] for name, output in json.loads(OUTPUTS_FIXTURE.read_text()).items()}


def module_inputs(**overrides: Any) -> dict[str, Any]:
    """Inputs as the root module passes them: its outputs for tf-to-env, and the cluster's shape."""
    outputs = fixture_outputs()
    # The module takes exactly the outputs `tf-to-env --endpoint vpc` reads.
    inputs: dict[str, Any] = {name: outputs[name] for name in OUTPUTS_READ[Endpoint.VPC]}
    inputs |= {
        "history_shards": 512,
        "runtime_dir": "/run/temporal-dsql-runtime",
        "dsql_cluster_connection_limit": 10000,
        "services": {role: {"max_tasks": 2, "sql_max_conns": 20} for role in ROLES},
    }
    return inputs | overrides


@pytest.fixture(scope="module")
def settings_module(tmp_path_factory: pytest.TempPathFactory) -> RuntimeSettingsModule:
    return RuntimeSettingsModule(tmp_path_factory.mktemp("terraform"))


@pytest.fixture(scope="module")
def environment(settings_module: RuntimeSettingsModule) -> dict[str, dict[str, str]]:
    """Per role, the environment its task definition gets."""
    environment: dict[str, dict[str, str]] = settings_module.outputs(module_inputs())["environment"]
    return environment


# --- Environment -------------------------------------------------------------------------------------------


def test_every_task_variable_is_a_setting_the_runtime_knows(environment: dict[str, dict[str, str]]) -> None:
    known = set(runtime_variables()) | AWS_SDK_VARIABLES
    assert set(environment) == set(ROLES)
    for role, variables in environment.items():
        unknown = set(variables) - known
        assert not unknown, f"{role}: not settings of the runtime: {sorted(unknown)}"


def test_secrets_can_only_be_the_runtime_secret_settings() -> None:
    condition = blocks("variable")["ecs_task_secret_arns"]["validation"][0]["condition"]
    names = set(
        re.findall(r"contains\(\[([^\]]*)\], name\)", condition)[0]
        .replace('"', "")
        .replace(" ", "")
        .split(",")
    )
    # The runtime's secrets are the settings that also take a _FILE form.
    secret = {name for name in runtime_variables() if f"{name}_FILE" in runtime_variables()}
    assert names and names <= secret, (names, secret)
    assert local_values()["container_base"]["secrets"] == (
        "${[for name in sort(keys(var.ecs_task_secret_arns)) : "
        "{name = name, valueFrom = var.ecs_task_secret_arns[name]}]}"
    )


def test_each_role_runs_itself_only(environment: dict[str, dict[str, str]]) -> None:
    for role, variables in environment.items():
        assert variables["TEMPORAL_SERVICES"] == role
    others = [
        {k: v for k, v in variables.items() if k != "TEMPORAL_SERVICES"} for variables in environment.values()
    ]
    assert all(other == others[0] for other in others), "roles differ only in TEMPORAL_SERVICES"


def test_settings_from_terraform_outputs_are_what_tf_to_env_writes(
    environment: dict[str, dict[str, str]],
) -> None:
    written = settings_from_outputs(fixture_outputs(), Endpoint.VPC)
    for role, variables in environment.items():
        assert {name: variables.get(name) for name in written} == written, role


def test_the_module_spells_each_tf_to_env_name_once() -> None:
    text = (TERRAFORM_DIR / "modules" / "runtime_settings" / "main.tf").read_text()
    for name in settings_from_outputs(fixture_outputs(), Endpoint.VPC):
        assert len(re.findall(rf"\b{name}\s*=", text)) == 1, name
    # The root module sets no variable of its own: the task definitions take the module's environment.
    for path in TERRAFORM_DIR.glob("*.tf"):
        assert not re.search(r"\bTEMPORAL_[A-Z_]+\s*=", path.read_text()), f"{path.name} spells a setting"


def test_the_environment_is_valid_for_the_runtime(environment: dict[str, dict[str, str]]) -> None:
    for role, variables in environment.items():
        checked = subprocess.run(
            [str(BIN / "temporal-dsql-render"), "--check"],
            capture_output=True,
            text=True,
            check=False,
            env={"PATH": str(BIN), **variables},
        )
        assert checked.returncode == 0, f"{role}: {checked.stderr}"


def test_task_definitions_take_their_environment_from_the_module_and_their_ports_from_the_runtime() -> None:
    definitions = str(local_values()["container_definitions"])
    assert definitions.startswith("${{for role in local.roles : role => merge(local.container_base, {")
    assert "environment = [for name in sort(keys(module.runtime_settings.environment[role]))" in definitions
    defaults = runtime_variables()
    for role, ports in local_values()["role_ports"].items():
        assert str(ports["grpc"]) == defaults[f"TEMPORAL_{role.upper()}_GRPC_PORT"]["default"]
        assert str(ports["membership"]) == defaults[f"TEMPORAL_{role.upper()}_MEMBERSHIP_PORT"]["default"]


# --- Read-only root filesystem, writable runtime directory ----------------------------------------------------


def test_runtime_directory_is_a_writable_task_volume_and_the_root_filesystem_is_read_only(
    environment: dict[str, dict[str, str]],
) -> None:
    base = local_values()["container_base"]
    assert base["readonlyRootFilesystem"] is True
    assert "privileged" not in base, "Fargate has no privileged mode; the key is left out"
    assert unquote(base["user"]) == "1000:1000"
    (mount,) = base["mountPoints"]
    assert mount == {"sourceVolume": '"runtime"', "containerPath": "${local.runtime_dir}", "readOnly": False}
    runtime_dir = unquote(local_values()["runtime_dir"])
    for variables in environment.values():
        assert variables["TEMPORAL_RUNTIME_DIR"] == runtime_dir
    # The image's own runtime directory, so the volume is mounted where the launcher writes.
    assert f"TEMPORAL_RUNTIME_DIR={runtime_dir}" in (REPO / "docker" / "Dockerfile").read_text()
    assert blocks("module")["runtime_settings"]["runtime_dir"] == "${local.runtime_dir}"

    definitions = {
        name: body for name, body in resources().items() if name.startswith("aws_ecs_task_definition.")
    }
    assert set(definitions) == {"aws_ecs_task_definition.role", "aws_ecs_task_definition.schema_setup"}
    for name, definition in definitions.items():
        # A volume with only a name is a bind mount on the task's ephemeral storage (no host path, no EFS).
        assert [
            {k: v for k, v in volume.items() if k != "__is_block__"} for volume in definition["volume"]
        ] == [{"name": '"runtime"'}], name
        assert "local.container_" in definition["container_definitions"], name
        assert unquote(definition["network_mode"]) == "awsvpc"
        assert definition["requires_compatibilities"] == ['"FARGATE"']
        assert definition["runtime_platform"][0]["cpu_architecture"] == "${var.ecs_cpu_architecture}"


def test_schema_task_runs_schema_setup_with_the_same_image_and_role() -> None:
    schema = resources()["aws_ecs_task_definition.schema_setup"]
    roles = resources()["aws_ecs_task_definition.role"]
    definition = schema["container_definitions"]
    assert 'entryPoint = ["temporal-dsql-runtime"]' in definition
    assert 'command = ["schema", "setup"]' in definition
    assert "module.runtime_settings.schema_environment" in definition
    assert schema["task_role_arn"] == roles["task_role_arn"] == "${aws_iam_role.ecs_task[0].arn}"
    assert schema["execution_role_arn"] == roles["execution_role_arn"]


# --- IAM ----------------------------------------------------------------------------------------------------


def statements(document: str) -> dict[str, dict[str, Any]]:
    body = typed_blocks("data")[f"aws_iam_policy_document.{document}"]
    return {unquote(statement["sid"]): statement for statement in body["statement"]}


def test_task_role_may_connect_to_this_cluster_and_call_this_domain_only() -> None:
    task = statements("ecs_task")
    assert set(task) == {"DsqlConnectAsAdmin", "OpenSearchVisibility"}
    dsql = task["DsqlConnectAsAdmin"]
    assert [unquote(action) for action in dsql["actions"]] == ["dsql:DbConnectAdmin"]
    assert dsql["resources"] == ["${aws_dsql_cluster.this.arn}"]
    opensearch = task["OpenSearchVisibility"]
    assert [unquote(action) for action in opensearch["actions"]] == ["es:ESHttp*"]
    assert [unquote(resource) for resource in opensearch["resources"]] == [
        "${aws_opensearch_domain.this.arn}",
        "${aws_opensearch_domain.this.arn}/*",
    ]
    assert all("effect" not in statement and "not_resources" not in statement for statement in task.values())
    # The plugin signs DbConnectAdmin tokens as admin: the environment says so too.
    settings = settings_from_outputs(fixture_outputs(), Endpoint.VPC)
    assert (settings["TEMPORAL_SQL_AUTH_METHOD"], settings["TEMPORAL_SQL_USER"]) == ("plugin", "admin")


def test_execution_role_may_pull_this_image_write_these_logs_and_read_the_named_secrets_only() -> None:
    execution = statements("ecs_execution")
    assert set(execution) == {"EcrLogin", "PullThisImage", "WriteTaskLogs"}
    assert [unquote(a) for a in execution["EcrLogin"]["actions"]] == ["ecr:GetAuthorizationToken"]
    assert execution["PullThisImage"]["resources"] == ["${local.container_repository_arn}"]
    assert {unquote(a) for a in execution["PullThisImage"]["actions"]} == {
        "ecr:BatchCheckLayerAvailability",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchGetImage",
    }
    assert "aws_cloudwatch_log_group.ecs" in str(execution["WriteTaskLogs"]["resources"])
    body = typed_blocks("data")["aws_iam_policy_document.ecs_execution"]
    (secrets,) = body["dynamic"][0].values()
    assert unquote(secrets["content"][0]["sid"]) == "ReadNamedSecrets"
    assert [unquote(a) for a in secrets["content"][0]["actions"]] == ["secretsmanager:GetSecretValue"]
    assert "var.ecs_task_secret_arns" in secrets["for_each"]


# --- Services -----------------------------------------------------------------------------------------------


def test_services_roll_back_failed_deployments_and_only_frontend_and_matching_autoscale() -> None:
    values = local_values()
    assert "frontend" in values["autoscaled_roles"] and "matching" in values["autoscaled_roles"]
    assert "history" in values["fixed_roles"] and "worker" in values["fixed_roles"]
    all_resources = resources()
    for name in ("aws_ecs_service.autoscaled", "aws_ecs_service.fixed"):
        service = all_resources[name]
        assert service["deployment_circuit_breaker"][0]["enable"] is True, name
        assert service["deployment_circuit_breaker"][0]["rollback"] is True, name
        assert (
            service["network_configuration"][0]["assign_public_ip"]
            == "${local.service_network.assign_public_ip}"
        )
    assert values["service_network"]["assign_public_ip"] is False
    assert all_resources["aws_appautoscaling_target.ecs"]["for_each"] == "${local.autoscaled_roles}"
    policy = all_resources["aws_appautoscaling_policy.ecs_cpu"]
    assert unquote(policy["policy_type"]) == "TargetTrackingScaling"
    assert "service_registries" in str(all_resources["aws_ecs_service.autoscaled"]["dynamic"])


def test_stop_timeout_is_the_fargate_maximum_and_architecture_defaults_to_arm64() -> None:
    variables = blocks("variable")
    assert variables["ecs_stop_timeout_seconds"]["default"] == 120
    assert "<= 120" in variables["ecs_stop_timeout_seconds"]["validation"][0]["condition"]
    assert local_values()["container_base"]["stopTimeout"] == "${var.ecs_stop_timeout_seconds}"
    assert unquote(variables["ecs_cpu_architecture"]["default"]) == "ARM64"


def test_task_security_group_admits_temporal_ports_only_from_itself_and_the_frontend_from_clients() -> None:
    all_resources = resources()
    for name in ("ecs_tasks_from_each_other", "ecs_tasks_to_each_other"):
        rule = all_resources[
            f"aws_vpc_security_group_{'ingress' if 'from' in name else 'egress'}_rule.{name}"
        ]
        assert (
            rule["referenced_security_group_id"]
            == rule["security_group_id"]
            == "${aws_security_group.ecs_tasks[0].id}"
        )
    clients = all_resources["aws_vpc_security_group_ingress_rule.frontend_from_clients"]
    assert clients["from_port"] == clients["to_port"] == "${local.role_ports.frontend.grpc}"


# --- DSQL connection budget ---------------------------------------------------------------------------------


def test_a_budget_over_the_cluster_limit_fails_the_plan_naming_the_variables(
    settings_module: RuntimeSettingsModule,
) -> None:
    services = {role: {"max_tasks": 10, "sql_max_conns": 300} for role in ROLES}
    applied = settings_module.apply(module_inputs(services=services))
    assert applied.returncode != 0
    message = " ".join(applied.stderr.split())
    assert "= 12000 connections, over dsql_cluster_connection_limit (10000)" in message
    assert "ecs_services.<role>.max_replicas" in message and "ecs_services.<role>.sql_max_conns" in message


@pytest.mark.parametrize(
    "services",
    [
        {role: {"max_tasks": 2, "sql_max_conns": 20} for role in ROLES},
        {
            "frontend": {"max_tasks": 8, "sql_max_conns": 20},
            "history": {"max_tasks": 6, "sql_max_conns": 50},
            "matching": {"max_tasks": 8, "sql_max_conns": 25},
            "worker": {"max_tasks": 2, "sql_max_conns": 10},
        },
    ],
    ids=["even", "uneven"],
)
def test_terraform_and_the_runtime_count_the_same_budget(
    settings_module: RuntimeSettingsModule, services: dict[str, dict[str, int]]
) -> None:
    """At a limit equal to Terraform's total both accept; one below it both refuse."""
    total = settings_module.outputs(module_inputs(services=services))["dsql_connections"]["total"]
    assert settings_module.apply(
        module_inputs(services=services, dsql_cluster_connection_limit=total - 1)
    ).returncode
    environment = settings_module.outputs(
        module_inputs(services=services, dsql_cluster_connection_limit=total)
    )["environment"]["history"]
    for limit, expected in ((total, 0), (total - 1, 78)):
        checked = subprocess.run(
            [str(BIN / "temporal-dsql-render"), "--check"],
            capture_output=True,
            text=True,
            check=False,
            env={"PATH": str(BIN), **environment, "TEMPORAL_DSQL_CLUSTER_CONNECTION_LIMIT": str(limit)},
        )
        assert checked.returncode == expected, (limit, checked.stderr)
