"""snapshot() and to_frame() first apply the events still queued in the pump.

In a notebook the pump's consumer runs on the kernel's event loop, which is
busy while a cell runs; a cell that waits for the cluster and then takes a
snapshot must not get the state from before the wait.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
from fakes import recording

from course_helpers.kube._watch import WatchEvent
from course_helpers.widgets import (
    CronJobTimeline,
    EventFeed,
    JobProgress,
    PodsPerNode,
    StatefulSetOrder,
)
from course_helpers.widgets._base import LiveWidget

CASES: dict[str, tuple[str, Callable[..., LiveWidget], tuple[Any, ...]]] = {
    "pods": ("daemonset.jsonl", PodsPerNode, ("course-daemonsets",)),
    "jobs": ("jobs.jsonl", JobProgress, (["render-frames", "broken-task"], "course-jobs")),
    "cronjob": ("cronjob.jsonl", CronJobTimeline, ("report", "course-cronjobs")),
    "statefulset": ("statefulset.jsonl", StatefulSetOrder, ("web", "course-statefulsets")),
    "events": ("events.jsonl", EventFeed, ("course-statefulsets",)),
}


def _from_a_watch_thread(widget: LiveWidget, events: list[WatchEvent]) -> None:
    """Queue ``events`` the way a watcher does: from another thread, into the pump."""
    thread = threading.Thread(target=lambda: [widget._on_watch_event(e) for e in events])
    thread.start()
    thread.join()


@pytest.fixture
def loop_thread() -> Iterator[tuple[asyncio.AbstractEventLoop, threading.Thread]]:
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    try:
        yield loop, runner
    finally:
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.01), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        runner.join(5)
        loop.close()


@pytest.mark.parametrize("case", list(CASES))
def test_without_a_loop_snapshot_and_to_frame_apply_what_is_queued(case: str) -> None:
    fixture, cls, args = CASES[case]
    events = recording(fixture)
    expected = cls(*args, source=events)

    shot = cls(*args, source=[], loop=None)
    _from_a_watch_thread(shot, events)
    snap = shot.snapshot()
    pd.testing.assert_frame_equal(snap.frame, expected.to_frame())
    assert snap.html == expected.snapshot().html
    assert snap.title == repr(expected)
    assert shot.flush() == 0, "the snapshot applied everything"

    framed = cls(*args, source=[], loop=None)
    _from_a_watch_thread(framed, events)
    pd.testing.assert_frame_equal(framed.to_frame(), expected.to_frame())
    assert framed.flush() == 0


def test_on_the_loop_thread_a_snapshot_after_a_blocking_wait_is_current() -> None:
    """The kernel's case: the cell runs on the loop's thread, so the consumer cannot."""
    events = recording("statefulset.jsonl")
    expected = StatefulSetOrder("web", "course-statefulsets", source=events)
    applied_on: set[int] = set()

    async def cell() -> tuple[StatefulSetOrder, pd.DataFrame, pd.DataFrame, int]:
        order = StatefulSetOrder("web", "course-statefulsets", source=[])
        assert order._pump.live, "bound to the running loop, as in a kernel"
        apply = order._pump._apply

        def recording_apply(batch: list[WatchEvent]) -> None:
            applied_on.add(threading.get_ident())
            apply(batch)

        order._pump._apply = recording_apply
        _from_a_watch_thread(order, events)
        time.sleep(0.05)  # a wait for the cluster: blocks the loop, the consumer cannot run
        snap = order.snapshot()
        frame = order.to_frame()
        await asyncio.sleep(0.05)  # the cell ends: the consumer finds nothing left
        applies = order._pump.applies
        order.stop()
        return order, snap.frame, frame, applies

    order, shown, frame, applies = asyncio.run(cell())
    pd.testing.assert_frame_equal(shown, expected.to_frame())
    pd.testing.assert_frame_equal(frame, expected.to_frame())
    assert applied_on == {threading.get_ident()}
    assert applies == 1, "applied once, by the snapshot; nothing applied twice"
    assert "web-2" in order.to_frame()["pod"].tolist()


def test_from_another_thread_the_loop_applies_and_the_reader_waits(
    loop_thread: tuple[asyncio.AbstractEventLoop, threading.Thread],
) -> None:
    loop, runner = loop_thread
    events = recording("events.jsonl")
    expected = EventFeed("course-statefulsets", source=events)
    feed = EventFeed("course-statefulsets", source=[], loop=loop)
    asyncio.run_coroutine_threadsafe(asyncio.sleep(0), loop).result(5)  # consumer started
    applied_on: set[int] = set()
    apply = feed._pump._apply

    def recording_apply(batch: list[WatchEvent]) -> None:
        applied_on.add(threading.get_ident())
        apply(batch)

    feed._pump._apply = recording_apply
    # Keep the loop busy, so the events wait in the queue until the snapshot asks for them.
    gate, busy = threading.Event(), threading.Event()
    loop.call_soon_threadsafe(lambda: (busy.set(), gate.wait(5)))
    assert busy.wait(5)
    _from_a_watch_thread(feed, events)
    threading.Timer(0.2, gate.set).start()
    snap = feed.snapshot()
    pd.testing.assert_frame_equal(snap.frame, expected.to_frame())
    assert snap.html == expected.snapshot().html
    assert applied_on == {runner.ident}, "applied on the loop's thread, never on the reader's"
    feed._pump.close()


def test_a_redraw_that_reads_to_frame_does_not_drain_again() -> None:
    """EventFeed's redraw calls to_frame(); applying must not re-enter the pump."""
    events = recording("events.jsonl")
    feed = EventFeed("course-statefulsets", source=[], loop=None)
    calls: list[int] = []
    drain = feed._pump.drain

    def counting_drain(timeout: float = 5.0) -> int:
        calls.append(1)
        return drain(timeout)

    feed._pump.drain = counting_drain  # type: ignore[method-assign]
    _from_a_watch_thread(feed, events)
    assert feed.flush() == len(events)
    assert calls == [], "the redraw inside flush() read the state without draining"
    assert len(feed.snapshot().frame) == 5
    assert calls == [1], "one drain per snapshot, none for the to_frame() inside it"
