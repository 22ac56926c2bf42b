"""Shared pytest set-up: a reproducible Hypothesis profile for CI, and the session's search nodes."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from support.search_node import ELASTICSEARCH, OPENSEARCH, SearchNode, running_search_node

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def opensearch_node() -> Iterator[SearchNode]:
    """One real OpenSearch node for the whole run (tests give each scenario its own index)."""
    with running_search_node(OPENSEARCH) as node:
        yield node


@pytest.fixture(scope="session")
def elasticsearch_node() -> Iterator[SearchNode]:
    """One real Elasticsearch node for the whole run."""
    with running_search_node(ELASTICSEARCH) as node:
        yield node
