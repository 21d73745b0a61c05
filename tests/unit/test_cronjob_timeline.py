"""CronJobTimeline: ticks, the Jobs they created, outcomes, and history-limit pruning."""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fakes import DATA

from course_helpers.kube._watch import WatchEvent
from course_helpers.widgets import CronJobTimeline, Replay
from course_helpers.widgets._cronjobs import HISTORY_WINDOW

NS = "course-cronjobs"
FIXTURE = DATA / "cronjob.jsonl"


def at(hh_mm_ss: str) -> datetime:
    h, m, s = (int(x) for x in hh_mm_ss.split(":"))
    return datetime(2026, 3, 2, h, m, s, tzinfo=UTC)


def test_runs_outcomes_and_removals() -> None:
    timeline = CronJobTimeline("report", NS, source=FIXTURE)
    frame = timeline.to_frame()
    assert frame[["job", "outcome", "removed"]].values.tolist() == [
        ["report-29540702", "Complete", True],
        ["report-29540704", "Complete", False],
        ["report-29540706", "Failed", True],
        ["report-29540708", "Complete", False],
        ["report-29540710", "Failed", False],
    ]
    assert [t.to_pydatetime() for t in frame["scheduled"]] == [
        at("09:02:00"),
        at("09:04:00"),
        at("09:06:00"),
        at("09:08:00"),
        at("09:10:00"),
    ]
    assert frame["finished"].iloc[0].to_pydatetime() == at("09:02:06")
    assert frame["finished"].iloc[2].to_pydatetime() == at("09:06:04")
    removed = frame[frame.removed]["removed_at"].tolist()
    assert [t.to_pydatetime() for t in removed] == [at("09:08:07"), at("09:10:05")]
    assert str(timeline) == "CronJobTimeline in course-cronjobs: 3 Jobs kept, 2 removed"


def test_ticks_fired_and_next() -> None:
    timeline = CronJobTimeline("report", NS, source=FIXTURE)
    fired, upcoming = timeline.ticks()
    assert fired == [at("09:02:00"), at("09:04:00"), at("09:06:00"), at("09:08:00"), at("09:10:00")]
    assert upcoming == [at("09:12:00"), at("09:14:00"), at("09:16:00")]
    data = {t.name: t for t in timeline.figure.data}
    assert data["schedule fired"].x == tuple(fired)
    assert set(data["schedule fired"].y) == {"schedule"}
    assert data["next ticks"].x == tuple(upcoming)
    assert data["next ticks"].marker.symbol == "triangle-down-open"


def test_figure_draws_each_run_by_outcome() -> None:
    timeline = CronJobTimeline("report", NS, source=FIXTURE)
    data = {t.name: t for t in timeline.figure.data}
    # A removed Job keeps its outcome's bar; its removal is a dotted tail to a ⊖ marker.
    complete = ["report-29540702", "report-29540704", "report-29540708"]
    assert [y for y in data["Complete"].y if y] == [j for j in complete for _ in (0, 1)]
    assert [y for y in data["Failed"].y if y] == ["report-29540706"] * 2 + ["report-29540710"] * 2
    assert [y for y in data["Removed"].y if y] == ["report-29540702"] * 2 + ["report-29540706"] * 2
    # the tail starts where the bar ends (a 6 s run is drawn at least 1.2 % of the axis wide)
    assert data["Removed"].x[:2] == (data["Complete"].x[1], at("09:08:07"))
    assert list(data["Removed"].marker.size) == [0, 12, 0] * 2
    assert data["Running"].y == ()
    assert data["CronJob deleted"].x == ()
    assert data["Complete"].x[3] == at("09:04:00")
    assert data["Complete"].x[4] >= at("09:04:06")
    assert "removed by history limit at 09:08:07" in data["Removed"].text[0]
    assert "report-29540702: Complete, ran 6 s" in data["Removed"].text[0]
    assert data["Failed"].marker.symbol == "x"
    assert timeline.figure.layout.yaxis.categoryarray == (
        "report-29540702",
        "report-29540704",
        "report-29540706",
        "report-29540708",
        "report-29540710",
        "schedule",
    )
    assert timeline.figure.layout.title.text == (
        "CronJob report: schedule */2 * * * *<br>in the local zone of the cluster (unknown here: "
        "drawn as UTC)<br>keeps 2 succeeded, 1 failed · "
        "last scheduled 09:10:00"
    )


