"""The image and Compose files, checked statically (hadolint, the real Compose parser); the built images and the
stacks run for real in tests/test_image.py, test_compose_local.py and test_compose_services.py."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from image_support import (
    DOCKER_DIR,
    REPO_ROOT,
    STRIP_DEBUG,
    compose_binary,
    dockerfile_instructions,
    uv,
)
from temporal_dsql_runtime.settings import SERVICES, Settings, accepted_variables

DOCKERFILES = (
    DOCKER_DIR / "Dockerfile",
    DOCKER_DIR / "server.Dockerfile",
    DOCKER_DIR / "ui.Dockerfile",
    REPO_ROOT / "tests" / "support" / "docker" / "postgres.Dockerfile",
)
SERVICES_COMPOSE = REPO_ROOT / "docker-compose.services.yml"
LOCAL_COMPOSE = REPO_ROOT / "docker-compose.local-test.yml"
COMPOSE_FILES = (SERVICES_COMPOSE, LOCAL_COMPOSE)
RUNTIME_IMAGE = "temporal-dsql-runtime:"

AWS_SDK_PASS_THROUGH = frozenset(
    {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_EC2_METADATA_DISABLED",
        "AWS_SDK_LOAD_CONFIG",
    }
)
"""AWS SDK variables the Compose files hand to containers: read by botocore and the server's Go SDK."""

OTHER_IMAGES_VARIABLES = {
    "temporal-dsql-ui:": frozenset({"TEMPORAL_ADDRESS", "TEMPORAL_CORS_ORIGINS"}),
    "temporalio/admin-tools:": frozenset({"TEMPORAL_ADDRESS"}),
    "public.ecr.aws/aws-observability/aws-sigv4-proxy:": AWS_SDK_PASS_THROUGH,
}
"""Variables read by the other images the Compose files run (the UI's from ui-server's config/docker.yaml)."""


