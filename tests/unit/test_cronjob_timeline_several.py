"""CronJobTimeline with several CronJobs: concurrency policies, manual runs, late starts.

The events are what the v1.36 CronJob controller did on the embedded cluster for three
every-minute CronJobs whose Jobs run 70 s (notebook 03): Allow started a second Job at
the second tick, Forbid held the tick back until its first Job ended, Replace deleted its
running Job and started the next.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from course_helpers.kube._watch import WatchEvent
from course_helpers.widgets import CronJobTimeline
from course_helpers.widgets._cron_draw import BASE_HEIGHT, LATE_TRACE

NS = "course-cronjobs"
T1 = datetime(2026, 12, 2, 5, 57, tzinfo=UTC)
T2 = T1 + timedelta(minutes=1)
Obj = dict[str, Any]


def z(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def cronjob(name: str, policy: str, *, suspend: bool = False, keep: int = 3) -> Obj:
    return {
        "metadata": {
            "name": name,
            "namespace": NS,
            "uid": f"uid-{name}",
            "creationTimestamp": z(T1 - timedelta(seconds=20)),
        },
        "spec": {
            "schedule": "* * * * *",
            "concurrencyPolicy": policy,
            "suspend": suspend,
            "successfulJobsHistoryLimit": keep,
            "jobTemplate": {"spec": {}},
        },
        "status": {},
    }


def job(
    cronjob_name: str,
    tick: datetime | None,
    started: datetime,
    finished: datetime | None = None,
    *,
    name: str | None = None,
) -> Obj:
    annotations = {}
    if tick is not None:
        annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"] = z(tick)
    else:
        annotations["cronjob.kubernetes.io/instantiate"] = "manual"
    job_name = name or f"{cronjob_name}-{int(tick.timestamp()) // 60 if tick else 0}"
    status: Obj = {"startTime": z(started)}
    if finished is not None:
        status["completionTime"] = z(finished)
        status["conditions"] = [
            {"type": "Complete", "status": "True", "lastTransitionTime": z(finished)}
        ]
    return {
        "metadata": {
            "name": job_name,
            "namespace": NS,
            "uid": f"uid-{job_name}",
            "creationTimestamp": z(started),
            "annotations": annotations,
            "ownerReferences": [
                {"kind": "CronJob", "name": cronjob_name, "controller": True, "uid": "x"}
            ],
        },
        "status": status,
    }


def ev(kind: str, type_: str, obj: Obj, at: datetime) -> WatchEvent:
    return WatchEvent(kind, type_, obj, at.timestamp())


def concurrency_events() -> list[WatchEvent]:
    """Two ticks of Allow, Forbid and Replace, and Forbid's late start, as on the cluster."""
    s = timedelta(seconds=1)
    events = [
        ev("CronJob", "ADDED", cronjob(f"export-{p.lower()}", p), T1 - 20 * s)
        for p in ("Allow", "Forbid", "Replace")
    ]
    for policy in ("allow", "forbid", "replace"):
        events.append(ev("Job", "ADDED", job(f"export-{policy}", T1, T1), T1))
    # the second tick: Allow starts another, Forbid holds it back, Replace replaces
    events.append(ev("Job", "ADDED", job("export-allow", T2, T2), T2))
    events.append(ev("Job", "DELETED", job("export-replace", T1, T1), T2 + s))
    events.append(ev("Job", "ADDED", job("export-replace", T2, T2), T2 + s))
    # 12 s later the first runs end; Forbid starts the held-back tick's Job then
    end = T2 + 12 * s
    events.append(ev("Job", "MODIFIED", job("export-allow", T1, T1, end), end))
    events.append(ev("Job", "MODIFIED", job("export-forbid", T1, T1, end), end))
    events.append(ev("Job", "ADDED", job("export-forbid", T2, end), end + s))
    return events


def test_several_cronjobs_share_one_chart_each_with_its_rows() -> None:
    names = ["export-allow", "export-forbid", "export-replace"]
    timeline = CronJobTimeline(names, NS, source=concurrency_events(), cluster_zone="UTC")
    frame = timeline.to_frame()
    assert frame.groupby("cronjob").size().to_dict() == {
        "export-allow": 2,
        "export-forbid": 2,
        "export-replace": 2,
    }
    rows = list(timeline.figure.layout.yaxis.categoryarray)
    # top to bottom: each CronJob's schedule row, then its runs, newest first
    assert rows[::-1] == [
        "export-allow (Allow)",
        "export-allow-29936518",
        "export-allow-29936517",
        "export-forbid (Forbid)",
        "export-forbid-29936518",
        "export-forbid-29936517",
        "export-replace (Replace)",
        "export-replace-29936518",
        "export-replace-29936517",
    ]
    fired = {t.name: t for t in timeline.figure.data}["schedule fired"]
    assert sorted(set(fired.y)) == [
        "export-allow (Allow)",
        "export-forbid (Forbid)",
        "export-replace (Replace)",
    ]
    assert timeline.ticks("export-forbid")[0] == [T1, T2]
    assert timeline.title_lines()[:2] == [
        "3 CronJobs, schedule * * * * *",
        "in UTC (the zone of kube-controller-manager)",
    ]
    assert timeline.figure.layout.height > BASE_HEIGHT  # 9 rows need more than 400 pixels