def test_other_cronjobs_and_plain_jobs_are_left_out() -> None:
    jobs = set(CronJobTimeline("report", NS, source=FIXTURE).to_frame()["job"])
    assert "cleanup-29513346" not in jobs
    assert "report-manual" not in jobs
    cleanup = CronJobTimeline("cleanup", NS, source=FIXTURE)
    assert list(cleanup.to_frame()["job"]) == ["cleanup-29513346"]
    assert cleanup.chart_title() == "CronJob cleanup: not seen yet"


def test_a_running_job_and_pruning_as_it_happens() -> None:
    replay = Replay(FIXTURE)
    timeline = CronJobTimeline("report", NS, source=[])
    offset = at("09:08:03").timestamp() - replay.start
    replay.seek(timeline, offset)
    frame = timeline.to_frame().set_index("job")
    assert frame.loc["report-29540708", "outcome"] == "Running"
    assert not frame["removed"].any()
    data = {t.name: t for t in timeline.figure.data}
    assert [y for y in data["Running"].y if y] == ["report-29540708"] * 2
    # a running Job's bar reaches "now" (offline, the newest event's time), or is at least
    # 1.2 % of the axis wide, so a run of seconds stays visible on an axis of minutes
    fired, upcoming = timeline.ticks()
    shortest = timedelta(seconds=(upcoming[-1] - fired[0]).total_seconds() * 0.012)
    assert data["Running"].x[:2] == (at("09:08:00"), at("09:08:00") + shortest)

    replay.seek(timeline, at("09:08:08").timestamp() - replay.start)
    frame = timeline.to_frame().set_index("job")
    assert frame.loc["report-29540702", "removed"]
    assert frame.loc["report-29540708", "outcome"] == "Complete"


def test_snapshot_lists_runs_and_next_ticks() -> None:
    snap = CronJobTimeline("report", NS, source=FIXTURE).snapshot()
    assert "next ticks (UTC): 09:12, 09:14, 09:16" in snap.html
    assert "✓ Complete" in snap.html
    assert "✗ Failed" in snap.html
    assert snap.figure is not None
    assert len(snap.frame) == 5


def test_unreadable_schedule_still_shows_runs() -> None:
    events = Replay(FIXTURE).events
    for event in events:
        if event.kind == "CronJob":
            event.object["spec"]["schedule"] = "0 0 L * ?"
    timeline = CronJobTimeline("report", NS, source=events)
    assert timeline.schedule() is None
    assert timeline.ticks() == ([], [])
    assert len(timeline.to_frame()) == 5
    assert "(ticks not computed for this schedule)" in timeline.chart_title()


# -- the zone the schedule is read in --------------------------------------------------------

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _cronjob(schedule: str, time_zone: str | None = None) -> list[WatchEvent]:
    spec: dict[str, object] = {"schedule": schedule, "jobTemplate": {"spec": {}}}
    if time_zone:
        spec["timeZone"] = time_zone
    obj = {
        "metadata": {
            "name": "nightly",
            "namespace": NS,
            "uid": "u-1",
            "creationTimestamp": "2026-03-02T09:00:00Z",
        },
        "spec": spec,
        "status": {},
    }
    return [WatchEvent("CronJob", "ADDED", obj, NOON.timestamp())]


