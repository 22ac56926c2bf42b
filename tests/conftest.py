"""Shared pytest set-up: a reproducible Hypothesis profile for CI, and the session's OpenSearch node."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from support.opensearch import OpenSearchNode, running_opensearch

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def opensearch_node() -> Iterator[OpenSearchNode]:
    """One real OpenSearch node for the whole run (tests give each scenario its own index)."""
    with running_opensearch() as node:
        yield node