def test_allow_overlaps_replace_replaces_forbid_starts_late() -> None:
    names = ["export-allow", "export-forbid", "export-replace"]
    timeline = CronJobTimeline(names, NS, source=concurrency_events(), cluster_zone="UTC")
    frame = timeline.to_frame().set_index("job")
    # Allow: both runs overlapped (the first ended after the second began)
    first, second = frame.loc["export-allow-29936517"], frame.loc["export-allow-29936518"]
    assert first.finished > second.started
    # Replace: its first run went while running, replaced by the next tick's Job
    replaced = frame.loc["export-replace-29936517"]
    assert (replaced.outcome, replaced.removed, replaced.removed_by) == (
        "Running",
        True,
        "replaced",
    )
    data = {t.name: t for t in timeline.figure.data}
    assert any("replaced by the next tick" in text for text in data["Removed"].text)
    # Forbid: the second tick's Job started when the first ended, 12 s after its tick
    late = frame.loc["export-forbid-29936518"]
    assert late.scheduled.to_pydatetime() == T2
    assert late.started.to_pydatetime() == T2 + timedelta(seconds=12)
    waited = data[LATE_TRACE]
    assert [y for y in waited.y if y] == ["export-forbid-29936518"] * 2
    assert waited.x[:2] == (T2, T2 + timedelta(seconds=12))
    assert "started 12 s late" in waited.text[0]


def test_a_job_deleted_while_running_without_replace_is_not_called_replaced() -> None:
    s = timedelta(seconds=1)
    events = [
        ev("CronJob", "ADDED", cronjob("export-allow", "Allow"), T1 - s),
        ev("Job", "ADDED", job("export-allow", T1, T1), T1),
        ev("Job", "DELETED", job("export-allow", T1, T1), T1 + 5 * s),
    ]
    frame = CronJobTimeline("export-allow", NS, source=events, cluster_zone="UTC").to_frame()
    assert frame["removed_by"].tolist() == ["deleted while running"]


def test_a_manual_run_is_drawn_as_manual_and_counts_among_the_finished() -> None:
    s = timedelta(seconds=1)
    manual = job("cleanup", None, T1 - 10 * s, T1 - 7 * s, name="cleanup-by-hand")
    events = [
        ev("CronJob", "ADDED", cronjob("cleanup", "Allow", keep=1), T1 - 15 * s),
        ev("Job", "ADDED", job("cleanup", None, T1 - 10 * s, name="cleanup-by-hand"), T1 - 10 * s),
        ev("Job", "MODIFIED", manual, T1 - 7 * s),
        ev("Job", "ADDED", job("cleanup", T1, T1), T1),
        ev("Job", "MODIFIED", job("cleanup", T1, T1, T1 + 3 * s), T1 + 3 * s),
        # the controller keeps one succeeded Job: the older by start time, the manual one, goes
        ev("Job", "DELETED", manual, T1 + 4 * s),
    ]
    timeline = CronJobTimeline("cleanup", NS, source=events, cluster_zone="UTC")
    frame = timeline.to_frame().set_index("job")
    assert frame.loc["cleanup-by-hand", "manual"]
    assert frame.loc["cleanup-by-hand", "removed_by"] == "history limit"
    assert not frame.loc["cleanup-29936517", "manual"]
    assert not frame.loc["cleanup-29936517", "removed"]
    # a manual run is not a tick: the fired ticks come from the schedule alone
    assert timeline.ticks()[0] == [T1]
    data = {t.name: t for t in timeline.figure.data}
    assert "cleanup-by-hand: Complete (manual run)" in data["Removed"].text[0]
    assert data[LATE_TRACE].x == (), "a manual run is never late"
    assert "manual" in timeline.snapshot().html


def test_all_suspended_said_once_and_unknown_names_said() -> None:
    s = timedelta(seconds=1)
    events = [ev("CronJob", "ADDED", cronjob(n, "Allow", suspend=True), T1 - s) for n in ("a", "b")]
    timeline = CronJobTimeline(["a", "b", "c"], NS, source=events, cluster_zone="UTC")
    lines = timeline.title_lines()
    assert "not seen yet: c" in lines
    assert "a suspended; b suspended" in lines
    both = CronJobTimeline(["a", "b"], NS, source=events, cluster_zone="UTC")
    assert both.title_lines()[-1] == "all suspended"
    assert both.ticks("b")[1] == []


def test_names_must_be_given_and_distinct() -> None:
    with pytest.raises(ValueError, match="distinct CronJob names"):
        CronJobTimeline([], NS, source=[])
    with pytest.raises(ValueError, match="distinct CronJob names"):
        CronJobTimeline(["a", "a"], NS, source=[])


def test_other_cronjobs_in_the_namespace_are_left_out() -> None:
    events = [*concurrency_events()]
    timeline = CronJobTimeline(
        ["export-allow", "export-replace"], NS, source=events, cluster_zone="UTC"
    )
    assert set(timeline.to_frame()["cronjob"]) == {"export-allow", "export-replace"}


def test_several_deleted_or_being_deleted_said_in_words() -> None:
    s = timedelta(seconds=1)
    a, b = cronjob("a", "Allow"), cronjob("b", "Allow")
    going = {**b, "metadata": {**b["metadata"], "deletionTimestamp": z(T1)}}
    events = [
        ev("CronJob", "ADDED", a, T1 - s),
        ev("CronJob", "ADDED", b, T1 - s),
        ev("CronJob", "DELETED", a, T1),
        ev("CronJob", "MODIFIED", going, T1),
    ]
    timeline = CronJobTimeline(["a", "b"], NS, source=events, cluster_zone="UTC")
    assert timeline.title_lines()[-1] == "a deleted; b being deleted"
    gone = CronJobTimeline(
        ["a", "b"], NS, source=[*events, ev("CronJob", "DELETED", going, T1 + s)]
    )
    assert gone.title_lines()[-1] == "all deleted"