@pytest.fixture
def kernel_in_new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The kernel's own local zone is America/New_York (UTC-5 in March)."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    assert datetime(2026, 3, 2, 12).astimezone().utcoffset() == timedelta(hours=-5)
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("kernel_in_new_york")
def test_without_time_zone_ticks_follow_the_controller_not_the_kernel() -> None:
    timeline = CronJobTimeline("nightly", NS, source=_cronjob("30 2 * * *"), cluster_zone="UTC")
    _, upcoming = timeline.ticks()
    assert upcoming == [datetime(2026, 3, d, 2, 30, tzinfo=UTC) for d in (3, 4, 5)]
    drawn = {t.name: t for t in timeline.figure.data}["next ticks"]
    assert drawn.x == tuple(upcoming)
    assert drawn.text[0] == "Tue 02:30 UTC"
    assert "schedule 30 2 * * * · in UTC (the zone of kube-controller-manager)" in (
        timeline.chart_title()
    )
    assert "next ticks (UTC): 02:30, 02:30, 02:30</p>" in timeline.snapshot().html


@pytest.mark.usefixtures("kernel_in_new_york")
def test_spec_time_zone_wins() -> None:
    events = _cronjob("30 2 * * *", "Europe/Berlin")
    timeline = CronJobTimeline("nightly", NS, source=events, cluster_zone="UTC")
    _, upcoming = timeline.ticks()
    assert upcoming[0] == datetime(2026, 3, 3, 1, 30, tzinfo=UTC)  # 02:30 in Berlin (UTC+1)
    assert "in Europe/Berlin (spec.timeZone)" in timeline.chart_title()
    assert {t.name: t for t in timeline.figure.data}["next ticks"].text[0] == (
        "Tue 01:30 UTC = Tue 02:30 Europe/Berlin"
    )
    assert "; in Europe/Berlin: 02:30, 02:30, 02:30" in timeline.snapshot().html


@pytest.mark.usefixtures("kernel_in_new_york")
def test_an_unknown_controller_zone_is_said_not_guessed_silently() -> None:
    timeline = CronJobTimeline("nightly", NS, source=_cronjob("30 2 * * *"))
    where = timeline.schedule_zone()
    assert where is not None and where.source == "assumed"
    assert timeline.ticks()[1][0] == datetime(2026, 3, 3, 2, 30, tzinfo=UTC)
    assert "in the local zone of the cluster (unknown here: drawn as UTC)" in (
        timeline.chart_title()
    )


def test_a_tz_prefix_in_an_old_schedule_is_honoured() -> None:
    events = _cronjob("CRON_TZ=Asia/Kolkata 0 6 * * *")
    timeline = CronJobTimeline("nightly", NS, source=events, cluster_zone="UTC")
    assert timeline.ticks()[1][0] == datetime(2026, 3, 3, 0, 30, tzinfo=UTC)
    assert "in Asia/Kolkata (TZ= in the schedule)" in timeline.chart_title()


def test_every_steps_from_the_cronjob_creation() -> None:
    timeline = CronJobTimeline("nightly", NS, source=_cronjob("@every 50m"), cluster_zone="UTC")
    fired, upcoming = timeline.ticks()
    created = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert fired == [created + timedelta(minutes=50 * k) for k in (1, 2, 3)]
    assert upcoming == [created + timedelta(minutes=50 * k) for k in (4, 5, 6)]


def test_ticks_extended_redraw_by_redraw_equal_a_fresh_computation() -> None:
    events = _cronjob("*/7 * * * *")
    later = NOON + timedelta(hours=5)
    step = dataclasses.replace(events[0], timestamp=later.timestamp())
    timeline = CronJobTimeline("nightly", NS, source=events, cluster_zone="UTC")
    before = timeline.ticks()
    timeline.feed([step])  # "now" moves 5 hours on; the history window slides
    fresh = CronJobTimeline("nightly", NS, source=[step], cluster_zone="UTC")
    assert timeline.ticks() == fresh.ticks() != before
    fired = timeline.ticks()[0]
    assert fired[0] >= later - HISTORY_WINDOW and fired[-1] <= later
    assert all(b - a == timedelta(minutes=7) for a, b in itertools.pairwise(fired) if b.minute)


