"""Where a versioned schema directory is looked for when `--schema-dir` is not given."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from .plan import Dialect

SchemaTarget = Literal["temporal", "visibility"]
TARGETS: tuple[SchemaTarget, ...] = ("temporal", "visibility")

SCHEMA_ROOT = Path("/etc/temporal/schema")
"""Where Temporal's admin-tools image keeps the server's `schema/` tree (and where our image copies it)."""

RELATIVE_DIRS: dict[tuple[Dialect, SchemaTarget], str] = {
    ("postgres", "temporal"): "postgresql/v12/temporal/versioned",
    ("postgres", "visibility"): "postgresql/v12/visibility/versioned",
    ("dsql", "temporal"): "dsql/temporal/versioned",
    ("dsql", "visibility"): "dsql/visibility/versioned",
}
"""The layout of upstream's `schema/` tree, and of the DSQL fork's `schema/dsql/...`."""


def default_schema_dir(dialect: Dialect, target: SchemaTarget, root: Path = SCHEMA_ROOT) -> Path:
    """The versioned schema directory for a dialect and target under a `schema/` tree."""
    return root / RELATIVE_DIRS[(dialect, target)]
