"""Temporal's visibility schema on OpenSearch/Elasticsearch: cluster settings, index template, index.

The files come from the server's own `schema/elasticsearch/visibility/` tree: `cluster_settings_v7.json` and
the newest `versioned/vN/index_template_v7.json`. `setup` does what upstream's `temporal-elasticsearch-tool
setup-schema` + `create-index` do, and `update` what its `update-schema --index` does, with three differences:
each request is sent only when the endpoint lacks what it would set (so a run changes nothing the second
time); the template is stored with `"version": N`, which is how a later run knows it is current; and the
index is created with the template's settings and mappings in its body, so an index name outside the
template's `temporal_visibility_v1*` pattern gets them too. `update` only adds fields the index lacks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, UnavailableError, UserError, describe_os_error
from ..search_client import Response, request
from ..settings import Settings
from .apply import StatementFailed

Echo = Callable[[str], None]
TEMPLATE_NAME = "temporal_visibility_v1_template"
"""The name upstream's tool gives the index template."""
SEARCH_SCHEMA_DIR = Path("elasticsearch/visibility")
"""Where the visibility files sit under a `schema/` tree."""
TEMPLATE_FILE = "index_template_v7.json"
SETTINGS_FILE = "cluster_settings_v7.json"
VERSION_DIR = re.compile(r"^v(\d+)$")


@dataclass(frozen=True)
class SearchSchema:
    """The files one run applies."""

    directory: Path
    version: int
    template: dict[str, Any]
    cluster_settings: dict[str, str]
    """Persistent cluster settings, flattened (`action.auto_create_index`: "false")."""


@dataclass(frozen=True)
class SearchStep:
    """One write request and why it is needed."""

    method: str
    path: str
    body: dict[str, Any]
    reason: str


@dataclass(frozen=True)
class SearchPlan:
    """The requests that bring one endpoint's visibility index to the schema."""

    endpoint: str
    index: str
    version: int
    steps: tuple[SearchStep, ...]

    @property
    def is_empty(self) -> bool:
        """Whether the endpoint already has everything."""
        return not self.steps


def search_schema_dir(settings: Settings, schema_dir: Path | None) -> Path:
    """`--schema-dir`, else `elasticsearch/visibility` under TEMPORAL_SCHEMA_ROOT."""
    return schema_dir or settings.schema_root / SEARCH_SCHEMA_DIR


def load_schema(directory: Path, to_version: str | None = None) -> SearchSchema:
    """The cluster settings and the newest template (or the one `to_version`, e.g. v13, names)."""
    versions = _template_versions(directory)
    if to_version is None:
        version = max(versions)
    else:
        match = VERSION_DIR.match(to_version)
        if match is None or int(match.group(1)) not in versions:
            raise ConfigError(
                f"--to-version: {to_version} is not a template version in {directory / 'versioned'}; "
                f"accepts one of {', '.join(f'v{v}' for v in sorted(versions))}"
            )
        version = int(match.group(1))
    template = _read_json(versions[version])
    settings = _read_json(directory / SETTINGS_FILE)
    if not isinstance(template.get("mappings"), dict) or not isinstance(settings.get("persistent"), dict):
        raise ConfigError(f"{versions[version]}: not an index template with mappings beside cluster settings")
    return SearchSchema(directory, version, template, _flatten(settings["persistent"]))


def plan_search_schema(settings: Settings, schema: SearchSchema, *, create_index: bool) -> SearchPlan:
    """Compare the endpoint with the schema; `create_index` false (update) refuses a missing index."""
    index = settings.opensearch_index
    steps = [*_cluster_settings_step(settings, schema), *_template_step(settings, schema)]
    mapping = _index_mapping(settings, index)
    if mapping is None:
        if not create_index:
            raise ConfigError(
                f"TEMPORAL_OPENSEARCH_INDEX: index {index} does not exist; run "
                "`temporal-dsql-runtime schema setup --target visibility` first"
            )
        body: dict[str, Any] = {
            k: schema.template[k] for k in ("settings", "mappings") if k in schema.template
        }
        fields = len(schema.template["mappings"].get("properties", {}))
        steps.append(SearchStep("PUT", f"/{index}", body, f"create index {index} with {fields} fields"))
    else:
        steps += _mapping_step(index, mapping, schema)
    return SearchPlan(settings.opensearch_endpoint or "", index, schema.version, tuple(steps))


def describe_search_plan(plan: SearchPlan) -> list[str]:
    """The plan as lines, the first naming the endpoint and target version."""
    head = f"visibility index {plan.index} on {plan.endpoint}: template v{plan.version}"
    if plan.is_empty:
        return [f"{head}: up to date, nothing to do"]
    return [f"{head}: {len(plan.steps)} request(s)"] + [
        f"  {step.method} {step.path}  ({step.reason})" for step in plan.steps
    ]


def apply_search_plan(settings: Settings, plan: SearchPlan, *, dry_run: bool, echo: Echo) -> SearchPlan:
    """Send each request in order (or only print them on a dry run); a refused request stops the run (65)."""
    lines = describe_search_plan(plan)
    if dry_run or plan.is_empty:
        for line in lines:
            echo(line)
        return plan
    echo(lines[0])
    for step in plan.steps:
        answer = request(settings, step.method, step.path, step.body)
        _raise_for_status(answer, f"{step.method} {step.path}", failure=StatementFailed)
        echo(f"  {step.method} {step.path}: {answer.status} ({step.reason})")
    echo(f"visibility index {plan.index}: now at template v{plan.version}")
    return plan


