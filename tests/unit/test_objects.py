"""Reading Kubernetes objects and label selectors (cron schedules: test_cron.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

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
