"""PodsPerNode and the embedded cluster at hundreds of nodes.

Prints:
(a) cost per event of PodsPerNode in Python for a DaemonSet over 3, 200 and 500
    nodes (synthetic events: a node each, a pod each going Pending -> Running ->
    Ready, then churn: a pod changing phase), fed one event per redraw (the worst
    case), for the compact tiles (chosen by size above 12 nodes) beside the cards
    (``compact=False``, the baseline: what a board of 500 cards costs);
(b) with ``--cluster``: the embedded cluster scaled to ``--nodes`` simulated nodes
    (``ch.scale_nodes``), how long that and a DaemonSet's rollout over them take,
    and the cluster's memory (RSS and PSS of etcd, kube-apiserver, the controller
    manager, the scheduler, kwok, CoreDNS and the pod log writer) at 3 nodes and
    at ``--nodes``, beside each other; then back to 3 nodes.

Run: ``COURSE_CLUSTER=embedded .venv/bin/python benchmarks/scale.py [--cluster] [--nodes 500]``
(the cluster must be up for ``--cluster``). Target: < 5 ms per event at 500 nodes.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from course_helpers.kube._watch import WatchEvent
from course_helpers.widgets import PodsPerNode

Obj = dict[str, Any]
NS = "bench-scale"
CLUSTER = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")


def _node(i: int) -> Obj:
    return {
        "metadata": {
            "name": f"worker-{i}",
            "uid": f"n{i}",
            "labels": {"topology.kubernetes.io/zone": f"zone-{'abc'[i % 3]}"},
        },
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


def _pod(i: int, phase: str, ready: bool, node: bool = True) -> Obj:
    return {
        "metadata": {
            "name": f"agent-{i:04d}",
            "namespace": NS,
            "uid": f"p{i}",
            "ownerReferences": [{"kind": "DaemonSet", "name": "agent", "controller": True}],
        },
        "spec": {"nodeName": f"worker-{i}"} if node else {},
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def _events(nodes: int) -> tuple[list[WatchEvent], list[WatchEvent]]:
    """Return (the nodes' events, a DaemonSet's pod events: rollout, then churn)."""
    t = 1_780_000_000.0
    node_events = [WatchEvent("Node", "ADDED", _node(i), t) for i in range(nodes)]
    pods: list[WatchEvent] = []
    for step, (kind, phase, ready, placed) in enumerate(
        [
            ("ADDED", "Pending", False, False),
            ("MODIFIED", "Pending", False, True),
            ("MODIFIED", "Running", False, True),
            ("MODIFIED", "Running", True, True),
        ]
    ):
        pods += [
            WatchEvent("Pod", kind, _pod(i, phase, ready, placed), t + step) for i in range(nodes)
        ]
    pods += [
        WatchEvent("Pod", "MODIFIED", _pod(i, "Failed" if k % 2 else "Running", True), t + 5 + k)
        for k in range(2)
        for i in range(nodes)
    ]
    return node_events, pods


def cost_per_event(nodes: int, compact: bool | None) -> tuple[float, float, int]:
    """Return (ms per event fed one by one, ms per full redraw, bytes of the board's HTML)."""
    node_events, pod_events = _events(nodes)
    board = PodsPerNode(NS, source=[], compact=compact)
    board.feed(node_events)
    started = time.perf_counter()
    for event in pod_events:
        board.feed([event])
    per_event = (time.perf_counter() - started) / len(pod_events) * 1e3
    assert sum(board.pod_counts().values()) == nodes
    board._html.clear()
    started = time.perf_counter()
    board._render_all()
    redraw = (time.perf_counter() - started) * 1e3
    size = len(board.board.value)
    board.close()
    return per_event, redraw, size


def python_costs() -> None:
    print("(a) PodsPerNode in Python, one event per redraw (the worst case)")
    print(f"  {'nodes':>5} {'form':>7} {'ms/event':>9} {'full redraw ms':>15} {'HTML kB':>8}")
    for nodes in (3, 200, 500):
        for compact in (None, False):
            per_event, redraw, size = cost_per_event(nodes, compact)
            form = "auto" if compact is None else "cards"
            if compact is None:
                form = "tiles" if nodes > 12 else "cards"
            label = form + ("" if compact is None else " (baseline)")
            if compact is False and nodes <= 12:
                continue
            print(
                f"  {nodes:>5} {label:>18} {per_event:>9.3f} {redraw:>15.2f} {size / 1e3:>8.1f}"
                + ("   target < 5 ms" if nodes == 500 and compact is None else "")
            )


# -- (b) the cluster at scale --------------------------------------------------------------


def _kb(pid: int, path: str, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def cluster_memory(state: Path) -> dict[str, tuple[float, float]]:
    """Return each cluster process's (RSS, PSS) in MB."""
    files = [
        *(state / "kwok/clusters/course/pids").glob("*.pid"),
        state / "coredns/coredns.pid",
        state / "podlogs/podlogs.pid",
    ]
    found: dict[str, tuple[float, float]] = {}
    for f in files:
        if not f.exists():
            continue
        pid = int(f.read_text())
        name = f.stem if f.parent.name == "pids" else f.parent.name
        rss = _kb(pid, "status", "VmRSS:") / 1024
        pss = _kb(pid, "smaps_rollup", "Pss:") / 1024
        found[name] = (rss, pss)
    return found


def at_scale(nodes: int) -> None:
    import course_helpers as ch
    from course_helpers.cluster._paths import state_dir
    from course_helpers.kube._namespaces import delete_namespace

    info = ch.connect(log=lambda _m: None)
    ch.echo(False)
    assert info.embedded, "run against the embedded cluster (COURSE_CLUSTER=embedded)"
    state = state_dir()
    ch.scale_nodes(3)
    before = cluster_memory(state)
    ns = ch.namespace("bench-scale")
    try:
        started = time.perf_counter()
        added, _ = ch.scale_nodes(nodes, timeout=600)
        joined = time.perf_counter() - started
        started = time.perf_counter()
        ch.apply("daemonset-log-collector", ns)
        ch.pods_ready(ns, nodes, label_selector="app=log-collector", timeout=900)
        rolled = time.perf_counter() - started
        time.sleep(5)
        after = cluster_memory(state)
    finally:
        delete_namespace(ns, wait=False)
        started = time.perf_counter()
        ch.scale_nodes(3, timeout=600)
        left = time.perf_counter() - started
    print(f"\n(b) the embedded cluster at {nodes} nodes")
    print(f"  {len(added)} nodes joined and Ready in {joined:.1f} s")
    print(f"  a DaemonSet's {nodes} pods Ready in {rolled:.1f} s")
    print(f"  back to 3 nodes in {left:.1f} s")
    big = f"at {nodes}"
    print(f"  {'process':<26} {'RSS at 3':>9} {big:>9} {'PSS at 3':>9} {big:>9}")
    for name in sorted(set(before) | set(after)):
        b, a = before.get(name, (0.0, 0.0)), after.get(name, (0.0, 0.0))
        print(f"  {name:<26} {b[0]:>9.0f} {a[0]:>9.0f} {b[1]:>9.0f} {a[1]:>9.0f}")
    rss3, pss3, rss, pss = (sum(v[k] for v in d.values()) for d in (before, after) for k in (0, 1))
    print(f"  {'total (MB)':<26} {rss3:>9.0f} {rss:>9.0f} {pss3:>9.0f} {pss:>9.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cluster", action="store_true", help="also scale the embedded cluster")
    parser.add_argument("--nodes", type=int, default=500)
    args = parser.parse_args()
    python_costs()
    if args.cluster:
        at_scale(args.nodes)


if __name__ == "__main__":
    main()
