"""Integration fixtures: one embedded cluster per session, one namespace per test."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest

import course_helpers as ch
from course_helpers.kube import _namespaces


@pytest.fixture(scope="session")
def cluster() -> ch.ClusterInfo:
    info = ch.connect(log=lambda _msg: None)
    assert info.embedded, "integration tests need the embedded cluster (COURSE_CLUSTER=embedded)"
    return info


@pytest.fixture
def namespace(cluster: ch.ClusterInfo, request: pytest.FixtureRequest) -> Iterator[str]:
    stem = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:30].strip("-")
    name = ch.namespace(f"t-{stem}-{uuid.uuid4().hex[:5]}")
    yield name
    _namespaces.delete_namespace(name, wait=False)


@pytest.fixture
def extra_nodes(cluster: ch.ClusterInfo) -> Iterator[list[str]]:
    """Nodes a test adds; whatever is still there at the end is removed."""
    added: list[str] = []
    yield added
    names = set(ch.nodes()["node"])
    for name in added:
        if name in names:
            ch.remove_node(name)


@pytest.fixture
def ns(request: pytest.FixtureRequest) -> Iterator[str]:
    """A course namespace of its own for each lab test, removed with ch.cleanup afterwards."""
    ch.connect(log=lambda _msg: None)
    stem = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:28].strip("-")
    topic = f"t-{stem}-{uuid.uuid4().hex[:5]}"
    name = ch.namespace(topic)
    yield name
    ch.cleanup(topic, wait=False)
