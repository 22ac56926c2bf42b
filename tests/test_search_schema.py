"""`schema setup|update|plan|version --target visibility` and the doctor's visibility check on a real OpenSearch.

Authentication is checked by the recording proxy (the node itself checks none): SigV4 signatures are
recomputed with the static keys the test makes, basic auth is enforced.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from schema_support import invoke, settings_for, write_tls_files
from support.search_node import SearchNode
from support.search_proxy import ProxyRules, recording_proxy, static_aws_keys
from support.temporal_cluster import SERVER_MODULE, tool
from temporal_dsql_runtime.doctor_checks import check_http_visibility
from temporal_dsql_runtime.schema.search import TEMPLATE_NAME

SCHEMA_ROOT = SERVER_MODULE / "schema"
NEWEST = "v14"
"""The newest template in the pinned server's schema/elasticsearch/visibility/versioned."""
REGION = "eu-west-1"
OFFLINE = {"TEMPORAL_SQL_PLUGIN_NAME": "postgres12", "TEMPORAL_SQL_HOST": "127.0.0.1"}


def search_environment(endpoint: str, index: str, **extra: str) -> dict[str, str]:
    """Settings for a visibility index at `endpoint`, with the pinned server's schema tree."""
    if not (SCHEMA_ROOT / "elasticsearch" / "visibility" / "versioned").is_dir():
        pytest.fail(f"{SCHEMA_ROOT} has no elasticsearch schema: run `make tools` first")
    return {
        **OFFLINE,
        "TEMPORAL_VISIBILITY_STORE": "opensearch",
        "TEMPORAL_OPENSEARCH_ENDPOINT": endpoint,
        "TEMPORAL_OPENSEARCH_INDEX": index,
        "TEMPORAL_SCHEMA_ROOT": str(SCHEMA_ROOT),
        **extra,
    }


def fresh_index() -> str:
    return f"temporal_visibility_v1_{uuid.uuid4().hex[:8]}"


def template_fields(version: str) -> set[str]:
    path = SCHEMA_ROOT / "elasticsearch" / "visibility" / "versioned" / version / "index_template_v7.json"
    return set(json.loads(path.read_text())["mappings"]["properties"])


def index_fields(node: SearchNode, index: str) -> set[str]:
    status, body = node.request("GET", f"/{index}/_mapping")
    assert status == 200, body
    assert isinstance(body, dict)
    return set(body[index]["mappings"]["properties"])


def index_definition(node: SearchNode, index: str) -> tuple[object, dict[str, object]]:
    """Mappings and the settings that describe the index (not its uuid, name, creation date or version)."""
    status, body = node.request("GET", f"/{index}")
    assert status == 200 and isinstance(body, dict), body
    settings = body[index]["settings"]["index"]
    own = {"uuid", "creation_date", "provided_name", "version"}
    return body[index]["mappings"], {key: value for key, value in settings.items() if key not in own}


