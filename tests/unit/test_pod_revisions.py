"""Which revision each DaemonSet pod runs: the revision index, ch.revisions, PodsPerNode."""

from __future__ import annotations

import re
from typing import Any

from course_helpers.kube._revisions import Revisions, revision_frame
from course_helpers.kube._watch import WatchEvent
from course_helpers.widgets import PodsPerNode

NS = "course-daemonsets"
DS_UID = "ds-uid"
OWNER = [{"kind": "DaemonSet", "name": "agent", "uid": DS_UID, "controller": True}]
NODES = ("worker-1", "worker-2", "worker-3")
Obj = dict[str, Any]


def _revision(hash_: str, number: int, image: str, owner: list[Obj] = OWNER) -> Obj:
    return {
        "metadata": {
            "name": f"agent-{hash_}",
            "namespace": NS,
            "uid": f"cr-{hash_}",
            "labels": {"app": "agent", "controller-revision-hash": hash_},
            "ownerReferences": owner,
        },
        "revision": number,
        "data": {"spec": {"template": {"spec": {"containers": [{"image": image}]}}}},
    }


def _pod(name: str, node: str, hash_: str, *, deleting: bool = False) -> Obj:
    meta: Obj = {
        "name": name,
        "namespace": NS,
        "uid": f"uid-{name}",
        "labels": {"app": "agent", "controller-revision-hash": hash_},
        "ownerReferences": OWNER,
    }
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "metadata": meta,
        "spec": {"nodeName": node},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    }