def _deleted_at(events: list[WatchEvent], when: str, *, foreground: bool) -> list[WatchEvent]:
    """Return ``events`` followed by the CronJob's deletion at ``when`` and its Jobs' removal.

    Background deletion (kubectl's default): the CronJob goes, then the garbage collector
    deletes its Jobs; foreground: the CronJob gets a deletionTimestamp, its Jobs go, then it.
    """
    t = at(when).timestamp()
    cronjob = next(e for e in reversed(events) if e.kind == "CronJob").object
    live: dict[str, WatchEvent] = {}
    for event in events:
        if event.kind == "Job":
            if event.type == "DELETED":
                live.pop(event.name, None)
            else:
                live[event.name] = event
    stamped = {**cronjob, "metadata": {**cronjob["metadata"], "deletionTimestamp": when_z(when)}}
    tail: list[WatchEvent] = []
    if foreground:
        tail.append(WatchEvent("CronJob", "MODIFIED", stamped, t))
    else:
        tail.append(WatchEvent("CronJob", "DELETED", cronjob, t))
    tail += [
        WatchEvent("Job", "DELETED", e.object, t + 0.2 + i / 10)
        for i, e in enumerate(sorted(live.values(), key=lambda e: e.name))
    ]
    if foreground:
        tail.append(WatchEvent("CronJob", "DELETED", stamped, t + 1))
    return [*events, *tail]


def when_z(hh_mm_ss: str) -> str:
    return at(hh_mm_ss).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("foreground", [False, True])
def test_a_deleted_cronjob_keeps_its_schedule_and_outcomes(foreground: bool) -> None:
    events = _deleted_at(Replay(FIXTURE).events, "09:11:30", foreground=foreground)
    timeline = CronJobTimeline("report", NS, source=events)
    frame = timeline.to_frame().set_index("job")
    assert frame["removed"].all()
    assert frame["outcome"].tolist() == ["Complete", "Complete", "Failed", "Complete", "Failed"]
    assert frame["removed_by"].tolist() == [
        "history limit",
        "CronJob deleted",
        "history limit",
        "CronJob deleted",
        "CronJob deleted",
    ]
    fired, upcoming = timeline.ticks()
    assert fired[-1] == at("09:10:00"), "the schedule row stays, up to the deletion"
    assert upcoming == [], "a deleted CronJob fires no more"
    title = timeline.chart_title()
    assert "not seen yet" not in title
    assert "schedule */2 * * * *" in title
    assert "at 09:11:30, its 3 Jobs with it" in title
    data = {t.name: t for t in timeline.figure.data}
    assert data["CronJob deleted"].x == (at("09:11:30"),)
    assert [y for y in data["Complete"].y if y][:2] == ["report-29540702"] * 2
    assert "deleted with the CronJob" in data["Removed"].text[-2]
    assert "CronJob deleted at 09:1" in str(timeline)
    assert "0 Jobs kept, 5 removed" in str(timeline)
    snap = timeline.snapshot().html
    assert "deleted at 09:11:30" in snap and "✓ Complete" in snap


def test_a_suspended_cronjob_draws_no_next_ticks() -> None:
    events = Replay(FIXTURE).events
    cronjob = next(e for e in reversed(events) if e.kind == "CronJob").object
    paused = {**cronjob, "spec": {**cronjob["spec"], "suspend": True}}
    t = at("09:11:00").timestamp()
    timeline = CronJobTimeline(
        "report", NS, source=[*events, WatchEvent("CronJob", "MODIFIED", paused, t)]
    )
    fired, upcoming = timeline.ticks()
    assert upcoming == []
    assert fired[-1] == at("09:10:00")
    assert "suspended since 09:11:00" in timeline.chart_title()
    assert {t.name: t for t in timeline.figure.data}["next ticks"].x == ()


def test_a_short_run_has_a_visible_width() -> None:
    timeline = CronJobTimeline("report", NS, source=FIXTURE)
    fired, upcoming = timeline.ticks()
    span = (upcoming[-1] - fired[0]).total_seconds()
    data = {t.name: t for t in timeline.figure.data}
    xs = [x for x in data["Failed"].x if x is not None]
    widths = [(b - a).total_seconds() for a, b in zip(xs[::2], xs[1::2], strict=True)]
    assert min(widths) >= span * 0.012 * 0.99