def upstream_tool(node: SearchNode, *args: str) -> None:
    """Run the pinned release's temporal-elasticsearch-tool against the node; fail on a non-zero exit."""
    environment = {"PATH": os.environ.get("PATH", ""), "ES_SERVER": node.url}
    command = [str(tool("temporal-elasticsearch-tool")), *args]
    result = subprocess.run(command, env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def aws_keys(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Static test keys, also set in this process's environment (the in-process doctor check reads it)."""
    keys = static_aws_keys()
    for name, value in keys.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    return keys


@pytest.mark.parametrize("engine", ["opensearch_node", "elasticsearch_node"])
def test_setup_creates_template_and_index_and_a_second_run_changes_nothing(
    engine: str, request: pytest.FixtureRequest
) -> None:
    node: SearchNode = request.getfixturevalue(engine)
    index = fresh_index()
    environment = search_environment(node.url, index)

    dry = invoke(["schema", "setup", "--target", "visibility", "--dry-run"], environment)
    assert dry.exit_code == 0, dry.output
    assert f"  PUT /{index}  (create index {index} with {len(template_fields(NEWEST))} fields)" in dry.output
    assert node.request("GET", f"/{index}")[0] == 404

    first = invoke(["schema", "setup", "--target", "visibility"], environment)
    assert first.exit_code == 0, first.output
    assert f"visibility index {index}: now at template {NEWEST}" in first.output
    assert index_fields(node, index) == template_fields(NEWEST)
    _, settings = node.request("GET", f"/{index}/_settings?flat_settings=true")
    assert isinstance(settings, dict)
    assert settings[index]["settings"]["index.sort.field"] == ["CloseTime", "StartTime", "RunId"]
    _, template = node.request("GET", f"/_template/{TEMPLATE_NAME}")
    assert isinstance(template, dict) and template[TEMPLATE_NAME]["version"] == int(NEWEST[1:])
    _, cluster = node.request("GET", "/_cluster/settings?flat_settings=true")
    assert isinstance(cluster, dict) and cluster["persistent"]["action.auto_create_index"] == "false"

    again = invoke(["schema", "setup", "--target", "visibility"], environment)
    assert again.exit_code == 0, again.output
    assert again.output.strip().endswith(f"template {NEWEST}: up to date, nothing to do")
    version = invoke(["schema", "version", "--target", "visibility"], environment)
    assert (version.exit_code, "up to date" in version.output) == (0, True), version.output


def test_upstream_tool_and_ours_make_the_same_index_and_take_over_from_each_other(
    opensearch_node: SearchNode,
) -> None:
    theirs, ours = fresh_index(), fresh_index()
    upstream_tool(opensearch_node, "setup-schema")
    upstream_tool(opensearch_node, "create-index", "--index", theirs)
    after_theirs = invoke(
        ["schema", "setup", "--target", "visibility"], search_environment(opensearch_node.url, theirs)
    )
    assert after_theirs.exit_code == 0, after_theirs.output
    assert ": 1 request(s)\n" in after_theirs.output
    assert (
        f"PUT /_template/{TEMPLATE_NAME}: 200 (template {NEWEST}, was version unset)" in after_theirs.output
    )
    created = invoke(
        ["schema", "setup", "--target", "visibility"], search_environment(opensearch_node.url, ours)
    )
    assert created.exit_code == 0, created.output
    assert index_definition(opensearch_node, ours) == index_definition(opensearch_node, theirs)

    upstream_tool(opensearch_node, "update-schema", "--index", ours)
    assert index_fields(opensearch_node, ours) == template_fields(NEWEST)
    plan = invoke(["schema", "plan", "--target", "visibility"], search_environment(opensearch_node.url, ours))
    assert plan.output.splitlines()[1:] == [
        f"  PUT /_template/{TEMPLATE_NAME}  (template {NEWEST}, was version unset)"
    ], plan.output

    outside_pattern = f"visibility_{uuid.uuid4().hex[:8]}"
    upstream_tool(opensearch_node, "create-index", "--index", outside_pattern)
    assert index_definition(opensearch_node, outside_pattern)[0] == {}
    ours_outside = f"visibility_{uuid.uuid4().hex[:8]}"
    environment = search_environment(opensearch_node.url, ours_outside)
    assert invoke(["schema", "setup", "--target", "visibility"], environment).exit_code == 0
    assert index_fields(opensearch_node, ours_outside) == template_fields(NEWEST)


def test_update_adds_the_fields_a_newer_template_brings(opensearch_node: SearchNode) -> None:
    index = fresh_index()
    environment = search_environment(opensearch_node.url, index)
    missing = invoke(["schema", "update", "--target", "visibility"], environment)
    assert missing.exit_code == 78
    assert f"index {index} does not exist; run `temporal-dsql-runtime schema setup --target visibility`" in (
        missing.output
    )

    older = invoke(["schema", "setup", "--target", "visibility", "--to-version", "v13"], environment)
    assert older.exit_code == 0, older.output
    new_fields = template_fields(NEWEST) - template_fields("v13")
    assert new_fields and not new_fields & index_fields(opensearch_node, index)
    behind = invoke(["schema", "version", "--target", "visibility"], environment)
    assert behind.exit_code == 1, behind.output

    plan = invoke(["schema", "plan", "--target", "visibility"], environment)
    assert f"  PUT /{index}/_mapping  (add fields {', '.join(sorted(new_fields))})" in plan.output
    updated = invoke(["schema", "update", "--target", "visibility"], environment)
    assert updated.exit_code == 0, updated.output
    assert index_fields(opensearch_node, index) == template_fields(NEWEST)
    assert invoke(["schema", "version", "--target", "visibility"], environment).exit_code == 0


def test_a_field_of_another_type_is_a_failed_statement(opensearch_node: SearchNode) -> None:
    index = fresh_index()
    body = {"mappings": {"properties": {"WorkflowType": {"type": "long"}}}}
    assert opensearch_node.request("PUT", f"/{index}", body)[0] == 200
    result = invoke(
        ["schema", "setup", "--target", "visibility"], search_environment(opensearch_node.url, index)
    )
    assert result.exit_code == 65
    assert (
        f"index {index}: field types differ from template {NEWEST}: WorkflowType is long (template: keyword)"
        in (result.output)
    )


def test_sql_only_options_and_unreachable_endpoint(opensearch_node: SearchNode) -> None:
    environment = search_environment(opensearch_node.url, fresh_index())
    usage = invoke(["schema", "setup", "--target", "visibility", "--database", "x"], environment)
    assert usage.exit_code == 2 and "--database: not used for visibility store opensearch" in usage.output
    down = search_environment("http://127.0.0.1:9", fresh_index())
    result = invoke(["schema", "setup", "--target", "visibility"], down)
    assert result.exit_code == 69
    assert result.output.startswith(
        "error: TEMPORAL_OPENSEARCH_ENDPOINT: GET /_cluster/settings on 127.0.0.1:9 failed"
    )


def test_setup_through_sigv4_is_signed_and_a_wrong_key_is_refused(
    opensearch_node: SearchNode, aws_keys: dict[str, str]
) -> None:
    key_id, secret = aws_keys["AWS_ACCESS_KEY_ID"], aws_keys["AWS_SECRET_ACCESS_KEY"]
    rules = ProxyRules("sigv4", opensearch_node.http_port, key_id=key_id, secret_key=secret, region=REGION)
    index = fresh_index()
    with recording_proxy(rules) as proxy:
        sigv4 = {"TEMPORAL_OPENSEARCH_AUTH": "aws-sigv4", "TEMPORAL_OPENSEARCH_REGION": REGION}
        environment = search_environment(proxy.url, index, **sigv4, **aws_keys)
        result = invoke(["schema", "setup", "--target", "visibility"], environment)
        assert result.exit_code == 0, result.output
        seen = proxy.seen()
        assert {(r.method, r.auth, r.accepted) for r in seen} == {
            ("GET", "sigv4", True),
            ("PUT", "sigv4", True),
        }
        assert any(r.method == "PUT" and r.path == f"/{index}" for r in seen)
        check = check_http_visibility(settings_for(environment), 5)
        assert (check.status, check.detail) == ("pass", f"GET /{index} answered 200, SigV4-signed")

        wrong = {**environment, "AWS_SECRET_ACCESS_KEY": secret + "x"}
        refused = invoke(["schema", "setup", "--target", "visibility"], wrong)
        assert refused.exit_code == 78
        assert "answered 403: the endpoint refused these credentials" in refused.output
        assert secret not in refused.output
    assert index_fields(opensearch_node, index) == template_fields(NEWEST)


def test_basic_auth_is_sent_and_a_wrong_password_is_refused(opensearch_node: SearchNode) -> None:
    password = secrets.token_urlsafe(16)
    rules = ProxyRules("basic", opensearch_node.http_port, user="temporal", password=password)
    index = fresh_index()
    with recording_proxy(rules) as proxy:
        basic = {"TEMPORAL_OPENSEARCH_AUTH": "basic", "TEMPORAL_OPENSEARCH_USER": "temporal"}
        environment = search_environment(proxy.url, index, **basic, TEMPORAL_OPENSEARCH_PASSWORD=password)
        assert invoke(["schema", "setup", "--target", "visibility"], environment).exit_code == 0
        assert {(r.auth, r.accepted) for r in proxy.seen()} == {("basic", True)}
        check = check_http_visibility(settings_for(environment), 5)
        assert (check.status, check.detail) == ("pass", f"GET /{index} answered 200, basic auth")

        wrong = {**environment, "TEMPORAL_OPENSEARCH_PASSWORD": "not-" + password}
        refused = invoke(["schema", "setup", "--target", "visibility"], wrong)
        assert refused.exit_code == 78 and "answered 401" in refused.output
        assert password not in refused.output
        check = check_http_visibility(settings_for(wrong), 5)
        assert (check.status, check.exit_code, check.detail) == (
            "fail",
            78,
            f"GET /{index} answered 401, basic auth",
        )
        assert check.diagnosis is not None and "TEMPORAL_OPENSEARCH_PASSWORD" in check.diagnosis


def test_doctor_names_a_missing_index(opensearch_node: SearchNode) -> None:
    index = fresh_index()
    check = check_http_visibility(settings_for(search_environment(opensearch_node.url, index)), 5)
    assert (check.status, check.exit_code, check.detail) == ("fail", 78, f"index {index} does not exist")
    assert check.diagnosis == (
        "run `temporal-dsql-runtime schema setup --target visibility` to create it, or fix TEMPORAL_OPENSEARCH_INDEX"
    )


@pytest.fixture(scope="module")
def tls_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    files = write_tls_files(tmp_path_factory.mktemp("search-tls"))
    yield files.cert, files.key


def test_doctor_names_a_wrong_scheme_both_ways(
    opensearch_node: SearchNode, tls_pair: tuple[Path, Path]
) -> None:
    index = fresh_index()
    https_to_http = f"https://127.0.0.1:{opensearch_node.http_port}"
    check = check_http_visibility(settings_for(search_environment(https_to_http, index)), 5)
    where = f"127.0.0.1:{opensearch_node.http_port}"
    assert (check.status, check.exit_code, check.detail) == ("fail", 78, f"{where} speaks HTTP, not HTTPS")
    assert check.diagnosis == "use http:// in TEMPORAL_OPENSEARCH_ENDPOINT"

    with recording_proxy(ProxyRules("open", opensearch_node.http_port), tls=tls_pair) as proxy:
        http_to_https = proxy.url.replace("https://", "http://")
        check = check_http_visibility(settings_for(search_environment(http_to_https, index)), 5)
    where = http_to_https.removeprefix("http://")
    assert (check.status, check.exit_code, check.detail) == ("fail", 78, f"{where} speaks HTTPS, not HTTP")
    assert check.diagnosis == "use https:// in TEMPORAL_OPENSEARCH_ENDPOINT"


def test_a_missing_schema_tree_or_unknown_version_is_a_configuration_error(
    opensearch_node: SearchNode, tmp_path: Path
) -> None:
    environment = search_environment(opensearch_node.url, fresh_index())
    unknown = invoke(["schema", "setup", "--target", "visibility", "--to-version", "v99"], environment)
    assert unknown.exit_code == 78
    assert "--to-version: v99 is not a template version in" in unknown.output
    assert "accepts one of v0, v1, v2" in unknown.output
    missing = invoke(
        ["schema", "plan", "--target", "visibility"], environment | {"TEMPORAL_SCHEMA_ROOT": str(tmp_path)}
    )
    assert missing.exit_code == 78
    assert missing.output.startswith(
        f"error: TEMPORAL_SCHEMA_ROOT: cannot read {tmp_path}/elasticsearch/visibility/versioned"
    )