# --- Dockerfiles --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_hadolint_finds_nothing(dockerfile: Path) -> None:
    result = subprocess.run(
        ["hadolint", "--failure-threshold", "info", "--no-color", dockerfile],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


def test_hadolint_would_catch_a_regression(tmp_path: Path) -> None:
    broken = tmp_path / "Dockerfile"
    broken.write_text((DOCKER_DIR / "Dockerfile").read_text().replace("USER 1000:1000", "USER root"))
    result = subprocess.run(["hadolint", "--no-color", broken], capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "DL3002" in result.stdout


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_every_hadolint_exception_is_justified_on_the_lines_above(dockerfile: Path) -> None:
    lines = dockerfile.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if "hadolint ignore" in line:
            above = lines[number - 1].strip()
            assert above.startswith("#") and "hadolint" not in above, f"line {number + 1}: no justification"


def runtime_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions(DOCKER_DIR / "Dockerfile")
    starts = [index for index, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    return instructions[starts[-1] :]


def test_the_runtime_stage_starts_from_the_fork_image_and_runs_the_launcher() -> None:
    instructions = dockerfile_instructions(DOCKER_DIR / "Dockerfile")
    assert ("ARG", "TEMPORAL_BASE_IMAGE=temporal-dsql-server:latest") in instructions
    stage = runtime_stage()
    assert stage[0] == ("FROM", "${TEMPORAL_BASE_IMAGE} AS runtime")
    final = {keyword: arguments for keyword, arguments in stage}
    assert json.loads(final["ENTRYPOINT"]) == ["temporal-dsql-runtime", "start"]
    assert final["HEALTHCHECK"].endswith('CMD ["temporal-dsql-runtime", "healthcheck", "--timeout", "3"]')
    user = final["USER"].split(":")
    assert all(part.isdigit() and int(part) != 0 for part in user), (
        "the last USER must be a numeric non-root id"
    )


def test_the_runtime_dir_is_a_setting_and_the_image_creates_it_for_the_runtime_user() -> None:
    stage = runtime_stage()
    environment = " ".join(arguments for keyword, arguments in stage if keyword == "ENV")
    match = re.search(r"\bTEMPORAL_RUNTIME_DIR=(\S+)", environment)
    assert match, "the image must set TEMPORAL_RUNTIME_DIR"
    assert "TEMPORAL_RUNTIME_DIR" in accepted_variables()
    assert Settings.model_fields["runtime_dir"].default != Path(match[1]), (
        "the image should choose its own dir"
    )
    runs = " ".join(arguments for keyword, arguments in stage if keyword == "RUN")
    assert f"install -d -m 0700 -o 1000 -g 1000 {match[1]}" in runs


def test_the_image_declares_oci_labels() -> None:
    labels = " ".join(arguments for keyword, arguments in runtime_stage() if keyword == "LABEL")
    for key in ("title", "description", "licenses", "version", "revision", "created", "source", "base.name"):
        assert f"org.opencontainers.image.{key}=" in labels


def test_the_build_stage_trims_the_venv_the_way_the_venv_test_does() -> None:
    runs = [
        arguments
        for keyword, arguments in dockerfile_instructions(DOCKER_DIR / "Dockerfile")
        if keyword == "RUN"
    ]
    trimming = next(run for run in runs if "trim_botocore.py" in run)
    assert 'python3 trim_botocore.py "$VENV"' in trimming
    assert f"-name '*.so' -exec {' '.join(STRIP_DEBUG)} {{}} +" in trimming
    assert '"$VENV/bin/python" -m compileall' in trimming


def test_the_server_image_ships_the_schema_where_the_settings_look_for_it() -> None:
    copies = [
        arguments
        for keyword, arguments in dockerfile_instructions(DOCKER_DIR / "server.Dockerfile")
        if keyword == "COPY"
    ]
    assert f"schema {Settings.model_fields['schema_root'].default}" in copies
    assert "${TARGETARCH}/ /usr/local/bin/" in copies, "prebuilt binaries for the target architecture"


# --- build context ------------------------------------------------------------------------------------------


def dockerignore_excludes(path: str) -> bool:
    """Whether the root .dockerignore keeps `path` out of the build context (last match wins)."""
    excluded = False
    for raw in (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.removeprefix("!").strip("/")
        regex = re.escape(pattern).replace(r"\*\*", ".*").replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        parts = path.split("/")
        prefixes = ("/".join(parts[: index + 1]) for index in range(len(parts)))
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            excluded = not negate
    return excluded


def copied_sources(dockerfile: Path) -> set[str]:
    """What a Dockerfile copies from its build context."""
    return {
        source
        for keyword, arguments in dockerfile_instructions(dockerfile)
        if keyword == "COPY" and not arguments.startswith("--from")
        for source in shlex.split(arguments)[:-1]
    }


def test_each_dockerfile_copies_only_what_build_images_stages() -> None:
    """The contexts are staged by scripts/build-images.sh: binaries per architecture, schema, wheels."""
    script = (REPO_ROOT / "scripts" / "build-images.sh").read_text(encoding="utf-8")
    assert copied_sources(DOCKER_DIR / "server.Dockerfile") == {"${TARGETARCH}/", "schema"}
    assert copied_sources(DOCKER_DIR / "Dockerfile") == {"requirements.txt", "trim_botocore.py", "wheels"}
    assert copied_sources(DOCKER_DIR / "ui.Dockerfile") == {"${TARGETARCH}/ui-server", "config"}
    for staged in (
        '"$context/server/$arch/"',
        '"$context/server/schema"',
        '"$context/runtime/requirements.txt"',
        '"$context/runtime/wheels"',
        '"$context/runtime/"',
        '"$context/ui/$arch/ui-server"',
    ):
        assert staged in script, staged


def test_a_build_from_the_repository_root_sends_nothing() -> None:
    """The repository root is no build context: a mistaken `docker build .` must not ship secrets."""
    for private in (".env.integration", "secrets/sql-password", ".venv/bin/python", ".git/config", "src"):
        assert dockerignore_excludes(private), private


def test_the_wheel_ships_every_file_of_the_package(tmp_path: Path) -> None:
    """Templates and dynamic config files reach the image only through the wheel."""
    uv("build", "--wheel", "--quiet", "--out-dir", tmp_path)
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name for name in archive.namelist() if name.startswith("temporal_dsql_runtime/")}
    package = REPO_ROOT / "src"
    expected = {
        path.relative_to(package).as_posix()
        for path in (package / "temporal_dsql_runtime").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert any(name.startswith("temporal_dsql_runtime/dynamicconfig/") for name in expected)
    assert expected <= shipped, sorted(expected - shipped)


# --- Compose ------------------------------------------------------------------------------------------------


def compose(
    compose_file: Path, workdir: Path, *args: str, env_file: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run the real Compose parser on a copy of `compose_file` in `workdir`, beside a .env.integration."""
    copy = workdir / compose_file.name
    if not copy.exists():
        shutil.copyfile(compose_file, copy)
    (workdir / ".env.integration").write_text(env_file, encoding="utf-8")
    environment = {"PATH": os.environ["PATH"], "HOME": str(workdir)}
    return subprocess.run(
        [compose_binary(), "-f", copy, "--profile", "*", *args],
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def compose_model(compose_file: Path, workdir: Path) -> dict[str, Any]:
    result = compose(compose_file, workdir, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    model: dict[str, Any] = json.loads(result.stdout)
    return model


@pytest.mark.parametrize("compose_file", COMPOSE_FILES, ids=lambda path: path.name)
def test_compose_accepts_the_file(compose_file: Path, tmp_path: Path) -> None:
    result = compose(compose_file, tmp_path, "config", "--quiet")
    assert (result.returncode, result.stderr) == (0, "")


def test_compose_reads_the_env_example_as_the_integration_env_file(tmp_path: Path) -> None:
    example = (REPO_ROOT / ".env.example").read_text(encoding="utf-8")
    result = compose(SERVICES_COMPOSE, tmp_path, "config", "--quiet", env_file=example)
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.parametrize(
    ("original", "misspelled", "complaint"),
    [
        ("read_only: true", "read_onyl: true", "additional properties 'read_onyl' not allowed"),
        ("condition: service_healthy", "condition: service_heathy", "condition value must be one of"),
    ],
)
def test_compose_rejects_a_misspelled_key_or_value(
    original: str, misspelled: str, complaint: str, tmp_path: Path
) -> None:
    text = SERVICES_COMPOSE.read_text(encoding="utf-8")
    assert original in text
    (tmp_path / SERVICES_COMPOSE.name).write_text(text.replace(original, misspelled, 1), encoding="utf-8")
    result = compose(SERVICES_COMPOSE, tmp_path, "config", "--quiet")
    assert result.returncode != 0
    assert complaint in result.stderr


def unknown_variables(model: dict[str, Any]) -> list[str]:
    """`service: VARIABLE` for every variable a service sets or passes that nothing documents."""
    problems = []
    for name, service in model["services"].items():
        image = service["image"]
        if image.startswith(RUNTIME_IMAGE):
            allowed = frozenset(accepted_variables()) | AWS_SDK_PASS_THROUGH
        else:
            (allowed,) = [
                known for prefix, known in OTHER_IMAGES_VARIABLES.items() if image.startswith(prefix)
            ]
        problems += [
            f"{name}: {variable}" for variable in service.get("environment", {}) if variable not in allowed
        ]
    return problems


@pytest.mark.parametrize("compose_file", COMPOSE_FILES, ids=lambda path: path.name)
def test_every_variable_a_container_gets_is_a_setting_or_a_documented_pass_through(
    compose_file: Path, tmp_path: Path
) -> None:
    assert unknown_variables(compose_model(compose_file, tmp_path)) == []


def test_a_misspelled_variable_is_caught(tmp_path: Path) -> None:
    text = SERVICES_COMPOSE.read_text(encoding="utf-8").replace(
        "TEMPORAL_SERVICES: worker", "TEMPORAL_SERVICE: worker"
    )
    (tmp_path / SERVICES_COMPOSE.name).write_text(text, encoding="utf-8")
    assert unknown_variables(compose_model(SERVICES_COMPOSE, tmp_path)) == [
        "temporal-worker: TEMPORAL_SERVICE"
    ]


@pytest.mark.parametrize("compose_file", COMPOSE_FILES, ids=lambda path: path.name)
def test_compose_level_variables_are_the_ones_the_header_documents(
    compose_file: Path, tmp_path: Path
) -> None:
    result = compose(compose_file, tmp_path, "config", "--variables", "--format", "json")
    assert result.returncode == 0, result.stderr
    used = set(json.loads(result.stdout))
    header = (
        compose_file.read_text(encoding="utf-8").split("Compose-level variables", 1)[1].split("\n\n", 1)[0]
    )
    documented = set(re.findall(r"\b[A-Z][A-Z0-9_]{2,}\b", header))
    assert used == documented


def test_secret_files_named_in_the_environment_are_mounted(tmp_path: Path) -> None:
    model = compose_model(SERVICES_COMPOSE, tmp_path)
    assert set(model["secrets"]) == {"aws-credentials", "aws-config", "sql-password", "opensearch-password"}
    for name, service in model["services"].items():
        mounted = {secret["target"] for secret in service.get("secrets", [])}
        for variable, value in service.get("environment", {}).items():
            if value and value.startswith("/run/secrets/"):
                assert value in mounted, f"{name}: {variable}={value} is not a mounted secret"


def test_the_services_stack_runs_each_role_once_started_in_order_of_health(tmp_path: Path) -> None:
    services = compose_model(SERVICES_COMPOSE, tmp_path)["services"]
    runtime = {
        name: service
        for name, service in services.items()
        if service["image"].startswith(RUNTIME_IMAGE)
        and "TEMPORAL_SERVICES" in service.get("environment", {})
        and "profiles" not in service
    }
    roles = {service["environment"]["TEMPORAL_SERVICES"]: name for name, service in runtime.items()}
    assert sorted(roles) == sorted(SERVICES) and len(runtime) == len(SERVICES)
    for name, service in runtime.items():
        assert service["read_only"] is True
        assert "/run/temporal-dsql-runtime:uid=1000,gid=1000,mode=0700" in service["tmpfs"]
        assert service["healthcheck"]["test"][1:3] == ["temporal-dsql-runtime", "healthcheck"]
        for dependency, condition in service.get("depends_on", {}).items():
            if dependency in runtime:
                assert condition["condition"] == "service_healthy", f"{name} -> {dependency}"
    assert set(services[roles["worker"]]["depends_on"]) == {roles["frontend"]}
    assert {roles["history"], roles["matching"]} <= set(services[roles["frontend"]]["depends_on"])
    namespace = services["temporal-namespace"]
    assert namespace["depends_on"][roles["frontend"]]["condition"] == "service_healthy"
    assert namespace["entrypoint"][:2] == ["temporal-dsql-runtime", "namespace"]
    assert namespace["command"] == ["default"] and namespace["restart"] == "no"
    assert services["temporal-ui"]["depends_on"]["temporal-namespace"]["condition"] == (
        "service_completed_successfully"
    )
    assert services["temporal-admin-tools"]["profiles"] == ["admin"]
    assert services["aws-sigv4-proxy"]["profiles"] == ["sigv4-proxy"]
    schema = services["temporal-schema"]
    assert schema["profiles"] == ["schema"]
    assert schema["entrypoint"] + schema["command"] == ["temporal-dsql-runtime", "schema", "setup"]
    assert schema["healthcheck"]["disable"] is True


def test_the_runtime_containers_read_the_integration_env_file(tmp_path: Path) -> None:
    host = "abc.dsql.eu-west-1.on.aws"
    result = compose(
        SERVICES_COMPOSE, tmp_path, "config", "--format", "json", env_file=f"TEMPORAL_SQL_HOST={host}\n"
    )
    services = json.loads(result.stdout)["services"]
    reading = {
        name for name, service in services.items() if service["environment"].get("TEMPORAL_SQL_HOST") == host
    }
    runtime = {name for name, service in services.items() if service["image"].startswith(RUNTIME_IMAGE)}
    assert (
        reading == runtime and len(runtime) == len(SERVICES) + 2
    )  # the four roles, schema and namespace jobs


def test_the_local_stack_is_sqlite_in_one_container_without_aws(tmp_path: Path) -> None:
    services = compose_model(LOCAL_COMPOSE, tmp_path)["services"]
    runtime = services["temporal"]
    environment = runtime["environment"]
    assert environment["TEMPORAL_SQL_PLUGIN_NAME"] == "sqlite"
    assert environment["TEMPORAL_SERVICES"].split(",") == list(SERVICES)
    assert not [
        variable
        for service in services.values()
        for variable in service.get("environment", {})
        if variable.startswith("AWS_")
    ]
    assert "secrets" not in runtime and "env_file" not in runtime
    assert set(services) == {"temporal", "temporal-namespace", "temporal-ui"}
    namespace = services["temporal-namespace"]
    assert namespace["image"] == runtime["image"] and namespace["command"] == ["default"]
    assert namespace["entrypoint"] == [
        "temporal-dsql-runtime", "namespace", "--endpoint", "http://temporal:7243",
    ]  # fmt: skip
