"""JobProgress: counters over time, targets, several Jobs side by side."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest
from fakes import DATA, recording

from course_helpers.kube._watch import WatchEvent
from course_helpers.widgets import JobProgress, Replay
from course_helpers.widgets._job_figure import TARGET_END, X_PAD_PX
from course_helpers.widgets._job_layout import (
    CHAR_PX,
    LABEL_LIFT,
    LINE_PX,
    PLOT_AREA_PX,
    PLOT_HEIGHT_PX,
    SPACING,
)
from course_helpers.widgets._jobs import TARGETS, TRACES_PER_JOB, job_state

NS = "course-jobs"
FIXTURE = DATA / "jobs.jsonl"
JOBS = ["render-frames", "render-frames-parallel"]


def _traces(widget: JobProgress, job: str) -> dict[str, object]:
    i = widget.jobs.index(job)
    return {t.name: t for t in widget.figure.data[i * TRACES_PER_JOB : (i + 1) * TRACES_PER_JOB]}


def _label(widget: JobProgress, job: str, target: str) -> Any:
    i = widget.jobs.index(job)
    first = len(widget.jobs) + len(TARGETS) * i
    return widget.figure.layout.annotations[first + ("completions", "parallelism").index(target)]


def _right(widget: JobProgress, job: str) -> float:
    """Return where the panel's data ends (its x axis ends a few pixels further)."""
    return widget._panel_end(job, widget.t0 or 0.0)


def _label_x(widget: JobProgress, job: str, label: Any) -> float:
    """Return the label's anchor in data units (one at the panel's right end is in its own)."""
    if label.xref.endswith(" domain"):
        assert (label.x, label.xshift) == (1.0, -X_PAD_PX), "the right end, less the pad"
        return _right(widget, job)
    return float(label.x)


def _label_box(widget: JobProgress, job: str, target: str) -> tuple[float, float, float, float]:
    """Return the label's box in data units: x from, x to, y from, y to (as _render sizes it)."""
    label = _label(widget, job, target)
    i = widget.jobs.index(job)
    yaxis = widget.figure.layout[f"yaxis{'' if i == 0 else i + 1}"]
    cols = len(widget.jobs)
    panel_px = PLOT_AREA_PX * (1 - SPACING * (cols - 1)) / cols
    # each panel's x axis ends at its own data (a finished Job's last change)
    right = _right(widget, job)
    lines = label.text.split("<br>")
    width = max(map(len, lines)) * CHAR_PX * right / panel_px
    x = _label_x(widget, job, label)
    left = {"right": x - width, "center": x - width / 2, "left": x}
    x0 = left[label.xanchor]
    per_px = (yaxis.range[1] - yaxis.range[0]) / PLOT_HEIGHT_PX
    y0 = label.y + label.yshift * per_px
    return x0, x0 + width, y0, y0 + LINE_PX * len(lines) * per_px


def _crosses(widget: JobProgress, job: str, box: tuple[float, float, float, float]) -> list[str]:
    """Return the counters whose step line or markers run through ``box``."""
    x0, x1, y0, y1 = box
    hits = []
    for name, trace in _traces(widget, job).items():
        if name not in ("active", "succeeded", "failed") or not trace.x:
            continue
        points = list(zip(trace.x, trace.y, strict=True))
        for (xa, ya), (xb, yb) in itertools.pairwise(points):
            flat = x0 <= xb and xa <= x1 and y0 <= ya <= y1  # horizontal at ya from xa to xb
            step = x0 <= xb <= x1 and min(ya, yb) <= y1 and max(ya, yb) >= y0  # vertical at xb
            if flat or step:
                hits.append(f"{name} at {xb}")
        hits += [f"{name} marker at {x}" for x, y in points if x0 <= x <= x1 and y0 <= y <= y1]
    return hits


