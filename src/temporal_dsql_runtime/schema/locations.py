"""Where a versioned schema directory is looked for when `--schema-dir` is not given: by plugin, not dialect."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from ..errors import ConfigError

SchemaTarget = Literal["temporal", "visibility"]
TARGETS: tuple[SchemaTarget, ...] = ("temporal", "visibility")

SCHEMA_ROOT = Path("/etc/temporal/schema")
"""Where Temporal's admin-tools image keeps the server's `schema/` tree (and where our image copies it)."""

RELATIVE_DIRS: dict[tuple[str, SchemaTarget], str] = {
    ("postgres12", "temporal"): "postgresql/v12/temporal/versioned",
    ("postgres12", "visibility"): "postgresql/v12/visibility/versioned",
    ("postgres12_pgx", "temporal"): "postgresql/v12/temporal/versioned",
    ("postgres12_pgx", "visibility"): "postgresql/v12/visibility/versioned",
    ("dsql", "temporal"): "dsql/temporal/versioned",
}
"""The schema each plugin's server reads: upstream's `schema/postgresql/v12/...` for the PostgreSQL plugins,
the DSQL fork's `schema/dsql/temporal/...` for `dsql` (which has no visibility schema: visibility cannot
live in DSQL). The dialect only decides how statements run, never which files."""


def default_schema_dir(plugin: str, target: SchemaTarget, root: Path = SCHEMA_ROOT) -> Path:
    """The versioned schema directory a plugin's server expects for a target, under a `schema/` tree."""
    relative = RELATIVE_DIRS.get((plugin, target))
    if relative is None:
        raise ConfigError(
            f"--target {target}: plugin {plugin} has no {target} schema to manage; give --schema-dir"
        )
    return root / relative