def _node(name: str) -> Obj:
    return {
        "metadata": {"name": name, "uid": f"n-{name}"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


def _event(kind: str, obj: Obj, t: float, type_: str = "ADDED") -> WatchEvent:
    return WatchEvent(kind, type_, obj, t)


def _start() -> list[WatchEvent]:
    """Three nodes, revision 1 (hash aaaa) on each, as after the first apply."""
    events = [_event("Node", _node(n), 1.0) for n in NODES]
    events.append(_event("ControllerRevision", _revision("aaaa", 1, "busybox:1.36"), 1.0))
    events += [_event("Pod", _pod(f"agent-{i}", n, "aaaa"), 1.5) for i, n in enumerate(NODES)]
    return events


def _revisions_by_node(widget: PodsPerNode) -> dict[str, list[tuple[int, bool]]]:
    frame = widget.to_frame()
    found: dict[str, list[tuple[int, bool]]] = {}
    for row in frame.itertuples(index=False):
        found.setdefault(str(row.node), []).append((int(row.revision), bool(row.updated)))
    return found


def test_the_index_maps_a_daemonset_hash_and_a_statefulset_name() -> None:
    sts_owner = [{"kind": "StatefulSet", "name": "web", "uid": "sts", "controller": True}]
    revs = Revisions.of(
        [
            _revision("aaaa", 1, "a"),
            _revision("bbbb", 2, "b"),
            {  # a StatefulSet labels its pods with the revision's name, not a hash label
                "metadata": {"name": "web-7c9d", "ownerReferences": sts_owner},
                "revision": 4,
            },
            {"metadata": {"name": "orphan-x"}, "revision": 9},  # no owner: ignored
        ]
    )
    assert revs.revision_of(_pod("a", "w", "bbbb")) == 2
    assert revs.newest_for(_pod("a", "w", "aaaa")) == 2
    web0 = {
        "metadata": {
            "labels": {"controller-revision-hash": "web-7c9d"},
            "ownerReferences": sts_owner,
        }
    }
    assert revs.revision_of(web0) == 4
    assert revs.revision_of({"metadata": {"ownerReferences": OWNER}}) is None
    other = [{**OWNER[0], "uid": "someone-else"}]
    assert (
        revs.revision_of(
            {"metadata": {**_pod("x", "w", "aaaa")["metadata"], "ownerReferences": other}}
        )
        is None
    )


def test_a_surge_rollout_moves_node_by_node_and_the_badges_say_so() -> None:
    widget = PodsPerNode(NS, owner="DaemonSet/agent", revisions=True, source=_start())
    assert [w.kind for w in widget.watchers] == []  # offline: no watchers
    assert _revisions_by_node(widget) == {n: [(1, True)] for n in NODES}
    assert "rev 1: 3" not in widget.status.value
    assert "rev 1 (updated): 3" in widget.status.value

    # The template changes: revision 2; maxSurge 1 starts the new pod beside the old one.
    widget.feed(
        [
            _event("ControllerRevision", _revision("bbbb", 2, "busybox:1.37"), 2.0),
            _event("Pod", _pod("agent-new-0", "worker-1", "bbbb"), 2.1),
        ]
    )
    assert _revisions_by_node(widget) == {
        "worker-1": [(1, False), (2, True)],
        "worker-2": [(1, False)],
        "worker-3": [(1, False)],
    }
    card = re.search(r'data-node="worker-1".*?(?=data-node="worker-2")', widget.board.value)
    assert card is not None
    assert "rev 1 · old" in card.group(0) and "rev 2 · updated" in card.group(0)
    assert 'data-revision="2"' in card.group(0)
    assert "rev 1 (old): 3 · rev 2 (updated): 1" in widget.status.value

    # The old pod goes once the new one is available; then the other nodes.
    steps = [_event("Pod", _pod("agent-0", "worker-1", "aaaa"), 3.0, "DELETED")]
    for i, node in enumerate(NODES[1:], start=1):
        steps += [
            _event("Pod", _pod(f"agent-new-{i}", node, "bbbb"), 3.0 + i),
            _event("Pod", _pod(f"agent-{i}", node, "aaaa"), 3.5 + i, "DELETED"),
        ]
    widget.feed(steps)
    assert _revisions_by_node(widget) == {n: [(2, True)] for n in NODES}
    assert "rev 1 · old" not in widget.board.value


def test_undo_renumbers_the_old_revision_and_every_card_is_redrawn() -> None:
    events = [*_start(), _event("ControllerRevision", _revision("bbbb", 2, "busybox:1.37"), 2.0)]
    events += [
        _event("Pod", _pod(f"agent-{i}", n, "aaaa"), 2.5, "DELETED") for i, n in enumerate(NODES)
    ]
    events += [_event("Pod", _pod(f"agent-b{i}", n, "bbbb"), 3.0) for i, n in enumerate(NODES)]
    widget = PodsPerNode(NS, revisions=True, source=events)
    assert _revisions_by_node(widget) == {n: [(2, True)] for n in NODES}
    # kubectl rollout undo: the template matches revision 1 again, so the controller
    # gives that ControllerRevision the next number (3) instead of making a new one.
    widget.feed(
        [_event("ControllerRevision", _revision("aaaa", 3, "busybox:1.36"), 4.0, "MODIFIED")]
    )
    assert _revisions_by_node(widget) == {n: [(2, False)] for n in NODES}
    widget.feed([_event("Pod", _pod(f"agent-c{i}", n, "aaaa"), 5.0) for i, n in enumerate(NODES)])
    assert sorted(_revisions_by_node(widget)["worker-2"]) == [(2, False), (3, True)]
    assert "rev 3 · updated" in widget.snapshot().html


def test_compact_tiles_list_the_revisions_of_their_node() -> None:
    events = [
        *_start(),
        _event("ControllerRevision", _revision("bbbb", 2, "busybox:1.37"), 2.0),
        _event("Pod", _pod("agent-new-0", "worker-1", "bbbb"), 2.1),
    ]
    widget = PodsPerNode(NS, revisions=True, compact=True, source=events)
    html = widget.board.value
    tile = re.search(r'<div class="course-node course-tile"[^>]*data-node="worker-1"[^>]*>', html)
    assert tile and 'data-revisions="1,2"' in tile.group(0)
    assert "rev 2 · updated" in tile.group(0), "the hover text names each pod's revision"
    assert re.search(r'data-node="worker-2"[^>]*data-revisions="1"', html)
    assert "pods by revision: rev 1 (old): 3 · rev 2 (updated): 1" in html
    snapshot = widget.snapshot()
    assert 'data-revisions="1,2"' in snapshot.html
    assert snapshot.frame["revision"].tolist() == [1, 2, 1, 1]


def test_without_revisions_nothing_changes_and_no_revision_is_watched() -> None:
    widget = PodsPerNode(NS, source=_start())
    assert widget.to_frame()["revision"].isna().all()
    assert "rev " not in widget.board.value and "course-rev" not in widget.board.value
    assert [s.kind for s in widget._specs()] == ["Pod", "Node"]
    with_revisions = PodsPerNode(NS, revisions=True, source=[])
    assert [s.kind for s in with_revisions._specs()] == ["Pod", "Node", "ControllerRevision"]


def test_a_pod_whose_revision_is_not_seen_yet_says_so() -> None:
    events = [
        _event("Node", _node("worker-1"), 1.0),
        _event("Pod", _pod("agent-0", "worker-1", "cccc"), 1.0),
    ]
    widget = PodsPerNode(NS, revisions=True, source=events)
    assert "rev ?" in widget.board.value
    assert widget.to_frame()["revision"].isna().all()


def test_revision_frame_reads_a_daemonset_pods_hash_label() -> None:
    # A DaemonSet's pods carry the hash alone, which its ControllerRevisions carry as
    # the same label (a StatefulSet's pods carry the ControllerRevision's name).
    history = [_revision("bbbb", 2, "busybox:1.37"), _revision("aaaa", 3, "busybox:1.36")]
    pods = [_pod("agent-b", "worker-2", "aaaa"), _pod("agent-a", "worker-1", "bbbb")]
    frame = revision_frame(pods, history)
    assert list(zip(frame["pod"], frame["revision"], strict=True)) == [
        ("agent-a", 2),
        ("agent-b", 3),
    ]
