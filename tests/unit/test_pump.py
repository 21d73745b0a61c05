"""The hand-off from watch threads to the widgets' event loop."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time

from course_helpers.widgets._pump import Pump, running_loop


def test_without_a_loop_nothing_applies_until_flush() -> None:
    batches: list[list[int]] = []
    pump: Pump[int] = Pump(batches.append)
    assert pump.loop is None
    assert not pump.live
    for i in range(5):
        pump.put(i)
    assert batches == []
    assert pump.flush() == 5
    assert batches == [[0, 1, 2, 3, 4]]
    assert pump.flush() == 0
    assert batches == [[0, 1, 2, 3, 4]], "an empty flush applies nothing"


def test_poke_asks_for_an_empty_apply() -> None:
    batches: list[list[int]] = []
    pump: Pump[int] = Pump(batches.append)
    pump.poke()
    assert pump.flush() == 0
    assert batches == [[]]


def test_items_from_many_threads_all_arrive_in_per_thread_order() -> None:
    batches: list[list[tuple[int, int]]] = []
    pump: Pump[tuple[int, int]] = Pump(batches.append)
    threads = [
        threading.Thread(target=lambda n=n: [pump.put((n, i)) for i in range(200)])
        for n in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pump.flush()
    items = [item for batch in batches for item in batch]
    assert len(items) == 800
    for n in range(4):
        assert [i for m, i in items if m == n] == list(range(200))


def test_closed_pump_drops_items() -> None:
    batches: list[list[int]] = []
    pump: Pump[int] = Pump(batches.append)
    pump.close()
    pump.put(1)
    assert pump.flush() == 0
    assert batches == []


def test_on_a_running_loop_applies_happen_on_the_loop_thread_coalesced() -> None:
    applied_on: set[int] = set()
    batches: list[list[int]] = []

    def apply(batch: list[int]) -> None:
        applied_on.add(threading.get_ident())
        batches.append(batch)

    async def main() -> tuple[int, Pump[int]]:
        assert running_loop() is asyncio.get_running_loop()
        pump: Pump[int] = Pump(apply, max_rate=10)
        assert pump.live
        producer = threading.Thread(target=lambda: [pump.put(i) for i in range(1000)])
        producer.start()
        producer.join()
        for _ in range(200):
            if sum(len(b) for b in batches) == 1000:
                break
            await asyncio.sleep(0.01)
        pump.close()
        await asyncio.sleep(0)
        return threading.get_ident(), pump

    loop_thread, pump = asyncio.run(main())
    assert [i for b in batches for i in b] == list(range(1000))
    assert applied_on == {loop_thread}
    # 1000 puts from a fast producer are coalesced into a handful of applies.
    assert 1 <= pump.applies <= 5


def test_rate_limit_spaces_applies() -> None:
    stamps: list[float] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        pump: Pump[int] = Pump(lambda batch: stamps.append(loop.time()), max_rate=20)

        def produce() -> None:
            for i in range(6):
                pump.put(i)
                threading.Event().wait(0.02)

        producer = threading.Thread(target=produce)
        producer.start()
        while producer.is_alive():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        pump.close()

    asyncio.run(main())
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert stamps
    assert all(gap >= 0.045 for gap in gaps), gaps


def test_an_apply_that_drew_nothing_starts_no_cool_down() -> None:
    """A bookkeeping update drawn at t=0 must not hold back the real change at t=0.01."""
    stamps: list[tuple[float, list[int]]] = []

    def apply(batch: list[int]) -> bool:
        stamps.append((time.monotonic(), batch))
        return batch != [0]  # item 0 changed nothing shown; the others did

    async def main() -> None:
        pump: Pump[int] = Pump(apply, max_rate=2)  # a cool-down of 0.5 s
        for i in range(3):
            pump.put(i)
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.6)
        pump.close()

    asyncio.run(main())
    assert [b for _, b in stamps] == [[0], [1], [2]]
    (t0, _), (t1, _), (t2, _) = stamps
    assert t1 - t0 < 0.3, "no cool-down after an apply that drew nothing"
    assert t2 - t1 >= 0.45, "a cool-down after one that drew"


def test_pump_bound_to_a_loop_in_another_thread() -> None:
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    done = threading.Event()
    seen: list[tuple[int, list[int]]] = []

    def apply(batch: list[int]) -> None:
        seen.append((threading.get_ident(), batch))
        done.set()

    try:
        pump: Pump[int] = Pump(apply, loop=loop)
        pump.put(7)
        assert done.wait(5)
        assert seen == [(runner.ident, [7])]
        pump.close()
        # let the loop run the cancellation before it stops
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.01), loop).result(5)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        runner.join(5)
        loop.close()


def test_drain_without_a_loop_applies_on_the_calling_thread() -> None:
    batches: list[tuple[int, list[int]]] = []
    pump: Pump[int] = Pump(lambda batch: batches.append((threading.get_ident(), batch)))
    pump.put(1)
    pump.put(2)
    assert pump.drain() == 2
    assert batches == [(threading.get_ident(), [1, 2])]


def test_drain_from_another_thread_waits_for_the_loop_and_gives_up_when_it_is_stuck() -> None:
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    seen: list[tuple[int | None, list[int]]] = []
    try:
        pump: Pump[int] = Pump(lambda batch: seen.append((threading.get_ident(), batch)), loop=loop)
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0), loop).result(5)
        assert not pump.on_loop_thread()
        gate, busy = threading.Event(), threading.Event()
        loop.call_soon_threadsafe(lambda: (busy.set(), gate.wait(5)))
        assert busy.wait(5)
        pump.put(1)
        assert pump.drain(timeout=0.1) == 0, "the loop is stuck: give up rather than hang"
        assert seen == [], "and never apply on the reader's thread"
        gate.set()
        pump.put(2)
        assert pump.drain() in (0, 1, 2)  # the consumer may have applied some already
        assert seen and [i for _, b in seen for i in b] == [1, 2]
        assert {ident for ident, _ in seen} == {runner.ident}
        pump.close()
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.01), loop).result(5)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        runner.join(5)
        loop.close()
