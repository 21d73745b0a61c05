"""What a DaemonSet costs every node, on the embedded cluster: the scheduler's own verdicts.

A small node joins; DaemonSets with requests are applied; ``ch.node_requests``
and the live ``NodeRequests`` view must agree with what the real scheduler
did: bind the pod that fits, leave Pending (Insufficient memory) the one that
does not.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from test_widgets_live import _converge

import course_helpers as ch
from course_helpers.kube._wait import condition_true
from course_helpers.widgets import NodeRequests

pytestmark = pytest.mark.integration
Obj = dict[str, Any]


@pytest.fixture
def small_node(cluster: ch.ClusterInfo) -> Iterator[str]:
    """A worker with 1 CPU and 1Gi to offer, removed (and its pods with it) afterwards."""
    # A name of its own: pods of an earlier node of the same name may await the pod GC.
    name = ch.add_node(
        name=f"small-{uuid.uuid4().hex[:6]}",
        labels={"course.dev/disk": "hdd"},
        allocatable={"cpu": "1", "memory": "1Gi"},
    )
    yield name
    if name in set(ch.nodes()["node"]):
        ch.remove_node(name)


def _row(namespace: str, node: str) -> dict[str, Any]:
    table = ch.node_requests(namespace)
    return dict(table.set_index("node").loc[node])


def test_every_node_pays_the_requests_and_a_pod_that_does_not_fit_waits(
    namespace: str, small_node: str
) -> None:
    view = NodeRequests(namespace, loop=None)
    try:
        assert view.wait_synced(15)
        # Other tests' pods may sit on the shared workers; the new node is this test's alone.
        before = _row(namespace, small_node)
        assert (before["cpu_allocatable"], before["memory_allocatable"]) == ("1", "1Gi")
        assert before["pods"] == 0

        for name in ("log-collector", "security-agent"):  # 50m + 500m, 64Mi + 512Mi
            ch.apply(f"daemonset-{name}", namespace)
            ch.blocking.rollout_status("DaemonSet", name, namespace, timeout=90)
        after = _row(namespace, small_node)
        # Other namespaces' DaemonSets may reach the node too: at least these pods are there.
        assert after["pods"] >= 2 and after["cpu_percent"] >= 55 and after["memory_percent"] >= 56

        ch.apply("daemonset-node-cache", namespace)

        def one_waits_for_the_small_node(pods: list[Obj]) -> bool:
            waiting = [p for p in pods if not p["spec"].get("nodeName")]
            return len(waiting) == 1 and any(
                c.get("type") == "PodScheduled" and c.get("status") == "False"
                for c in (waiting[0].get("status") or {}).get("conditions") or []
            )

        pods = ch.until(
            "Pod",
            namespace,
            one_waits_for_the_small_node,
            "one node-cache pod Pending, unschedulable",
            label_selector="app=node-cache",
            timeout=60,
        )
        waiting = next(p for p in pods if not p["spec"].get("nodeName"))
        scheduled = next(c for c in waiting["status"]["conditions"] if c["type"] == "PodScheduled")
        assert "Insufficient memory" in scheduled["message"]
        row = _row(namespace, small_node)
        assert row["waiting"] == "DaemonSet/node-cache (cpu 100m, memory 512Mi)"
        assert any(
            "Insufficient memory" in c for c in ch.explain(namespace, "DaemonSet", ["node-cache"])
        )
        # 576Mi requested, 448Mi left: the 512Mi pod waits. It fits every other node.
        ready_elsewhere = [
            p for p in pods if p["spec"].get("nodeName") and condition_true(p, "Ready")
        ]
        assert small_node not in {p["spec"]["nodeName"] for p in ready_elsewhere}

        def view_agrees() -> bool:
            frame = view.to_frame().set_index("node")
            return small_node in frame.index and dict(frame.loc[small_node]) == _row(
                namespace, small_node
            )

        _converge(view, view_agrees, "the same books as ch.node_requests for the small node")
        memory_waits = view.figure.data[3]  # per resource: requested, waiting
        assert memory_waits.name == "memory waiting: does not fit"
        assert small_node in list(memory_waits.y)
        assert f"waits for {small_node}" in view.legend.value
    finally:
        view.close()