def test_frame_has_every_change_of_both_jobs() -> None:
    progress = JobProgress(JOBS, NS, source=FIXTURE)
    frame = progress.to_frame()
    parallel = frame[frame.job == "render-frames-parallel"]
    assert parallel["t"].tolist() == pytest.approx([0.5, 0.6, 2.2, 4.0, 5.6, 7.5])
    assert parallel[["active", "ready", "succeeded", "failed"]].values.tolist() == [
        [0, 0, 0, 0],
        [3, 0, 0, 0],
        [3, 3, 0, 0],
        [3, 0, 3, 0],
        [3, 3, 3, 0],
        [0, 0, 6, 0],
    ]
    serial = frame[frame.job == "render-frames"]
    assert len(serial) == 14
    assert serial["active"].max() == 1, "parallelism 1 keeps one pod active at a time"
    assert serial["succeeded"].tolist()[-1] == 6
    assert serial["t"].tolist()[-1] == pytest.approx(21.0)
    assert set(frame["completions"]) == {6}
    assert frame.groupby("job")["parallelism"].first().to_dict() == {
        "render-frames": 1,
        "render-frames-parallel": 3,
    }


def test_figure_has_a_panel_per_job_with_target_lines() -> None:
    progress = JobProgress(JOBS, NS, source=FIXTURE)
    assert len(progress.figure.data) == 2 * TRACES_PER_JOB == 16
    serial = _traces(progress, "render-frames")
    parallel = _traces(progress, "render-frames-parallel")
    # The changes of ready alone (2.2 s, 5.6 s) are in to_frame(), not drawn: the chart
    # draws active, succeeded and failed.
    assert parallel["active"].y == (0, 3, 3, 0)
    assert parallel["succeeded"].y == (0, 0, 3, 6)
    assert parallel["active"].x == pytest.approx((0.5, 0.6, 4.0, 7.5))
    assert parallel["active"].xaxis == "x2"
    assert serial["active"].xaxis == "x"
    assert parallel["completions (target)"].y == (6, 6)
    assert parallel["parallelism limit"].y == (3, 3)
    assert parallel["parallelism limit"].text is None, "an annotation labels it, not the line"
    assert _label(progress, "render-frames-parallel", "parallelism").text == "parallelism = 3"
    assert serial["parallelism limit"].y == (1, 1)
    assert serial["completions (target)"].x == (0.0, TARGET_END), "to the panel's edge"
    assert progress.figure.layout.xaxis.range[1] == pytest.approx(21.0, rel=0.05)
    assert serial["active"].line.shape == "hv"
    assert serial["failed"].marker.symbol == "x"
    titles = [a.text for a in progress.figure.layout.annotations[:2]]
    assert titles == [
        "<b>render-frames</b><br>Complete, 6/6, parallelism 1",
        "<b>render-frames-parallel</b><br>Complete, 6/6, parallelism 3",
    ]
    assert progress.figure.layout.paper_bgcolor == "rgba(0,0,0,0)"


def test_a_failing_job_shows_failures_and_its_state() -> None:
    progress = JobProgress("broken-task", NS, source=FIXTURE)
    frame = progress.to_frame()
    assert frame["failed"].tolist() == [0, 0, 1, 1, 2, 2, 3]
    assert frame["active"].tolist() == [0, 1, 0, 1, 0, 1, 0]
    assert progress.panel_title("broken-task") == "broken-task: Failed, 0/1, parallelism 1"
    assert str(progress) == "JobProgress in course-jobs: broken-task Failed"


def test_only_the_named_jobs_in_the_namespace_count() -> None:
    progress = JobProgress(["render-frames"], NS, source=FIXTURE)
    assert set(progress.to_frame()["job"]) == {"render-frames"}
    # the Job of the same name in another namespace was not mixed in
    assert progress.to_frame()["completions"].tolist() == [6] * 14
    elsewhere = JobProgress(["render-frames"], "course-other", source=FIXTURE)
    assert elsewhere.to_frame()["completions"].tolist() == [1]


def test_midway_through_the_replay() -> None:
    progress = JobProgress(JOBS, NS, source=[])
    Replay(FIXTURE).seek(progress, 5.0)
    assert progress.panel_title("render-frames-parallel") == (
        "render-frames-parallel: Running, 3/6, parallelism 3"
    )
    assert progress.panel_title("render-frames") == "render-frames: Running, 1/6, parallelism 1"
    Replay(FIXTURE).seek(progress, 0.05)
    assert progress.panel_title("render-frames-parallel") == (
        "render-frames-parallel: not seen yet"
    )
    assert _traces(progress, "render-frames-parallel")["parallelism limit"].y == ()


