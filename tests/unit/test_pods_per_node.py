"""PodsPerNode: cards per node, chips per pod, live joins and leaves."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from fakes import DATA, ScriptedSource, recording

from course_helpers.kube._watch import WatchEvent, active_watchers, stop_watchers
from course_helpers.widgets import PodsPerNode, Replay, _pods, _pods_html
from course_helpers.widgets._palette import PHASES

NS = "course-daemonsets"
FIXTURE = DATA / "daemonset.jsonl"


def _rows(widget: PodsPerNode) -> list[tuple[object, ...]]:
    frame = widget.to_frame()
    frame["node"] = frame["node"].astype(object).where(frame["node"].notna(), None)
    return [
        (r.node, r.pod, r.phase, r.ready, r.owner_kind, r.owner_name)
        for r in frame.itertuples(index=False)
    ]


def test_final_state_of_the_recorded_demo() -> None:
    pods = PodsPerNode(NS, source=FIXTURE)
    assert pods.offline
    assert _rows(pods) == [
        ("worker-1", "log-collector-4kq7x", "Running", True, "DaemonSet", "log-collector"),
        ("worker-1", "web-0", "Running", True, "StatefulSet", "web"),
        ("worker-3", "log-collector-z5r9t", "Running", True, "DaemonSet", "log-collector"),
        ("worker-3", "backup-index-0-kz8wq", "Succeeded", False, "Job", "backup-index"),
        ("worker-3", "web-1", "Running", True, "StatefulSet", "web"),
        ("worker-4", "log-collector-h7w3c", "Running", True, "DaemonSet", "log-collector"),
        (None, "huge-cache-5d8f7-qq4lm", "Pending", False, "ReplicaSet", "huge-cache-5d8f7"),
    ]
    frame = pods.to_frame()
    assert frame.set_index("pod")["ordinal"].dropna().to_dict() == {"web-0": 0, "web-1": 1}
    assert frame.set_index("pod")["completion_index"].dropna().to_dict() == {
        "backup-index-0-kz8wq": 0
    }
    assert pods.pod_counts() == {"worker-1": 2, "worker-3": 3, "worker-4": 1, "not scheduled": 1}
    assert str(pods) == (
        "PodsPerNode in course-daemonsets: 3 nodes · 7 pods (1 Pending, 5 Running, 1 Succeeded)"
    )


def test_cards_say_phase_in_words_and_symbols_not_only_colour() -> None:
    html = PodsPerNode(NS, source=FIXTURE).board.value
    cards = re.findall(r'data-node="([^"]+)"', html)
    assert cards == ["worker-1", "worker-3", "worker-4", "not scheduled"]
    assert "▶ web-0 · Running" in html
    assert "✓ backup-index-0-kz8wq · Succeeded" in html
    assert "◌ huge-cache-5d8f7-qq4lm · Pending" in html
    assert "StatefulSet/web · ordinal 1" in html
    assert "Job/backup-index · index 0" in html
    assert "zone-c · hdd" in html
    assert "3 pods" in html
    assert "1 pod<" in html


def test_nodes_join_and_leave_during_the_replay() -> None:
    replay = Replay(FIXTURE)
    pods = PodsPerNode(NS, source=[])
    replay.seek(pods, 1.02)  # the first agent exists but is not scheduled yet
    assert pods.pod_counts() == {"worker-1": 0, "worker-2": 0, "worker-3": 0, "not scheduled": 1}

    replay.seek(pods, 15.0)
    assert list(pods.pod_counts()) == [
        "worker-1",
        "worker-2",
        "worker-3",
        "worker-4",
        "not scheduled",
    ]
    assert pods.pod_counts()["worker-4"] == 1

    replay.seek(pods, 20.5)
    frame = pods.to_frame().set_index("pod")
    assert frame.loc["log-collector-b8m2n", "phase"] == "Terminating"
    assert "⊘ log-collector-b8m2n · Terminating" in pods.board.value

    replay.seek(pods, 21.2)  # the pod is gone, the node not yet
    assert pods.pod_counts()["worker-2"] == 0

    replay.seek(pods, None)
    assert "worker-2" not in pods.pod_counts()


def test_running_but_not_ready_is_marked() -> None:
    pods = PodsPerNode(NS, source=[])
    Replay(FIXTURE).seek(pods, 1.6)
    assert "log-collector-4kq7x · Running (not ready)" in pods.board.value
    assert not pods.to_frame().set_index("pod").loc["log-collector-4kq7x", "ready"]


def test_filters_by_namespace_owner_and_selector() -> None:
    everywhere = PodsPerNode(source=FIXTURE)
    assert "coredns-7db6d8ff4d-x2k9p" in set(everywhere.to_frame()["pod"])
    assert len(everywhere.to_frame()) == 8

    agents = PodsPerNode(NS, owner="DaemonSet/log-collector", source=FIXTURE)
    assert list(agents.to_frame()["pod"]) == [
        "log-collector-4kq7x",
        "log-collector-z5r9t",
        "log-collector-h7w3c",
    ]
    web = PodsPerNode(NS, owner="web", source=FIXTURE)
    assert list(web.to_frame()["pod"]) == ["web-0", "web-1"]
    wrong_kind = PodsPerNode(NS, owner="Deployment/web", source=FIXTURE)
    assert wrong_kind.to_frame().empty

    selected = PodsPerNode(NS, selector="app in (web, huge-cache)", source=FIXTURE)
    assert sorted(selected.to_frame()["pod"]) == ["huge-cache-5d8f7-qq4lm", "web-0", "web-1"]
    assert list(selected.pod_counts()) == ["worker-1", "worker-3", "worker-4", "not scheduled"]


def test_a_pod_that_stops_matching_the_selector_leaves() -> None:
    events = recording("daemonset.jsonl")
    web0 = next(e for e in reversed(events) if e.name == "web-0")
    relabelled = {**web0.object, "metadata": {**web0.object["metadata"], "labels": {"app": "x"}}}
    pods = PodsPerNode(NS, selector="app=web", source=events)
    assert "web-0" in set(pods.to_frame()["pod"])
    pods.feed([dataclasses.replace(web0, type="MODIFIED", object=relabelled)])
    assert "web-0" not in set(pods.to_frame()["pod"])


def test_snapshot_and_mimebundle_have_static_html() -> None:
    pods = PodsPerNode(NS, source=FIXTURE)
    snap = pods.snapshot()
    assert snap.figure is None
    assert snap.frame.equals(pods.to_frame())
    bundle = snap._repr_mimebundle_()
    assert "web-0 · Running" in bundle["text/html"]
    assert bundle["text/plain"].startswith("PodsPerNode in course-daemonsets")
    live = pods._repr_mimebundle_()
    assert set(live) == {"application/vnd.jupyter.widget-view+json", "text/html", "text/plain"}
    assert "worker-4" in live["text/html"]
    assert "▷ offline (recorded)" in pods.status.value


def test_live_widget_fed_by_watch_threads_and_flush() -> None:
    source = ScriptedSource.from_file()
    pods = PodsPerNode("course-statefulsets", source=source, loop=None)
    try:
        assert not pods.offline
        assert [w.kind for w in pods.watchers] == ["Pod", "Node"]
        assert source.exhausted.wait(5)
        assert not pods.objects.get("Pod"), "nothing is applied before flush() without a loop"
        assert "web-0" not in pods.board.value
        assert pods.flush() == 13
        assert list(pods.to_frame()["pod"]) == ["web-0", "web-3", "web-4"]
        assert pods.pod_counts() == {"not scheduled": 3}
        assert "● live" in pods.status.value
    finally:
        pods.close()
    assert all(not w.running for w in pods.watchers)
    assert "closed" in pods.status.value


def test_stop_watchers_of_the_namespace_stops_the_widgets_node_watcher_too() -> None:
    source = ScriptedSource({"kind": "Job", "lists": [], "watches": []})
    pods = PodsPerNode("course-x", source=source)
    try:
        assert {w.kind for w in active_watchers("course-x")} == {"Pod", "Node"}
        assert stop_watchers("course-x") == 2
        pods.flush()
        assert "■ stopped" in pods.status.value
    finally:
        pods.close()


def test_events_for_other_kinds_are_ignored() -> None:
    pods = PodsPerNode(NS, source=[])
    job = WatchEvent("Job", "ADDED", {"metadata": {"name": "x", "namespace": NS}}, 1.0)
    pods.feed([job])
    assert pods.to_frame().empty
    assert "Job" not in {k for k, v in pods.objects.items() if v}


def test_the_docs_name_the_symbols_the_chips_show() -> None:
    doc = " ".join((PodsPerNode.__doc__ or "").split())
    listed = dict(re.findall(r"\b(Pending|Running|Succeeded|Failed|Terminating) (\S)", doc))
    assert set(listed) == {"Pending", "Running", "Succeeded", "Failed", "Terminating"}
    assert listed == {phase: PHASES[phase].symbol for phase in listed}
    assert "▷" in doc, "the not-ready mark is documented too"
    # ⏻ was dropped for ⊘: no installed font draws it
    for module in (_pods, _pods_html):
        assert "⏻" not in Path(module.__file__).read_text(encoding="utf-8")


def _many_nodes(nodes: int, pending_on: int | None = None) -> list[WatchEvent]:
    """``nodes`` Ready nodes, one DaemonSet pod Running on each (Pending on ``pending_on``)."""
    events = []
    for i in range(nodes):
        node = {
            "metadata": {"name": f"kwok-{i}", "uid": f"n{i}"},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        }
        events.append(WatchEvent("Node", "ADDED", node, 100.0))
    for i in range(nodes):
        phase = "Pending" if i == pending_on else "Running"
        pod = {
            "metadata": {
                "name": f"agent-{i}",
                "namespace": NS,
                "uid": f"p{i}",
                "ownerReferences": [{"kind": "DaemonSet", "name": "agent", "controller": True}],
            },
            "spec": {"nodeName": f"kwok-{i}"},
            "status": {"phase": phase},
        }
        events.append(WatchEvent("Pod", "ADDED", pod, 101.0))
    return events


def test_many_nodes_turn_compact_tiles_with_counts() -> None:
    board = PodsPerNode(NS, source=_many_nodes(300, pending_on=7))
    assert board.is_compact()
    html = board.board.value
    assert html.count('class="course-node course-tile"') == 300
    assert "299 nodes with 1 pod" not in html  # counted by pods per node, not by phase
    assert "300 nodes with 1 pod" in html
    tile = re.search(
        r'<div class="course-node course-tile" data-node="kwok-7"[^>]*>.*?</div></div>', html
    )
    assert tile and "◌" in tile.group(0) and 'data-pods="1"' in tile.group(0)
    assert "agent-7 (Pending)" in tile.group(0), "hover names the pods"
    assert len(html) < 300 * 700, "a tile is small"
    small = PodsPerNode(NS, source=_many_nodes(3))
    assert not small.is_compact() and "course-tile" not in small.board.value
    assert PodsPerNode(NS, source=_many_nodes(3), compact=True).is_compact()


def test_a_change_redraws_only_its_node() -> None:
    events = _many_nodes(50)
    board = PodsPerNode(NS, source=events)
    before = dict(board._html)
    pod = events[50 + 9].object
    gone = {**pod, "status": {"phase": "Failed"}}
    board.feed([WatchEvent("Pod", "MODIFIED", gone, 102.0)])
    changed = {k for k in board._html if board._html[k] != before.get(k)}
    assert changed == {("kwok-9", True)}
    assert "✗" in board._html[("kwok-9", True)]
    board.feed([WatchEvent("Node", "DELETED", events[9].object, 103.0)])
    assert "node gone" in board._html[("kwok-9", True)]
    assert board.pod_counts()["kwok-9"] == 1, "a gone node with pods stays until they go"