def run_search_schema(
    settings: Settings,
    schema_dir: Path | None,
    *,
    create_index: bool,
    to_version: str | None = None,
    dry_run: bool = False,
    echo: Echo = lambda line: None,
) -> SearchPlan:
    """`schema setup` (create_index) or `schema update` for an OpenSearch/Elasticsearch visibility store."""
    schema = load_schema(search_schema_dir(settings, schema_dir), to_version)
    plan = plan_search_schema(settings, schema, create_index=create_index)
    return apply_search_plan(settings, plan, dry_run=dry_run, echo=echo)


def _cluster_settings_step(settings: Settings, schema: SearchSchema) -> list[SearchStep]:
    answer = _read(settings, "/_cluster/settings?flat_settings=true")
    current = answer.body.get("persistent", {}) if isinstance(answer.body, dict) else {}
    wanted = {key: value for key, value in schema.cluster_settings.items() if current.get(key) != value}
    if not wanted:
        return []
    shown = ", ".join(f"{key}={value}" for key, value in wanted.items())
    return [SearchStep("PUT", "/_cluster/settings", {"persistent": wanted}, shown)]


def _template_step(settings: Settings, schema: SearchSchema) -> list[SearchStep]:
    answer = _read(settings, f"/_template/{TEMPLATE_NAME}", missing_ok=True)
    current = answer.body.get(TEMPLATE_NAME, {}) if isinstance(answer.body, dict) else {}
    if answer.status == 200 and current.get("version") == schema.version:
        return []
    was = "missing" if answer.status == 404 else f"was version {current.get('version', 'unset')}"
    body = schema.template | {"version": schema.version}
    return [SearchStep("PUT", f"/_template/{TEMPLATE_NAME}", body, f"template v{schema.version}, {was}")]


def _index_mapping(settings: Settings, index: str) -> dict[str, Any] | None:
    """The index's field mappings, or None when there is no such index."""
    answer = _read(settings, f"/{index}/_mapping", missing_ok=True)
    if answer.status == 404:
        return None
    indices = list(answer.body.values()) if isinstance(answer.body, dict) else []
    if len(indices) != 1:
        raise ConfigError(
            f"TEMPORAL_OPENSEARCH_INDEX: {index} names {len(indices)} indices; accepts one index"
        )
    properties: dict[str, Any] = indices[0].get("mappings", {}).get("properties", {})
    return properties


def _mapping_step(index: str, mapping: dict[str, Any], schema: SearchSchema) -> list[SearchStep]:
    wanted: dict[str, Any] = schema.template["mappings"].get("properties", {})
    clashes = [
        f"{name} is {mapping[name].get('type')} (template: {field.get('type')})"
        for name, field in wanted.items()
        if name in mapping and mapping[name].get("type") != field.get("type")
    ]
    if clashes:
        raise StatementFailed(
            f"index {index}: field types differ from template v{schema.version}: {'; '.join(clashes)}; "
            "a field's type cannot change in place: reindex into a new index"
        )
    missing = {name: field for name, field in wanted.items() if name not in mapping}
    if not missing:
        return []
    names = ", ".join(sorted(missing))
    return [SearchStep("PUT", f"/{index}/_mapping", {"properties": missing}, f"add fields {names}")]


def _read(settings: Settings, path: str, *, missing_ok: bool = False) -> Response:
    answer = request(settings, "GET", path)
    if not (missing_ok and answer.status == 404):
        _raise_for_status(answer, f"GET {path.split('?')[0]}", failure=UnavailableError)
    return answer


def _raise_for_status(answer: Response, what: str, *, failure: type[UserError]) -> None:
    if 200 <= answer.status < 300:
        return
    if answer.status in (401, 403):
        raise ConfigError(
            f"TEMPORAL_OPENSEARCH_AUTH: {what} answered {answer.status}: the endpoint refused these "
            "credentials; check TEMPORAL_OPENSEARCH_AUTH and its user/password or AWS identity and region"
        )
    raise failure(f"{what} answered {answer.status}: {_reason(answer.body)}")


def _reason(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return f"{error.get('type', 'error')}: {error.get('reason', '')}"
    return str(error or body)[:200]


def _template_versions(directory: Path) -> dict[int, Path]:
    versioned = directory / "versioned"
    try:
        found = {
            int(match.group(1)): entry / TEMPLATE_FILE
            for entry in versioned.iterdir()
            if (match := VERSION_DIR.match(entry.name)) and (entry / TEMPLATE_FILE).is_file()
        }
    except OSError as error:
        raise ConfigError(
            f"TEMPORAL_SCHEMA_ROOT: cannot read {versioned}: {describe_os_error(error)}; accepts Temporal's "
            "schema/ tree, which holds elasticsearch/visibility/versioned/vN/index_template_v7.json"
        ) from None
    if not found:
        raise ConfigError(f"TEMPORAL_SCHEMA_ROOT: no vN/{TEMPLATE_FILE} under {versioned}")
    return found


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except OSError as error:
        raise ConfigError(f"TEMPORAL_SCHEMA_ROOT: cannot read {path}: {describe_os_error(error)}") from None
    except ValueError as error:
        raise ConfigError(f"TEMPORAL_SCHEMA_ROOT: {path} is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"TEMPORAL_SCHEMA_ROOT: {path} is not a JSON object")
    return document


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat |= _flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat
