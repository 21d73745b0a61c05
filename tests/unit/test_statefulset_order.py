"""StatefulSetOrder: the ordered scale-up and reverse scale-down, with claims."""

from __future__ import annotations

import asyncio
import math

import pytest
from fakes import DATA

from course_helpers.widgets import Replay, StatefulSetOrder

NS = "course-statefulsets"
FIXTURE = DATA / "statefulset.jsonl"


def _times(frame_row: dict[str, object]) -> list[float | None]:
    values = [frame_row[c] for c in ("created", "scheduled", "ready", "deletion", "deleted")]
    return [None if isinstance(v, float) and math.isnan(v) else v for v in values]  # type: ignore[misc]


def test_scale_up_in_order_and_down_in_reverse() -> None:
    order = StatefulSetOrder("web", NS, source=FIXTURE)
    rows = order.to_frame().to_dict("records")
    assert [r["pod"] for r in rows] == ["web-0", "web-1", "web-2"]
    assert _times(rows[0]) == [0.0, 0.0, 2.0, None, None]
    assert _times(rows[1]) == pytest.approx([2.0, 2.0, 5.0, 22.0, 23.1])
    assert _times(rows[2]) == pytest.approx([5.0, 6.0, 8.0, 20.0, 21.1])
    # OrderedReady: each ordinal is created only once the previous one is Ready
    assert rows[1]["created"] >= rows[0]["ready"]
    assert rows[2]["created"] >= rows[1]["ready"]
    # scale-down goes in reverse: the highest ordinal first
    assert rows[2]["deletion"] < rows[1]["deletion"]
    assert [(r["pvc"], r["pvc_phase"]) for r in rows] == [
        ("data-web-0", "Bound"),
        ("data-web-1", "Bound"),
        ("data-web-2", "Bound"),
    ]
    assert order.chart_title() == "StatefulSet web: 1/1 ready · OrderedReady"


def test_gantt_bars_per_stage() -> None:
    order = StatefulSetOrder("web", NS, source=FIXTURE)
    data = {t.name: t for t in order.figure.data}
    pending = data["created → scheduled"]
    starting = data["scheduled → ready"]
    ready = data["ready"]
    terminating = data["terminating"]
    # bars start at base and last x seconds
    assert pending.y == (0, 1, 2)
    assert pending.base == pytest.approx((0.0, 2.0, 5.0))
    assert pending.x == pytest.approx((0.0, 0.0, 1.0))  # web-2 waited a second for a node
    assert starting.base == pytest.approx((0.0, 2.0, 6.0))
    assert starting.x == pytest.approx((2.0, 3.0, 2.0))
    # web-0 is ready until "now", the newest event (23.2 s in)
    assert ready.y == (0, 1, 2)
    assert ready.base[0] == 2.0 and ready.x[0] == pytest.approx(21.2)
    assert terminating.y == (1, 2)
    assert terminating.base == pytest.approx((22.0, 20.0))
    assert terminating.x == pytest.approx((1.1, 1.1))
    assert data["deleted"].x == pytest.approx((23.1, 21.1))
    assert data["deleted"].y == (1, 2)
    assert [pending.marker.pattern.shape, starting.marker.pattern.shape] == [".", "/"]
    assert terminating.marker.pattern.shape == "x"
    assert order.figure.layout.barmode == "overlay"
    assert order.figure.layout.yaxis.tickvals == (0, 1, 2)
    assert order.figure.layout.yaxis.ticktext == (
        "web-0 · data-web-0 ✓ Bound",
        "web-1 · data-web-1 ✓ Bound",
        "web-2 · data-web-2 ✓ Bound",
    )
    assert order.figure.layout.yaxis.autorange == "reversed"


def test_claims_pending_then_bound_during_scale_up() -> None:
    replay = Replay(FIXTURE)
    order = StatefulSetOrder("web", NS, source=[])
    replay.seek(order, 5.2)
    assert order.pvcs() == {
        0: [("data-web-0", "Bound")],
        1: [("data-web-1", "Bound")],
        2: [("data-web-2", "Pending")],
    }
    assert order.row_label(2) == "web-2 · data-web-2 … Pending"
    rows = order.to_frame().to_dict("records")
    assert _times(rows[2]) == [5.0, None, None, None, None]
    assert order.chart_title() == "StatefulSet web: 2/3 ready · OrderedReady"


def test_other_statefulsets_pods_and_claims_are_left_out() -> None:
    order = StatefulSetOrder("web", NS, source=FIXTURE)
    assert "db-0" not in set(order.to_frame()["pod"])
    db = StatefulSetOrder("db", NS, source=FIXTURE)
    frame = db.to_frame()
    assert list(frame["pod"]) == ["db-0"]
    assert db.pvcs() == {0: [("data-db-0", "Pending")]}
    assert db.chart_title() == "StatefulSet db: not seen yet"


def test_a_recreated_pod_adds_a_second_bar_on_the_same_row() -> None:
    events = Replay(FIXTURE).events
    created = [e for e in events if e.kind == "Pod" and e.name == "web-2"]
    later = 30.0
    again = []
    for event in created[:5]:
        obj = {**event.object, "metadata": {**event.object["metadata"], "uid": "web-2-again"}}
        obj["metadata"]["creationTimestamp"] = "2026-03-02T09:00:30Z"
        obj["metadata"].pop("deletionTimestamp", None)
        again.append(type(event)(event.kind, event.type, obj, event.timestamp + later))
    order = StatefulSetOrder("web", NS, source=events + again)
    frame = order.to_frame()
    assert list(frame["pod"]) == ["web-0", "web-1", "web-2", "web-2"]
    assert frame["created"].tolist()[-1] == 30.0
    assert order.figure.layout.yaxis.tickvals == (0, 1, 2)


def test_claims_kept_after_scale_down_show_without_pods() -> None:
    events = [e for e in Replay(FIXTURE).events if e.kind != "Pod" or e.name == "web-0"]
    order = StatefulSetOrder("web", NS, source=events)
    frame = order.to_frame()
    assert list(frame["ordinal"]) == [0, 1, 2]
    assert frame["pod"].isna().tolist() == [False, True, True]
    assert frame["pvc_phase"].tolist() == ["Bound", "Bound", "Bound"]


def test_snapshot_table() -> None:
    snap = StatefulSetOrder("web", NS, source=FIXTURE).snapshot()
    assert "times in seconds since the first pod was created" in snap.html
    assert "data-web-2" in snap.html
    assert snap.figure is not None and len(snap.figure.data) == 6  # 5 stages, deletions


def test_live_chart_redraws_on_a_timer_so_bars_reach_now() -> None:
    from fakes import ScriptedSource

    class Fast(StatefulSetOrder):
        tick_seconds = 0.05

    clock = [1_772_442_100.0]

    async def main() -> tuple[int, int, float]:
        source = ScriptedSource({"kind": "Job", "lists": [], "watches": []})
        order = Fast("web", NS, source=source, clock=lambda: clock[0])
        events = [e for e in Replay(FIXTURE).events if e.kind == "Pod" and e.name == "web-0"]
        order.feed(events)
        await asyncio.sleep(0.05)
        before = order._pump.applies
        clock[0] += 30
        await asyncio.sleep(0.4)
        during = order._pump.applies - before
        ready = {t.name: t for t in order.figure.data}["ready"]
        order.stop()
        after = order._pump.applies
        await asyncio.sleep(0.2)
        return during, order._pump.applies - after, ready.base[0] + ready.x[0]

    during, after_stop, ready_until = asyncio.run(main())
    assert during >= 3
    assert after_stop == 0
    # live, "now" is the clock: web-0 (created 09:00:00) has been ready until 09:02:10
    assert ready_until == pytest.approx(130.0)


def test_a_deleted_statefulset_is_called_deleted_not_unseen() -> None:
    events = Replay(FIXTURE).events
    web = next(e for e in reversed(events) if e.kind == "StatefulSet" and e.name == "web")
    gone = type(web)(web.kind, "DELETED", web.object, web.timestamp + 1)
    order = StatefulSetOrder("web", NS, source=[*events, gone])
    assert order.chart_title().startswith("StatefulSet web: deleted")
    again = type(web)(web.kind, "ADDED", web.object, web.timestamp + 2)
    order.feed([again])
    assert order.chart_title().startswith("StatefulSet web: 1/1 ready")
