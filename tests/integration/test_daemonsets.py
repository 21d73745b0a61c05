"""DaemonSets on the embedded cluster, driven by the real DaemonSet controller."""

from __future__ import annotations

from typing import Any

import pytest

import course_helpers as ch
from course_helpers.kube._wait import condition_true

pytestmark = pytest.mark.integration
Obj = dict[str, Any]


def _ready_nodes() -> set[str]:
    table = ch.nodes()
    return set(table[table["ready"] & (table["taints"] == "")]["node"])


def _one_ready_pod_per_node(nodes: set[str]) -> Any:
    def check(pods: list[Obj]) -> bool:
        alive = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        placed = [p["spec"].get("nodeName") or "" for p in alive]
        return sorted(placed) == sorted(nodes) and all(condition_true(p, "Ready") for p in alive)

    return check


def test_one_ready_pod_on_every_node(namespace: str) -> None:
    ch.apply("daemonset-storage-daemon", namespace)
    nodes = _ready_nodes()
    pods = ch.until(
        "Pod",
        namespace,
        _one_ready_pod_per_node(nodes),
        "one pod per node",
        timeout=60,
        label_selector="app=storage-daemon",
    )
    assert len(pods) == len(nodes) >= 3
    table = ch.pods_per_node(namespace)
    assert set(table[table["pods"] > 0]["node"]) == nodes
    assert (table[table["node"].isin(nodes)]["pods"] == 1).all()


def test_node_joining_and_leaving(namespace: str, extra_nodes: list[str]) -> None:
    ch.apply("daemonset-storage-daemon", namespace)
    ch.until(
        "Pod",
        namespace,
        _one_ready_pod_per_node(_ready_nodes()),
        "one pod per node",
        timeout=60,
        label_selector="app=storage-daemon",
    )
    new = ch.add_node()
    extra_nodes.append(new)

    def ready_on_new(pods: list[Obj]) -> bool:
        return any(p["spec"].get("nodeName") == new and condition_true(p, "Ready") for p in pods)

    ch.until(
        "Pod",
        namespace,
        ready_on_new,
        f"a Ready pod on {new}",
        timeout=60,
        label_selector="app=storage-daemon",
    )
    ch.remove_node(new)
    # The pod garbage collector removes pods of a deleted node after a quarantine (~40-60 s).
    ch.until(
        "Pod",
        namespace,
        lambda pods: all(p["spec"].get("nodeName") != new for p in pods),
        f"the pod on {new} to be garbage-collected",
        timeout=150,
        label_selector="app=storage-daemon",
    )
    assert new not in set(ch.pods(namespace)["node"])


def test_node_selector_limits_nodes(namespace: str) -> None:
    ch.apply("daemonset-ssd-cache", namespace)
    table = ch.nodes()
    ssd = set(table[(table["disk"] == "ssd") & table["ready"] & (table["taints"] == "")]["node"])
    assert ssd and ssd != _ready_nodes(), "the default nodes mix ssd and hdd"
    ch.until(
        "Pod",
        namespace,
        _one_ready_pod_per_node(ssd),
        "one pod per SSD node",
        timeout=60,
        label_selector="app=ssd-cache",
    )
    assert set(ch.pods(namespace)["node"]) == ssd


def test_deleting_the_daemonset_deletes_its_pods(namespace: str) -> None:
    ch.apply("daemonset-storage-daemon", namespace)
    ch.until(
        "Pod",
        namespace,
        _one_ready_pod_per_node(_ready_nodes()),
        "one pod per node",
        timeout=60,
        label_selector="app=storage-daemon",
    )
    assert ch.delete("DaemonSet", "storage-daemon", namespace)
    ch.until(
        "Pod",
        namespace,
        lambda pods: not pods,
        "no pods left",
        timeout=60,
        label_selector="app=storage-daemon",
    )
    assert ch.get("DaemonSet", "storage-daemon", namespace) is None
