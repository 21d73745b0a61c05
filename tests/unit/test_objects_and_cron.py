"""Reading Kubernetes objects, label selectors and cron schedules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from course_helpers.kube._cron import CronSchedule, zone
from course_helpers.kube._objects import (
    completion_index,
    controller_of,
    match_selector,
    natural_key,
    parse_time,
    pod_phase,
    statefulset_ordinal,
)

LABELS = {"app": "web", "tier": "db"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (None, True),
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app!=web", False),
        ("zone!=a", True),
        ("app", True),
        ("zone", False),
        ("!zone", True),
        ("!app", False),
        ("app in (web, api)", True),
        ("app notin (web)", False),
        ("zone notin (a)", True),
        ("app=web,tier=db", True),
        ("app=web, tier=cache", False),
        ("tier in (db),!zone", True),
    ],
)
def test_label_selectors(selector: str | None, expected: bool) -> None:
    assert match_selector(LABELS, selector) is expected


def test_unreadable_selector_is_an_error() -> None:
    with pytest.raises(ValueError, match="cannot parse label selector"):
        match_selector(LABELS, "app=~web")


def _pod(name: str, **meta: object) -> dict[str, object]:
    return {"metadata": {"name": name, **meta}, "status": {"phase": "Running"}}


def test_ordinal_from_label_then_from_name_suffix() -> None:
    sts = [{"kind": "StatefulSet", "name": "web", "controller": True}]
    assert statefulset_ordinal(_pod("web-3", labels={"apps.kubernetes.io/pod-index": "7"})) == 7
    assert statefulset_ordinal(_pod("web-12", ownerReferences=sts)) == 12
    assert statefulset_ordinal(_pod("web-x", ownerReferences=sts)) is None
    rs = [{"kind": "ReplicaSet", "name": "web", "controller": True}]
    assert statefulset_ordinal(_pod("web-3", ownerReferences=rs)) is None


def test_completion_index_from_annotation_or_label() -> None:
    key = "batch.kubernetes.io/job-completion-index"
    assert completion_index(_pod("a", annotations={key: "4"})) == 4
    assert completion_index(_pod("a", labels={key: "2"})) == 2
    assert completion_index(_pod("a")) is None


def test_controller_prefers_the_controller_reference() -> None:
    refs = [
        {"kind": "Node", "name": "worker-1"},
        {"kind": "DaemonSet", "name": "agent", "controller": True},
    ]
    assert controller_of(_pod("a", ownerReferences=refs)) == ("DaemonSet", "agent")
    assert controller_of(_pod("a", ownerReferences=refs[:1])) == ("Node", "worker-1")
    assert controller_of(_pod("a")) is None


def test_terminating_wins_over_phase() -> None:
    assert pod_phase(_pod("a")) == "Running"
    assert pod_phase(_pod("a", deletionTimestamp="2026-03-02T09:00:30Z")) == "Terminating"
    assert pod_phase({"metadata": {"name": "a"}}) == "Pending"


def test_times_and_natural_order() -> None:
    assert parse_time("2026-03-02T09:00:05Z") == datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC)
    assert parse_time("2026-03-02T09:00:05.250000Z") == datetime(
        2026, 3, 2, 9, 0, 5, 250000, tzinfo=UTC
    )
    assert parse_time(None) is None
    assert parse_time("not a time") is None
    names = ["worker-10", "worker-2", "worker-1"]
    assert sorted(names, key=natural_key) == ["worker-1", "worker-2", "worker-10"]


START = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)


def _hm(times: list[datetime]) -> list[str]:
    return [f"{t:%H:%M}" for t in times]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("* * * * *", ["09:01", "09:02", "09:03"]),
        ("*/2 * * * *", ["09:02", "09:04", "09:06"]),
        ("*/15 * * * *", ["09:15", "09:30", "09:45"]),
        ("5,35 * * * *", ["09:05", "09:35", "10:05"]),
        ("10-12 * * * *", ["09:10", "09:11", "09:12"]),
        ("0-30/10 9-10 * * *", ["09:10", "09:20", "09:30"]),
        ("@hourly", ["10:00", "11:00", "12:00"]),
        ("0 0 * * MON", ["00:00", "00:00", "00:00"]),
    ],
)
def test_next_ticks(expression: str, expected: list[str]) -> None:
    assert _hm(CronSchedule.parse(expression).ticks(START, count=3)) == expected


def test_ticks_in_a_window_include_the_start_minute() -> None:
    schedule = CronSchedule.parse("*/2 * * * *")
    start = datetime(2026, 3, 2, 9, 2, tzinfo=UTC)
    ticks = schedule.ticks(start, start + timedelta(minutes=10))
    assert _hm(ticks) == ["09:02", "09:04", "09:06", "09:08", "09:10", "09:12"]


def test_weekday_names_and_day_or_weekday_rule() -> None:
    mondays = CronSchedule.parse("0 0 * * MON").ticks(START, count=2)
    assert [t.strftime("%a %d") for t in mondays] == ["Mon 09", "Mon 16"]
    either = CronSchedule.parse("0 0 1 * SUN").ticks(START, count=3)
    # the 1st of the month OR any Sunday
    assert [t.strftime("%a %d") for t in either] == ["Sun 08", "Sun 15", "Sun 22"]


def test_time_zone_shifts_ticks() -> None:
    berlin = zone("Europe/Berlin")
    assert berlin is not None
    ticks = CronSchedule.parse("0 12 * * *").ticks(START, count=1, tz=berlin)
    assert ticks[0].astimezone(UTC).hour == 11  # noon in Berlin in March is 11:00 UTC
    assert zone("Nowhere/Special") is None
    assert zone(None) is None


@pytest.mark.parametrize("expression", ["* * * *", "61 * * * *", "*/0 * * * *", "? * * * *"])
def test_unsupported_schedules_raise(expression: str) -> None:
    with pytest.raises(ValueError):
        CronSchedule.parse(expression)
