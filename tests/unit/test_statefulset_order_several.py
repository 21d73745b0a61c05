"""StatefulSetOrder with several StatefulSets in one chart, and with minReadySeconds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from course_helpers.kube._watch import WatchEvent
from course_helpers.widgets import StatefulSetOrder
from course_helpers.widgets._statefulsets import Incarnation

NS = "demo"
T0 = 1_772_442_000.0  # 2026-03-02T09:00:00Z


def _at(seconds: float) -> str:
    return datetime.fromtimestamp(T0 + seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sts(name: str, policy: str, ready: int, available: int, min_ready: int = 0) -> WatchEvent:
    spec: dict[str, Any] = {"replicas": 3, "podManagementPolicy": policy}
    if min_ready:
        spec["minReadySeconds"] = min_ready
    obj = {
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": NS, "uid": f"uid-{name}"},
        "spec": spec,
        "status": {"readyReplicas": ready, "availableReplicas": available},
    }
    return WatchEvent("StatefulSet", "ADDED", obj, T0)


def _pod(owner: str, ordinal: int, created: float, ready: float | None, at: float) -> WatchEvent:
    conditions = [{"type": "PodScheduled", "status": "True", "lastTransitionTime": _at(created)}]
    if ready is not None:
        conditions.append({"type": "Ready", "status": "True", "lastTransitionTime": _at(ready)})
    obj = {
        "kind": "Pod",
        "metadata": {
            "name": f"{owner}-{ordinal}",
            "namespace": NS,
            "uid": f"uid-{owner}-{ordinal}",
            "creationTimestamp": _at(created),
            "ownerReferences": [{"kind": "StatefulSet", "name": owner, "controller": True}],
        },
        "status": {"conditions": conditions},
    }
    return WatchEvent("Pod", "MODIFIED", obj, T0 + at)


def _ordered_and_parallel() -> list[WatchEvent]:
    """OrderedReady: a 5 s staircase. Parallel: three pods at once, Ready 5-6 s later."""
    return [
        _sts("ordered", "OrderedReady", 3, 3),
        _sts("parallel", "Parallel", 3, 3),
        *(_pod("ordered", i, 5.0 * i, 5.0 * i + 5, 16) for i in range(3)),
        *(_pod("parallel", i, 0.0, 5.0 + (i % 2), 16) for i in range(3)),
        _pod("other", 0, 0.0, 1.0, 16),  # another StatefulSet's pod: not drawn
    ]


def test_two_statefulsets_share_one_chart_in_groups_of_rows() -> None:
    order = StatefulSetOrder(["ordered", "parallel"], NS, source=_ordered_and_parallel())
    assert order.statefulsets == ("ordered", "parallel") and order.statefulset == "ordered"
    assert order.rows() == {
        ("ordered", 0): 0,
        ("ordered", 1): 1,
        ("ordered", 2): 2,
        ("parallel", 0): 4,  # row 3 is the gap between the groups
        ("parallel", 1): 5,
        ("parallel", 2): 6,
    }
    layout = order.figure.layout
    assert layout.yaxis.tickvals == (0, 1, 2, 4, 5, 6)
    assert layout.yaxis.ticktext == tuple(
        f"{s}-{i}" for s in ("ordered", "parallel") for i in range(3)
    )
    assert layout.title.text == (
        "StatefulSet ordered: 3/3 ready · OrderedReady<br>"
        "StatefulSet parallel: 3/3 ready · Parallel"
    )
    frame = order.to_frame()
    assert list(frame["pod"]) == [f"{s}-{i}" for s in ("ordered", "parallel") for i in range(3)]
    assert list(frame["statefulset"]) == ["ordered"] * 3 + ["parallel"] * 3
    # one time axis: ordered's staircase beside parallel's three bars starting together
    assert list(frame["created"]) == [0.0, 5.0, 10.0, 0.0, 0.0, 0.0]
    assert list(frame["ready"]) == [5.0, 10.0, 15.0, 5.0, 6.0, 5.0]
    starting = {t.name: t for t in order.figure.data}["scheduled → ready"]
    assert starting.y == (0, 1, 2, 4, 5, 6)
    assert starting.base == pytest.approx((0.0, 5.0, 10.0, 0.0, 0.0, 0.0))


def test_several_statefulsets_are_watched_in_the_namespace_and_one_by_its_name() -> None:
    several = StatefulSetOrder(["ordered", "parallel"], NS, source=[])
    assert [s.field_selector for s in several._specs() if s.kind == "StatefulSet"] == [None]
    one = StatefulSetOrder("ordered", NS, source=[])
    assert [s.field_selector for s in one._specs() if s.kind == "StatefulSet"] == [
        "metadata.name=ordered"
    ]


def test_a_statefulset_not_seen_yet_says_so_on_its_own_title_line() -> None:
    events = [e for e in _ordered_and_parallel() if e.name != "parallel"]
    order = StatefulSetOrder(["ordered", "parallel"], NS, source=events)
    assert order.chart_title().split("\n") == [
        "StatefulSet ordered: 3/3 ready · OrderedReady",
        "StatefulSet parallel: not seen yet",
    ]
    snapshot = order.snapshot().html
    assert "StatefulSet ordered: 3/3 ready · OrderedReady<br>StatefulSet parallel" in snapshot
    assert "<th" in snapshot and ">statefulset</th>" in snapshot


def test_unknown_or_no_statefulset_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="at least one StatefulSet"):
        StatefulSetOrder([], NS, source=[])
    order = StatefulSetOrder(["ordered", "parallel"], NS, source=_ordered_and_parallel())
    with pytest.raises(ValueError, match="shows ordered, parallel, not StatefulSet 'web'"):
        order.ordinals("web")
    assert order.ordinals("parallel") == [0, 1, 2]


def test_min_ready_seconds_draws_ready_but_not_yet_available_then_ready() -> None:
    events = [
        _sts("careful", "OrderedReady", 3, 2, min_ready=5),
        _pod("careful", 0, 0.0, 1.0, 20),
        _pod("careful", 1, 6.0, 8.0, 20),
        _pod("careful", 2, 13.0, 15.0, 20),  # Ready at 15 s, available at 20 s
    ]
    order = StatefulSetOrder("careful", NS, source=events)
    assert order.min_ready_seconds() == 5.0
    assert order.chart_title() == (
        "StatefulSet careful: 3/3 ready, 2 available (minReadySeconds 5) · OrderedReady"
    )
    data = {t.name: t for t in order.figure.data}
    waiting, ready = data["ready, not yet available"], data["ready"]
    assert waiting.y == (0, 1, 2)
    assert waiting.base == pytest.approx((1.0, 8.0, 15.0))
    assert waiting.x == pytest.approx((5.0, 5.0, 5.0))
    # "now" is the newest event, 20 s: careful-2 has just become available
    assert ready.base == pytest.approx((6.0, 13.0, 20.0))
    assert ready.x == pytest.approx((14.0, 7.0, 0.0))
    assert waiting.showlegend is True


def test_without_min_ready_seconds_the_stage_is_neither_drawn_nor_in_the_legend() -> None:
    order = StatefulSetOrder(["ordered", "parallel"], NS, source=_ordered_and_parallel())
    waiting = {t.name: t for t in order.figure.data}["ready, not yet available"]
    assert waiting.x == () and waiting.showlegend is False
    assert "available" not in order.chart_title()


def test_a_pod_deleted_before_it_is_available_stays_terminating() -> None:
    life = Incarnation(0, "careful-0", "u", created=0.0, scheduled=0.0, ready=1.0, deletion=3.0)
    life.statefulset = "careful"
    assert life.segments(now=10.0, min_ready=5.0) == [
        ("pending", 0.0, 0.0),
        ("starting", 0.0, 1.0),
        ("unavailable", 1.0, 3.0),
        ("terminating", 3.0, 10.0),
    ]
    assert life.segments(now=10.0) == [
        ("pending", 0.0, 0.0),
        ("starting", 0.0, 1.0),
        ("ready", 1.0, 3.0),
        ("terminating", 3.0, 10.0),
    ]


def test_the_legend_sits_above_the_bars_and_the_title_below_the_top_edge() -> None:
    # On the right, the legend took a third of a 590-pixel chart from the bars; at y=1 a
    # two-line title ran past the chart's top edge in JupyterLab.
    order = StatefulSetOrder(["ordered", "parallel"], NS, source=_ordered_and_parallel())
    layout = order.figure.layout
    assert layout.legend.orientation == "h" and layout.legend.y > 1
    assert layout.title.yref == "container" and layout.title.yanchor == "top"
    assert (1 - layout.title.y) * layout.height >= 20