def _recreated(faster: bool = True) -> tuple[JobProgress, list[WatchEvent]]:
    """render-frames-parallel, deleted at +30 s and created again at +31 s, run to the end."""
    events = [e for e in recording("jobs.jsonl") if e.name == "render-frames-parallel"]
    progress = JobProgress(JOBS, NS, source=[e for e in events if e.name in JOBS])
    first = events[0].timestamp
    again = [
        dataclasses.replace(
            e,
            object={**e.object, "metadata": {**e.object["metadata"], "uid": "new-uid"}},
            timestamp=first + 31 + (e.timestamp - first) / (2 if faster else 1),
        )
        for e in events
    ]
    deleted = dataclasses.replace(events[-1], type="DELETED", timestamp=first + 30)
    return progress, [deleted, *again]


def test_a_deleted_job_keeps_its_panel_and_targets() -> None:
    progress, (deleted, *_again) = _recreated()
    progress.feed([deleted])
    traces = _traces(progress, "render-frames-parallel")
    assert traces["completions (target)"].y == (6, 6), "the target stays drawn once deleted"
    assert traces["completions (target)"].showlegend, "and in the legend"
    assert traces["succeeded"].y[-1] == 6
    assert progress.panel_title("render-frames-parallel").startswith(
        "render-frames-parallel: deleted, 6/6"
    )


def test_a_recreated_job_is_a_new_run_drawn_over_the_earlier_one() -> None:
    progress, tail = _recreated()
    progress.feed(tail)
    frame = progress.to_frame()
    parallel = frame[frame.job == "render-frames-parallel"]
    assert parallel["run"].tolist() == [1] * 6 + [2] * 6
    traces = _traces(progress, "render-frames-parallel")
    assert traces["succeeded"].y == (0, 0, 3, 6), "the current run"
    assert min(traces["succeeded"].x) > 30
    earlier = traces["earlier run"]
    assert [y for y in earlier.y if y is not None] == [0, 0, 3, 6]
    assert max(x for x in earlier.x if x is not None) < 10
    assert earlier.opacity < 1 and earlier.showlegend
    assert traces["completions (target)"].y == (6, 6)
    title = progress.figure.layout.annotations[1].text
    assert title.endswith("<br>run 1: 7 s · run 2: 7 s"), "one short line fits a narrow panel"
    long = progress.panel_title("render-frames-parallel")
    assert "run 1: Complete in 7 s, deleted" in long and "run 2: Complete in 7 s" in long
    html = progress.snapshot().html
    assert "render-frames-parallel (run 1)" in html and "render-frames-parallel (run 2)" in html


def test_equal_targets_are_drawn_apart() -> None:
    progress = JobProgress("broken-task", NS, source=FIXTURE)
    traces = _traces(progress, "broken-task")
    high, low = traces["completions (target)"].y[0], traces["parallelism limit"].y[0]
    assert low < 1 < high, "a few pixels either side of 1"
    yaxis = progress.figure.layout.yaxis
    px = (high - low) * PLOT_HEIGHT_PX / (yaxis.range[1] - yaxis.range[0])
    assert px == pytest.approx(3.0)


def test_a_finished_jobs_panel_ends_at_its_data() -> None:
    progress = JobProgress(["render-frames-parallel", "broken-task"], NS, source=FIXTURE)
    for i, job in enumerate(("render-frames-parallel", "broken-task")):
        last = max(_traces(progress, job)["active"].x)
        panel_px = PLOT_AREA_PX * (1 - SPACING) / 2
        pad = X_PAD_PX * last / panel_px
        xaxis = progress.figure.layout[f"xaxis{'' if i == 0 else i + 1}"]
        assert xaxis.range == pytest.approx((-pad, last + pad)), job
        assert xaxis.autorange is False


def test_snapshot_has_a_table_and_a_static_figure() -> None:
    progress = JobProgress(JOBS, NS, source=FIXTURE)
    snap = progress.snapshot()
    assert snap.figure is not None
    assert type(snap.figure).__name__ == "Figure"
    assert len(snap.figure.data) == 16
    assert "<td" in snap.html and "render-frames-parallel" in snap.html
    bundle = snap._repr_mimebundle_()
    assert bundle["application/vnd.plotly.v1+json"]["data"][0]["name"] == "active"


def test_needs_a_job() -> None:
    with pytest.raises(ValueError):
        JobProgress([], NS, source=[])


