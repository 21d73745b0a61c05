"""Requests against allocatable: the scheduler's sums, ch.node_requests' table, NodeRequests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from course_helpers.cluster._nodes import node_body
from course_helpers.kube._requests import (
    amount_text,
    books_frame,
    counts_on_node,
    node_books,
    pod_requests,
    wanted_node,
)
from course_helpers.kube._watch import WatchEvent
from course_helpers.widgets import NodeRequests

NS = "course-daemonsets"
Obj = dict[str, Any]
Mi = 2**20


def _node(name: str, cpu: str, memory: str) -> Obj:
    return {
        "metadata": {"name": name, "uid": f"n-{name}"},
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def _pod(
    name: str,
    node: str | None,
    owner: str,
    cpu: str,
    memory: str,
    *,
    namespace: str = NS,
    phase: str = "Running",
    target: str | None = None,
    version: str = "1",
) -> Obj:
    spec: Obj = {
        "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": memory}}}]
    }
    if node:
        spec["nodeName"] = node
    if target:  # what the DaemonSet controller writes into each pod it makes
        term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [target]}]}
        required = {"nodeSelectorTerms": [term]}
        spec["affinity"] = {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}
        }
    return {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{name}",
            "resourceVersion": version,
            "ownerReferences": [
                {"kind": "DaemonSet", "name": owner, "uid": owner, "controller": True}
            ],
        },
        "spec": spec,
        "status": {"phase": phase},
    }


# -- how a pod's requests add up ----------------------------------------------------------------


def test_containers_add_up_and_init_containers_raise_the_sum() -> None:
    spec = {
        "containers": [
            {"resources": {"requests": {"cpu": "1", "memory": "64Mi"}}},
            {"resources": {"requests": {"cpu": "2"}}},
        ],
        "initContainers": [{"resources": {"requests": {"cpu": "4", "memory": "32Mi"}}}],
    }
    assert pod_requests(spec) == {"cpu": Decimal(4), "memory": Decimal(64 * Mi)}


def test_a_sidecar_adds_to_the_sum_and_to_every_init_container_after_it() -> None:
    sidecar = {"restartPolicy": "Always", "resources": {"requests": {"cpu": "200m"}}}
    before = {"resources": {"requests": {"cpu": "900m"}}}  # runs before the sidecar starts
    after = {"resources": {"requests": {"cpu": "900m"}}}  # runs beside it: 1100m
    app = {"resources": {"requests": {"cpu": "500m"}}}
    spec = {"initContainers": [before, sidecar, after], "containers": [app]}
    assert pod_requests(spec)["cpu"] == Decimal("1.1")
    spec = {"initContainers": [before, sidecar], "containers": [app]}
    assert pod_requests(spec)["cpu"] == Decimal("0.9"), "900m alone, before the sidecar"


def test_pod_level_requests_replace_cpu_and_memory_and_overhead_is_added() -> None:
    spec = {
        "containers": [{"resources": {"requests": {"cpu": "100m", "ephemeral-storage": "1Gi"}}}],
        "resources": {"requests": {"cpu": "1", "memory": "1Gi"}},
        "overhead": {"cpu": "250m"},
    }
    assert pod_requests(spec) == {
        "cpu": Decimal("1.25"),
        "memory": Decimal(2**30),
        "ephemeral-storage": Decimal(2**30),
    }


def test_a_container_resized_in_place_counts_with_the_larger_request() -> None:
    spec = {"containers": [{"name": "c", "resources": {"requests": {"cpu": "100m"}}}]}
    status = {"containerStatuses": [{"name": "c", "allocatedResources": {"cpu": "300m"}}]}
    assert pod_requests(spec, status)["cpu"] == Decimal("0.3")


def test_which_pods_count_on_a_node() -> None:
    assert counts_on_node(_pod("a", "w1", "x", "1", "1Mi"))
    assert counts_on_node(_pod("a", "w1", "x", "1", "1Mi", phase="Pending"))
    assert not counts_on_node(_pod("a", "w1", "x", "1", "1Mi", phase="Succeeded"))
    assert not counts_on_node(_pod("a", "w1", "x", "1", "1Mi", phase="Failed"))
    assert not counts_on_node(_pod("a", None, "x", "1", "1Mi", phase="Pending"))
    terminating = _pod("a", "w1", "x", "1", "1Mi")
    terminating["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert counts_on_node(terminating), "the scheduler counts it until it is gone"


def test_a_waiting_daemonset_pod_names_its_node() -> None:
    assert wanted_node(_pod("a", None, "x", "1", "1Mi", phase="Pending", target="w2")) == "w2"
    assert wanted_node(_pod("a", "w2", "x", "1", "1Mi", target="w2")) is None, "placed already"
    bare = _pod("a", None, "x", "1", "1Mi", phase="Pending", target="w2")
    bare["metadata"]["ownerReferences"] = []
    assert wanted_node(bare) is None, "only a DaemonSet pins its pods to one node this way"


def test_amounts_are_said_as_kubectl_says_them() -> None:
    assert [amount_text("cpu", Decimal(v)) for v in ("0.05", "1", "1.5", "32")] == [
        "50m",
        "1",
        "1500m",
        "32",
    ]
    assert amount_text("memory", Decimal(576 * Mi)) == "576Mi"
    assert amount_text("memory", Decimal(256 * 2**30)) == "256Gi"
    assert amount_text("memory", Decimal(1536 * Mi)) == "1536Mi"


def test_books_count_every_namespace_and_list_what_waits() -> None:
    nodes = [_node("worker-10", "32", "256Gi"), _node("worker-2", "1", "1Gi")]
    pods = [
        _pod("lc-a", "worker-10", "log-collector", "50m", "64Mi"),
        _pod("lc-b", "worker-2", "log-collector", "50m", "64Mi"),
        _pod("sc-b", "worker-2", "scanner", "500m", "512Mi"),
        _pod("x-b", "worker-2", "thing", "100m", "0", namespace="other"),
        _pod("done", "worker-2", "job", "4", "4Gi", phase="Succeeded"),
        _pod("gone", "worker-9", "log-collector", "50m", "64Mi"),  # its node was deleted
        _pod("cw-b", None, "cache-warmer", "600m", "128Mi", phase="Pending", target="worker-2"),
    ]
    books = node_books(nodes, pods, NS)
    assert list(books) == ["worker-2", "worker-10"], "natural order"
    small = books["worker-2"]
    assert small.pods == 3
    assert small.requested == {"cpu": Decimal("0.65"), "memory": Decimal(576 * Mi)}
    assert small.free("cpu") == Decimal("0.35")
    assert sorted(small.by_owner) == [
        "DaemonSet/log-collector",
        "DaemonSet/scanner",
        "other/DaemonSet/thing",
    ]
    assert small.waiting_owner == {"cw-b": "DaemonSet/cache-warmer"}
    frame = books_frame(books)
    assert frame.to_dict("records")[0] == {
        "node": "worker-2",
        "pods": 3,
        "cpu_requested": "650m",
        "cpu_allocatable": "1",
        "cpu_percent": 65,
        "memory_requested": "576Mi",
        "memory_allocatable": "1Gi",
        "memory_percent": 56,
        "waiting": "DaemonSet/cache-warmer (cpu 600m, memory 128Mi)",
    }


def test_a_smaller_node_brings_its_own_allocatable() -> None:
    body = node_body("worker-small", 4, allocatable={"cpu": "1", "memory": "1Gi"})
    assert body["status"] == {
        "allocatable": {"cpu": "1", "memory": "1Gi", "pods": "110"},
        "capacity": {"cpu": "1", "memory": "1Gi", "pods": "110"},
    }
    assert "status" not in node_body("worker-5", 5), "kwok's default stays the default"


# -- the live view -------------------------------------------------------------------------------


def _events() -> list[WatchEvent]:
    return [
        WatchEvent("Node", "ADDED", _node("worker-1", "32", "256Gi"), 1.0),
        WatchEvent("Node", "ADDED", _node("worker-small", "1", "1Gi"), 1.0),
        WatchEvent("Pod", "ADDED", _pod("lc-1", "worker-1", "log-collector", "50m", "64Mi"), 2.0),
        WatchEvent(
            "Pod", "ADDED", _pod("lc-s", "worker-small", "log-collector", "50m", "64Mi"), 2.0
        ),
        WatchEvent(
            "Pod",
            "ADDED",
            _pod("x-s", "worker-small", "thing", "100m", "0", namespace="other"),
            2.0,
        ),
    ]


def test_the_bars_stack_each_owner_in_percent_of_allocatable() -> None:
    view = NodeRequests(NS, source=_events())
    cpu_bars, cpu_waits = view.figure.data[:2]
    assert list(cpu_bars.y) == ["worker-1", "worker-small", "worker-small"]
    assert list(cpu_bars.x) == pytest.approx([50 / 32000 * 100, 5.0, 10.0])
    assert list(cpu_bars.base) == pytest.approx([0.0, 0.0, 5.0]), "stacked, owner after owner"
    assert list(cpu_bars.marker.color) == [view.colour("DaemonSet/log-collector")] * 2 + ["#999999"]
    assert not cpu_waits.x
    # The amounts go under each node's name, where no chart width cuts them.
    assert list(view.figure.layout.yaxis.tickvals) == ["worker-1", "worker-small"]
    small = view.figure.layout.yaxis.ticktext[1]
    assert small.startswith("worker-small<br>")
    assert ">cpu 150m of 1</span>" in small and ">memory 64Mi of 1Gi</span>" in small
    assert len(view.figure.data) == 4, "two traces a panel: requests and what waits"
    memory_bars = view.figure.data[2]
    assert list(memory_bars.x) == pytest.approx([64 / (256 * 1024) * 100, 6.25])
    segments = view.segments().set_index(["node", "owner"])
    assert segments.loc[("worker-small", "other namespaces"), "cpu_percent"] == pytest.approx(10)
    assert "DaemonSet/log-collector (one pod: cpu 50m, memory 64Mi)" in view.legend.value
    assert "2 nodes · 3 pods counted" in view.status.value


def test_a_daemonset_that_does_not_fit_waits_hatched_past_the_line() -> None:
    view = NodeRequests(NS, source=_events())
    big = _pod("sc-s", "worker-small", "scanner", "500m", "512Mi")
    waiting = _pod(
        "cw-s", None, "cache-warmer", "600m", "128Mi", phase="Pending", target="worker-small"
    )
    view.feed([WatchEvent("Pod", "ADDED", big, 3.0), WatchEvent("Pod", "ADDED", waiting, 3.1)])
    cpu_waits = view.figure.data[1]
    assert list(cpu_waits.y) == ["worker-small"]
    assert list(cpu_waits.base) == pytest.approx([65.0]) and list(cpu_waits.x) == pytest.approx(
        [60.0]
    )
    assert "cw-s waits: asks 600m cpu, 350m left" in cpu_waits.hovertext[0]
    assert view.figure.layout.xaxis.range[1] >= 125, "the axis shows how far past 100 % it goes"
    assert (
        "does not fit: DaemonSet/cache-warmer pod cw-s waits for worker-small" in view.legend.value
    )
    assert "1 waiting: does not fit" in view.status.value
    row = view.to_frame().set_index("node").loc["worker-small"]
    assert row["cpu_percent"] == 65 and row["waiting"].startswith("DaemonSet/cache-warmer")

    # The scanner goes: now the cache warmer fits, and the scheduler binds it.
    placed = {**waiting, "spec": {**waiting["spec"], "nodeName": "worker-small"}}
    placed["metadata"] = {**waiting["metadata"], "resourceVersion": "2"}
    view.feed([WatchEvent("Pod", "DELETED", big, 4.0), WatchEvent("Pod", "MODIFIED", placed, 4.1)])
    row = view.to_frame().set_index("node").loc["worker-small"]
    assert (row["cpu_requested"], row["cpu_percent"], row["waiting"]) == ("750m", 75, "")
    assert not view.figure.data[1].x
    assert "uid-sc-s" not in view._asks, "a deleted pod's requests are forgotten"


def test_a_node_that_leaves_takes_its_bar_and_a_snapshot_is_static() -> None:
    events = _events()
    view = NodeRequests(NS, source=events)
    view.feed([WatchEvent("Node", "DELETED", events[1].object, 5.0)])
    assert list(view.to_frame()["node"]) == ["worker-1"]
    assert list(view.figure.data[0].y) == ["worker-1"]
    assert list(view.figure.layout.yaxis.tickvals) == ["worker-1"]
    snapshot = view.snapshot()
    assert snapshot.figure is not None and "cpu_requested" in snapshot.html
    assert snapshot.frame.equals(view.to_frame())


def test_without_a_namespace_every_owner_has_its_own_colour_and_namespace() -> None:
    view = NodeRequests(source=_events())
    owners = set(view.segments()["owner"])
    assert owners == {f"{NS}/DaemonSet/log-collector", "other/DaemonSet/thing"}
    assert [s.kind for s in view._specs()] == ["Pod", "Node"]
    assert all(s.namespace is None for s in view._specs()), "every namespace counts"
