"""A recording made on the embedded kwok cluster, replayed into the widgets.

``data/kwok-statefulset-job.jsonl.gz`` was captured with ``Recorder`` from the
live widgets while ``statefulset-web`` scaled 0 -> 3 -> 1 and ``job-parallel``
ran (6 completions, 3 at a time). It checks the widgets against what a real
API server sends, not only against hand-written objects.
"""

from __future__ import annotations

import pytest
from fakes import DATA

from course_helpers.widgets import EventFeed, JobProgress, PodsPerNode, Replay, StatefulSetOrder

NS = "course-widgets-smoke"
FIXTURE = DATA / "kwok-statefulset-job.jsonl.gz"


def test_recording_loads() -> None:
    replay = Replay(FIXTURE)
    assert len(replay) == 128
    assert replay.duration == pytest.approx(16.6, abs=0.1)
    kinds = {e.kind for e in replay.events}
    assert kinds == {"Node", "Pod", "StatefulSet", "PersistentVolumeClaim", "Event", "Job"}
    assert all("managedFields" not in e.object["metadata"] for e in replay.events)


def test_statefulset_scaled_up_in_order_and_down_in_reverse() -> None:
    order = StatefulSetOrder("web", NS, source=FIXTURE)
    frame = order.to_frame()
    assert frame["pod"].tolist() == ["web-0", "web-1", "web-2"]
    assert frame["created"].tolist() == [0.0, 2.0, 3.0]
    assert frame["ready"].tolist() == [2.0, 3.0, 4.0]
    # OrderedReady: each pod is created once the one before it is Ready
    assert (frame["created"].iloc[1:].values >= frame["ready"].iloc[:-1].values).all()
    # scale-down: web-2 goes first, then web-1; web-0 stays
    assert frame["deletion"].tolist()[1:] == [6.0, 5.0]
    assert frame["deleted"].isna().tolist() == [True, False, False]
    assert frame["pvc_phase"].tolist() == ["Bound", "Bound", "Bound"]
    assert order.chart_title() == "StatefulSet web: 1/1 ready · OrderedReady"


def test_job_never_exceeds_its_parallelism_and_completes() -> None:
    progress = JobProgress("render-frames-parallel", NS, source=FIXTURE)
    frame = progress.to_frame()
    assert frame["active"].max() == 3
    assert frame["succeeded"].is_monotonic_increasing
    assert frame["succeeded"].iloc[-1] == 6
    assert frame["failed"].max() == 0
    assert progress.panel_title("render-frames-parallel") == (
        "render-frames-parallel: Complete, 6/6, parallelism 3"
    )


def test_pods_per_node_and_events() -> None:
    pods = PodsPerNode(NS, source=FIXTURE)
    frame = pods.to_frame()
    assert list(pods.pod_counts()) == ["worker-1", "worker-2", "worker-3"]
    assert sum(pods.pod_counts().values()) == 7
    assert frame["phase"].value_counts().to_dict() == {"Succeeded": 6, "Running": 1}
    assert frame[frame.owner_kind == "StatefulSet"]["pod"].tolist() == ["web-0"]

    feed = EventFeed(NS, source=FIXTURE)
    events = feed.to_frame()
    warnings = events[events.type == "Warning"]
    assert sorted(warnings["object"]) == ["Pod/web-0", "Pod/web-1", "Pod/web-2"]
    assert set(warnings["reason"]) == {"FailedScheduling"}
    assert warnings["count"].min() >= 2, "repeated FailedScheduling folded into one row"
    assert events["last_seen"].is_monotonic_decreasing