@pytest.mark.parametrize("at", [3.0, 5.0, 8.0, 12.0, 16.0, 30.0, None])
def test_target_labels_sit_above_their_lines_off_the_data_in_every_panel(
    at: float | None,
) -> None:
    jobs = [*JOBS, "broken-task"]
    if at is None:
        progress = JobProgress(jobs, NS, source=FIXTURE)
    else:
        progress = JobProgress(jobs, NS, source=[])
        Replay(FIXTURE).seek(progress, at)
    for i, job in enumerate(jobs):
        axes = ("x", "y") if i == 0 else (f"x{i + 1}", f"y{i + 1}")
        completions, parallelism = progress.targets(job)
        for target, level in (("completions", completions), ("parallelism", parallelism)):
            label = _label(progress, job, target)
            if not label.visible:
                continue
            assert label.xref in (axes[0], f"{axes[0]} domain"), f"{job}: in its own panel"
            assert label.yref == axes[1]
            assert label.y == level
            assert label.yanchor == "bottom" and label.yshift >= LABEL_LIFT, "above the line"
            assert not label.showarrow
            box = _label_box(progress, job, target)
            assert _crosses(progress, job, box) == [], f"{job} {target} label {box} at {at}s"
            assert box[3] <= progress.figure.layout[f"yaxis{axes[1][1:]}"].range[1], "in view"


def test_the_serial_jobs_parallelism_label_is_not_on_its_active_line() -> None:
    """The review's case: active runs along parallelism = 1; the label went under the line."""
    progress = JobProgress(JOBS, NS, source=FIXTURE)
    serial = _traces(progress, "render-frames")
    assert serial["parallelism limit"].mode == "lines"
    label = _label(progress, "render-frames", "parallelism")
    assert (label.text, label.y, label.xanchor, label.yanchor) == (
        "parallelism = 1",
        1,
        "right",
        "bottom",
    )
    assert label.xref == "x domain" and label.x == 1.0, "anchored at the line's right end"
    x0, x1, y0, _ = _label_box(progress, "render-frames", "parallelism")
    active = list(zip(serial["active"].x, serial["active"].y, strict=True))
    assert any(x0 <= x <= x1 and y == 1 for x, y in active), "active runs right under it"
    assert y0 > 1 + 0.1, "and the label clears it and its markers"


def test_a_step_at_the_right_end_moves_the_label_left() -> None:
    progress = JobProgress("render-frames-parallel", NS, source=FIXTURE)
    label = _label(progress, "render-frames-parallel", "parallelism")
    # succeeded jumps 3 -> 6 at the very end (7.0s): the label moves off that step
    assert label.xanchor == "center" and label.xref == "x"
    assert label.x < 7.0
    assert (
        _crosses(
            progress,
            "render-frames-parallel",
            _label_box(progress, "render-frames-parallel", "parallelism"),
        )
        == []
    )


def test_equal_targets_share_one_label() -> None:
    progress = JobProgress("broken-task", NS, source=FIXTURE)
    completions = _label(progress, "broken-task", "completions")
    parallelism = _label(progress, "broken-task", "parallelism")
    assert completions.visible and not parallelism.visible
    assert completions.text == "completions = 1<br>parallelism = 1"


def _work_queue_events() -> list[WatchEvent]:
    """A work-queue Job (parallelism 3, completions unset) from start to Complete."""
    spec = {"parallelism": 3, "backoffLimit": 6, "completionMode": "NonIndexed"}
    meta = {"name": "drain-queue", "namespace": NS, "uid": "u-1"}
    steps = [(0, 0, None), (3, 0, None), (2, 1, None), (0, 3, "Complete")]
    events = []
    for t, (active, succeeded, done) in enumerate(steps):
        status: dict[str, Any] = {"active": active, "succeeded": succeeded}
        if done:
            status["conditions"] = [{"type": done, "status": "True"}]
        job = {"kind": "Job", "metadata": meta, "spec": spec, "status": status}
        events.append(WatchEvent("Job", "ADDED" if t == 0 else "MODIFIED", job, 100.0 + t))
    return events


