"""JobProgress: counters over time, targets, several Jobs side by side."""

from __future__ import annotations

import dataclasses

import pytest
from fakes import DATA, recording

from course_helpers.widgets import JobProgress, Replay

NS = "course-jobs"
FIXTURE = DATA / "jobs.jsonl"
JOBS = ["render-frames", "render-frames-parallel"]


def _traces(widget: JobProgress, job: str) -> dict[str, object]:
    per_job = 5
    i = widget.jobs.index(job)
    return {t.name: t for t in widget.figure.data[i * per_job : (i + 1) * per_job]}


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
    assert len(progress.figure.data) == 10
    serial = _traces(progress, "render-frames")
    parallel = _traces(progress, "render-frames-parallel")
    assert parallel["active"].y == (0, 3, 3, 3, 3, 0)
    assert parallel["succeeded"].y == (0, 0, 0, 3, 3, 6)
    assert parallel["active"].x == pytest.approx((0.5, 0.6, 2.2, 4.0, 5.6, 7.5))
    assert parallel["active"].xaxis == "x2"
    assert serial["active"].xaxis == "x"
    assert parallel["completions (target)"].y == (6, 6)
    assert parallel["parallelism limit"].y == (3, 3)
    assert parallel["parallelism limit"].text == ("", "parallelism = 3")
    assert serial["parallelism limit"].y == (1, 1)
    assert serial["completions (target)"].x == pytest.approx((0.0, 21.0))
    assert serial["active"].line.shape == "hv"
    assert serial["failed"].marker.symbol == "x"
    titles = [a.text for a in progress.figure.layout.annotations]
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


def test_a_recreated_job_starts_a_new_series() -> None:
    events = [e for e in recording("jobs.jsonl") if e.name == "render-frames-parallel"]
    progress = JobProgress("render-frames-parallel", NS, source=events)
    assert len(progress.to_frame()) == 6
    again = events[0]
    fresh = {**again.object, "metadata": {**again.object["metadata"], "uid": "new-uid"}}
    progress.feed(
        [
            dataclasses.replace(events[-1], type="DELETED", timestamp=again.timestamp + 30),
            dataclasses.replace(again, object=fresh, timestamp=again.timestamp + 31),
        ]
    )
    assert len(progress.to_frame()) == 1


def test_snapshot_has_a_table_and_a_static_figure() -> None:
    progress = JobProgress(JOBS, NS, source=FIXTURE)
    snap = progress.snapshot()
    assert snap.figure is not None
    assert type(snap.figure).__name__ == "Figure"
    assert len(snap.figure.data) == 10
    assert "<td" in snap.html and "render-frames-parallel" in snap.html
    bundle = snap._repr_mimebundle_()
    assert bundle["application/vnd.plotly.v1+json"]["data"][0]["name"] == "active"


def test_needs_a_job() -> None:
    with pytest.raises(ValueError):
        JobProgress([], NS, source=[])
