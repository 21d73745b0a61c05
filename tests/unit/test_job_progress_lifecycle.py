"""JobProgress through a Job's life: a deadline, a suspension and a TTL deletion.

Each test builds the widget offline, feeds the Job events a real cluster sends
(shaped as the v1.36 Job controller writes them: FailureTarget before Failed,
the Suspended condition, no ``startTime`` while suspended) and reads what it shows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from course_helpers.kube._watch import WatchEvent
from course_helpers.widgets import JobProgress
from course_helpers.widgets._job_figure import TARGET_END
from course_helpers.widgets._job_runs import DEADLINE, DELETED, SUSPENDED

NS = "course-jobs"
#: The events' clock: seconds since this moment.
T0 = 1_800_000_000.0

Obj = dict[str, Any]


def _time(t: float) -> str:
    return datetime.fromtimestamp(T0 + t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cond(kind: str, t: float, reason: str, status: str = "True") -> Obj:
    return {"type": kind, "status": status, "reason": reason, "lastTransitionTime": _time(t)}


def _job(
    name: str, *, suspend: bool = False, completions: int = 2, deadline: int = 0, **status: Any
) -> Obj:
    spec: Obj = {"completions": completions, "parallelism": 2, "suspend": suspend}
    if deadline:
        spec["activeDeadlineSeconds"] = deadline
    meta = {"name": name, "namespace": NS, "uid": f"uid-{name}"}
    return {"kind": "Job", "metadata": meta, "spec": spec, "status": status}


def _events(name: str, steps: list[tuple[float, Obj]]) -> list[WatchEvent]:
    return [
        WatchEvent("Job", "ADDED" if i == 0 else "MODIFIED", job, T0 + t)
        for i, (t, job) in enumerate(steps)
    ]


def _deadline_events() -> list[WatchEvent]:
    """slow-report: two pods run; at its 10 s deadline they are stopped and it fails."""
    name = "slow-report"
    reason = "DeadlineExceeded"
    target = _cond("FailureTarget", 10, reason)
    return _events(
        name,
        [
            (0, _job(name, deadline=10, active=2, startTime=_time(0))),
            (2, _job(name, deadline=10, active=2, ready=2, startTime=_time(0))),
            # the controller decides, and deletes the pods: they count as failed
            (10, _job(name, deadline=10, terminating=2, startTime=_time(0), conditions=[target])),
            (
                11,
                _job(
                    name,
                    deadline=10,
                    failed=2,
                    startTime=_time(0),
                    conditions=[target, _cond("Failed", 11, reason)],
                ),
            ),
        ],
    )


def test_a_job_past_its_deadline_says_why_it_failed() -> None:
    events = _deadline_events()
    progress = JobProgress("slow-report", NS, source=events[:2])
    assert progress.runs["slow-report"][0].deadline == T0 + 10
    assert progress.figure.layout.shapes == (), (
        "the deadline is not drawn before the axis gets there"
    )
    progress.feed(events[2:3])
    (line,) = progress.figure.layout.shapes
    assert (line.type, line.name, line.x0, line.x1) == ("line", DEADLINE, 10, 10)
    assert line.yref == "y domain" and line.showlegend
    # FailureTarget: the pods are being stopped, the Job is not Failed yet
    assert progress.panel_title("slow-report").startswith("slow-report: Failing, 0/2")
    assert progress.run_lines("slow-report") == ["reason: DeadlineExceeded"]
    progress.feed(events[3:])
    assert progress.panel_title("slow-report") == "slow-report: Failed, 0/2, parallelism 2"
    assert progress.figure.layout.annotations[0].text == (
        "<b>slow-report</b><br>Failed, 0/2, parallelism 2<br>reason: DeadlineExceeded"
    )
    frame = progress.to_frame()
    assert frame[["active", "failed"]].values.tolist()[-1] == [0, 2]
    assert "Failed (DeadlineExceeded)" in progress.snapshot().html
    assert [s.name for s in progress.figure.layout.shapes] == [DEADLINE], "and nothing else"


def _suspend_events() -> list[WatchEvent]:
    """nightly-batch: created suspended, resumed at 4 s, suspended at 8 s, resumed at 11 s."""
    name = "nightly-batch"
    held, resumed = (
        _cond("Suspended", 0, "JobSuspended"),
        _cond("Suspended", 4, "JobResumed", "False"),
    )
    again = _cond("Suspended", 8, "JobSuspended")
    done = [
        _cond("Suspended", 11, "JobResumed", "False"),
        _cond("Complete", 17, "CompletionsReached"),
    ]
    return _events(
        name,
        [
            (0, _job(name, suspend=True, conditions=[held])),
            (4, _job(name, conditions=[held])),  # the learner's patch
            (4.2, _job(name, active=2, startTime=_time(4), conditions=[resumed])),
            (8, _job(name, suspend=True, active=2, startTime=_time(4), conditions=[resumed])),
            # the running pods are deleted: they do not count as failed
            (8.3, _job(name, suspend=True, terminating=2, conditions=[again])),
            (11, _job(name, conditions=[again])),
            (11.2, _job(name, active=2, startTime=_time(11), conditions=done[:1])),
            (17, _job(name, succeeded=2, startTime=_time(11), conditions=done)),
        ],
    )


def _rects(progress: JobProgress) -> list[Any]:
    return [s for s in progress.figure.layout.shapes if s.type == "rect"]


def test_a_suspended_stretch_is_a_band_that_grows_until_resumed() -> None:
    events = _suspend_events()
    progress = JobProgress("nightly-batch", NS, source=events[:1])
    assert progress.panel_title("nightly-batch").startswith("nightly-batch: Suspended, 0/2")
    (band,) = _rects(progress)
    assert (band.x0, band.x1, band.name) == (0, 1.0, SUSPENDED), "open: to the panel's end"
    assert band.yref == "y domain" and (band.y0, band.y1) == (0, 1), "the panel's full height"
    assert band.layer == "below" and band.showlegend
    progress.feed(events[1:5])  # resumed, then suspended again while two pods ran
    assert progress.runs["nightly-batch"][0].suspended == [(T0, T0 + 4), (T0 + 8, None)]
    first, second = _rects(progress)
    assert (first.x0, first.x1) == (0, 4)
    # open: to the panel's end, which runs a step ahead of now (8.3 s: axis_end gives 10)
    assert (second.x0, second.x1) == pytest.approx((8, 10))
    assert not second.showlegend, "one legend entry for every band"
    assert progress.to_frame()["active"].tolist() == [0, 2, 0]
    progress.feed(events[5:])
    assert progress.runs["nightly-batch"][0].suspended == [(T0, T0 + 4), (T0 + 8, T0 + 11)]
    assert [(r.x0, r.x1) for r in _rects(progress)] == [(0, 4), (8, 11)]
    assert progress.run_lines("nightly-batch") == ["suspended 7 s"]
    frame = progress.to_frame()
    assert frame["active"].tolist() == [0, 2, 0, 2, 0]
    assert frame["failed"].max() == 0, "pods stopped by a suspension are not failures"


def test_only_the_first_panels_band_is_in_the_legend() -> None:
    events = _suspend_events()
    other = [
        WatchEvent(
            e.kind,
            e.type,
            {**e.object, "metadata": {**e.object["metadata"], "name": "other", "uid": "u2"}},
            e.timestamp,
        )
        for e in events
    ]
    progress = JobProgress(["nightly-batch", "other"], NS, source=[*events, *other])
    shapes = _rects(progress)
    assert [s.xref for s in shapes] == ["x", "x", "x2", "x2"]
    assert [s.showlegend for s in shapes] == [True, False, False, False]


def _ttl_events() -> list[WatchEvent]:
    """quick-report: one pod, Complete at 3 s, deleted by its TTL of 5 s at 8.4 s."""
    name = "quick-report"
    done = [_cond("SuccessCriteriaMet", 3, "CompletionsReached"), _cond("Complete", 3, "Reached")]
    finished = _job(
        name,
        completions=1,
        succeeded=1,
        startTime=_time(0),
        completionTime=_time(3),
        conditions=done,
    )
    events = _events(
        name,
        [(0, _job(name, completions=1, active=1, startTime=_time(0))), (3, finished)],
    )
    return [*events, WatchEvent("Job", "DELETED", finished, T0 + 8.4)]


def test_a_job_its_ttl_deleted_keeps_its_lines_and_a_mark_where_it_went() -> None:
    progress = JobProgress("quick-report", NS, source=_ttl_events())
    assert progress.job("quick-report") is None
    assert progress.to_frame()["succeeded"].tolist() == [0, 1], "the lines stay"
    (line,) = progress.figure.layout.shapes
    assert (line.type, line.name) == ("line", DELETED)
    assert (line.x0, line.x1) == pytest.approx((8.4, 8.4))
    assert line.showlegend and line.line.dash == "dot"
    assert DELETED.startswith("⊖")
    assert progress.run_lines("quick-report") == ["⊖ deleted 5 s after it finished"]
    panel = {t.name: t for t in progress.figure.data}
    assert panel["completions (target)"].x == (0, TARGET_END), "to the panel's edge"
    assert progress.figure.layout.xaxis.range[1] == pytest.approx(8.4, rel=0.05), "which is it"
    assert "Complete, deleted" in progress.snapshot().html
    # the target label moves off the deletion line at the panel's right end
    label = progress.figure.layout.annotations[1]
    assert label.text == "completions = 1"
    assert label.xanchor == "center" and label.x < 8.4
