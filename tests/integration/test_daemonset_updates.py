"""DaemonSet updates on the embedded cluster: surge, undo, OnDelete, and the revisions read back.

The revision numbers come from the real DaemonSet controller and the real
``kubectl rollout undo``; ``ch.revisions`` and ``PodsPerNode(revisions=True)``
only read them.
"""

from __future__ import annotations

from typing import Any

import pytest
from kubectl_support import kubectl_run
from test_widgets_live import _converge

import course_helpers as ch
from course_helpers.widgets import PodsPerNode

pytestmark = pytest.mark.integration
Obj = dict[str, Any]


def _ready_nodes() -> set[str]:
    table = ch.nodes()
    return set(table[table["ready"] & (table["taints"] == "")]["node"])


def _by_revision(kind: str, name: str, namespace: str) -> dict[int, tuple[int, str]]:
    """Return {revision: (how many pods run it, its template's image)}, read from the cluster."""
    pods = ch.revisions(kind, name, namespace)
    assert not pods["revision"].isna().any(), pods
    history = ch.revision_history(kind, name, namespace, pods=True)
    counted = {int(r.revision): (int(r.pods), str(r.image)) for r in history.itertuples()}
    per_pod = pods["revision"].value_counts().to_dict()
    assert {n: c for n, (c, _) in counted.items() if c} == per_pod, "the two readouts agree"
    return counted


def test_surge_rollout_then_undo_gives_the_old_template_the_next_number(namespace: str) -> None:
    nodes = _ready_nodes()
    ch.apply("daemonset-log-collector", namespace)
    ch.blocking.rollout_status("DaemonSet", "log-collector", namespace, timeout=60)
    view = PodsPerNode(namespace, owner="DaemonSet/log-collector", revisions=True, loop=None)
    try:
        assert view.wait_synced(15)
        ch.apply("daemonset-log-collector-v2", namespace)
        ch.blocking.rollout_status("DaemonSet", "log-collector", namespace, timeout=90)
        assert _by_revision("DaemonSet", "log-collector", namespace) == {
            1: (0, "fluent/fluent-bit:3.2"),
            2: (len(nodes), "fluent/fluent-bit:4.0"),
        }
        history = kubectl_run("rollout", "history", "daemonset/log-collector", "-n", namespace)
        assert "fluent-bit 4.0, new pod beside the old one" in history

        kubectl_run("rollout", "undo", "daemonset/log-collector", "-n", namespace)
        ch.blocking.rollout_status("DaemonSet", "log-collector", namespace, timeout=90)
        table = _by_revision("DaemonSet", "log-collector", namespace)
        # Read the numbers from the cluster rather than assume them: the revision whose
        # template the undo restored is the newest one, one above the 4.0 revision.
        restored = next(n for n, (_, image) in table.items() if image.endswith(":3.2"))
        replaced = next(n for n, (_, image) in table.items() if image.endswith(":4.0"))
        assert sorted(table) == [2, 3]
        assert restored == replaced + 1 == max(table)
        assert table[restored][0] == len(nodes) and table[replaced][0] == 0
        history = kubectl_run("rollout", "history", "daemonset/log-collector", "-n", namespace)
        assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["2", "3"]

        # The live view agrees, node by node, once it has caught up with the watch.
        def all_on_revision_3() -> bool:
            frame = view.to_frame()
            return set(frame["node"]) == nodes and list(frame["revision"]) == [3] * len(nodes)

        _converge(view, all_on_revision_3, "every node's pod on revision 3")
        assert view.to_frame()["updated"].all()
        assert "rev 3 · updated" in view.snapshot().html
        assert "rev 3 (updated): " in view.status.value
    finally:
        view.close()


def test_on_delete_replaces_only_the_pod_you_delete(namespace: str) -> None:
    nodes = _ready_nodes()
    ch.apply("daemonset-storage-daemon", namespace)
    ch.blocking.rollout_status("DaemonSet", "storage-daemon", namespace, timeout=60)
    ch.patch(
        "DaemonSet",
        "storage-daemon",
        namespace,
        {"spec": {"updateStrategy": {"type": "OnDelete", "rollingUpdate": None}}},
    )
    kubectl_run(
        "set", "image", "daemonset/storage-daemon", "storage-daemon=busybox:1.36", "-n", namespace
    )
    ch.blocking.wait_for(
        "ControllerRevision", None, namespace, "create", selector="app=storage-daemon", count=2
    )
    table = _by_revision("DaemonSet", "storage-daemon", namespace)
    assert table == {1: (len(nodes), "busybox:1.37"), 2: (0, "busybox:1.36")}
    with pytest.raises(ch.WaitFailed, match="only available for RollingUpdate"):
        ch.blocking.rollout_status("DaemonSet", "storage-daemon", namespace, timeout=10)

    victim = ch.pods(namespace, label_selector="app=storage-daemon")["pod"][0]
    kubectl_run("delete", "pod", victim, "-n", namespace)
    ch.blocking.wait_for(
        "Pod", None, namespace, selector="app=storage-daemon", count=len(nodes), timeout=60
    )
    table = _by_revision("DaemonSet", "storage-daemon", namespace)
    assert table == {1: (len(nodes) - 1, "busybox:1.37"), 2: (1, "busybox:1.36")}


def test_both_limits_zero_or_both_set_are_refused(namespace: str) -> None:
    ch.apply("daemonset-log-collector", namespace)
    for limits, message in (
        ({"maxSurge": 0, "maxUnavailable": 0}, "cannot be 0 when maxSurge is 0"),
        ({"maxSurge": 1, "maxUnavailable": 1}, "may not be set when maxUnavailable is non-zero"),
    ):
        change = {"spec": {"updateStrategy": {"rollingUpdate": limits}}}
        with pytest.raises(ch.ManifestError, match=message):
            ch.patch("DaemonSet", "log-collector", namespace, change)