def test_a_work_queue_job_draws_no_completions_target() -> None:
    progress = JobProgress("drain-queue", NS, source=_work_queue_events())
    traces = _traces(progress, "drain-queue")
    assert traces["completions (target)"].x == ()
    assert traces["parallelism limit"].y == (3, 3)
    assert not _label(progress, "drain-queue", "completions").visible
    assert _label(progress, "drain-queue", "parallelism").text == "parallelism = 3"
    assert progress.panel_title("drain-queue") == (
        "drain-queue: Complete, 3 done, work queue, parallelism 3"
    )
    assert progress.to_frame()["completions"].isna().all()


def test_only_a_change_of_what_the_panel_draws_counts_as_shown() -> None:
    """The Job controller's bookkeeping updates start no redraw cool-down (see _pump)."""
    events = [e for e in recording(FIXTURE) if e.name == "render-frames"]
    progress = JobProgress("render-frames", NS, source=[])
    assert progress._apply_batch(events[:1]) is True, "a Job seen for the first time"
    job = events[0].object
    status = {**(job.get("status") or {}), "uncountedTerminatedPods": {"succeeded": ["u1"]}}
    bookkeeping = dataclasses.replace(events[0], type="MODIFIED", object={**job, "status": status})
    assert progress._apply_batch([bookkeeping]) is False
    counted = {**status, "succeeded": int(status.get("succeeded") or 0) + 1}
    change = dataclasses.replace(bookkeeping, object={**job, "status": counted})
    assert progress._apply_batch([change]) is True
    assert progress._apply_batch([bookkeeping, change]) is True, "any change in the batch"


def test_a_tick_while_a_job_runs_changes_only_the_x_axis_range() -> None:
    """Once a second "now" moves: a relayout plotly draws far faster than a change of data."""
    progress = JobProgress(JOBS, NS, source=[])
    Replay(FIXTURE).seek(progress, 5.0)
    assert job_state(progress.job("render-frames")) == "Running"
    sent: list[tuple[dict[str, Any], dict[str, Any]]] = []
    update = progress.figure.plotly_update

    def record(restyle_data: Any = None, relayout_data: Any = None, **kw: Any) -> Any:
        sent.append((dict(restyle_data or {}), dict(relayout_data or {})))
        return update(restyle_data=restyle_data, relayout_data=relayout_data, **kw)

    progress.figure.plotly_update = record  # type: ignore[method-assign]
    before = progress.figure.layout.xaxis.range
    progress.now = (progress.now or 0.0) + 2.0
    progress._render_all()
    changed = [(style, lay) for style, lay in sent if style or lay]
    assert len(changed) == 1, sent
    restyle, relayout = changed[0]
    assert restyle == {}, "no trace's data changes"
    assert set(relayout) == {"xaxis.range", "xaxis2.range"}, "both Jobs run at 5 s"
    assert relayout["xaxis.range"][1] > before[1]


def test_a_tick_that_does_not_reach_the_next_step_draws_nothing() -> None:
    progress = JobProgress(JOBS, NS, source=[])
    Replay(FIXTURE).seek(progress, 5.0)
    sent: list[Any] = []
    update = progress.figure.plotly_update

    def record(restyle_data: Any = None, relayout_data: Any = None, **kw: Any) -> Any:
        if restyle_data or relayout_data:
            sent.append((restyle_data, relayout_data))
        return update(restyle_data=restyle_data, relayout_data=relayout_data, **kw)

    progress.figure.plotly_update = record  # type: ignore[method-assign]
    end = progress.figure.layout.xaxis.range[1]
    for _ in range(3):
        progress.now = (progress.now or 0.0) + 0.25
        progress._render_all()
    assert sent == [], "the axis ends a step ahead of now: nothing to redraw yet"
    assert progress.figure.layout.xaxis.range[1] == end


def test_a_change_of_ready_alone_is_not_drawn() -> None:
    """ready is in to_frame() but not on the chart: no redraw (nor a marker) for it."""
    events = [e for e in recording(FIXTURE) if e.name == "render-frames-parallel"]
    progress = JobProgress("render-frames-parallel", NS, source=events)
    job = events[-1].object
    status = {**job["status"], "ready": 1}
    ready = dataclasses.replace(events[-1], object={**job, "status": status})
    assert progress._shows(ready, job) is False
    drawn = progress.figure.data[0].x
    progress.feed([ready])
    assert progress.figure.data[0].x == drawn
    assert progress.to_frame()["ready"].tolist()[-1] == 1
