"""Recordings made on the embedded kwok cluster, replayed into the widgets.

Both were captured with ``Recorder`` from the live widgets, so they check the
widgets against what a real API server sends, not only hand-written objects:

- ``kwok-statefulset-job.jsonl.gz``: ``statefulset-web`` scaled 0 -> 3 -> 1
  while ``job-parallel`` ran (6 completions, 3 at a time);
- ``kwok-cronjob-daemonset.jsonl.gz``: ``cronjob-backup`` (every minute, keeps
  one succeeded Job) ran twice next to ``daemonset-log-collector``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fakes import DATA

from course_helpers.widgets import (
    CronJobTimeline,
    EventFeed,
    JobProgress,
    PodsPerNode,
    Replay,
    StatefulSetOrder,
)

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


CRON = DATA / "kwok-cronjob-daemonset.jsonl.gz"
CRON_NS = "course-widgets-cron"


def _utc(hh_mm_ss: str) -> datetime:
    h, m, s = (int(x) for x in hh_mm_ss.split(":"))
    return datetime(2026, 11, 28, h, m, s, tzinfo=UTC)


def test_cronjob_history_limit_prunes_the_older_run() -> None:
    timeline = CronJobTimeline("backup", CRON_NS, source=CRON)
    frame = timeline.to_frame()
    assert frame[["job", "outcome", "removed"]].values.tolist() == [
        ["backup-29930602", "Complete", True],
        ["backup-29930603", "Complete", False],
    ]
    assert [t.to_pydatetime() for t in frame["scheduled"]] == [_utc("03:22:00"), _utc("03:23:00")]
    fired, upcoming = timeline.ticks()
    assert fired == [_utc("03:22:00"), _utc("03:23:00")]
    assert upcoming == [_utc("03:24:00"), _utc("03:25:00"), _utc("03:26:00")]
    assert timeline.chart_title() == (
        "CronJob backup: schedule * * * * * · in the local zone of the cluster (unknown here: "
        "drawn as UTC) · keeps 1 succeeded, 1 failed · last scheduled 03:23:00"
    )


def test_daemonset_runs_one_pod_per_node() -> None:
    agents = PodsPerNode(CRON_NS, owner="DaemonSet/log-collector", source=CRON)
    assert agents.pod_counts() == {"worker-1": 1, "worker-2": 1, "worker-3": 1}
    assert set(agents.to_frame()["phase"]) == {"Running"}
    everything = PodsPerNode(CRON_NS, source=CRON)
    owners = everything.to_frame()["owner_name"].tolist()
    assert "backup-29930602" not in owners, "the pruned Job's pod went with it"
    assert "backup-29930603" in owners
