"""Play recorded watch events back into widgets, at any speed, or jump to a moment."""

from __future__ import annotations

import asyncio
import bisect
import math
import os
import time
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from typing import Any

from ..kube._watch import WatchEvent
from ._base import LiveWidget
from ._pump import running_loop
from ._recording import Recorder, load_events


class Playback:
    """A replay under way on the event loop; await it, or :meth:`cancel` it."""

    def __init__(self, task: asyncio.Task[None] | None, replay: Replay) -> None:
        self._task = task
        self._replay = replay
        self.position = 0.0

    @property
    def done(self) -> bool:
        """True once every event has been applied (or the playback was cancelled)."""
        return self._task is None or self._task.done()

    def cancel(self) -> None:
        """Stop playing; the widgets keep what they show."""
        if self._task is not None:
            self._task.cancel()

    def __await__(self) -> Generator[Any, None, None]:
        if self._task is not None:
            yield from asyncio.shield(self._task).__await__()

    def __repr__(self) -> str:
        state = "done" if self.done else "playing"
        return f"<Playback {state} at {self.position:.1f}s of {self._replay.duration:.1f}s>"


class Replay:
    """Play recorded watch events back into widgets, at any speed, or jump to a moment.

    Args:
        source: a recording's path, a :class:`Recorder`, or events.

    Example:
        >>> replay = Replay("recordings/statefulset-scale.jsonl.gz")  # doctest: +SKIP
        >>> order = StatefulSetOrder("web", "demo", source=[])  # an empty offline widget
        >>> replay.play(order, speed=4.0)  # doctest: +SKIP
        >>> replay.seek(order, 12.0)  # what it showed 12 s into the demo  # doctest: +SKIP

    """

    def __init__(self, source: str | os.PathLike[str] | Recorder | Iterable[WatchEvent]) -> None:
        if isinstance(source, str | os.PathLike):
            events = load_events(source)
        elif isinstance(source, Recorder):
            events = source.events
        else:
            events = sorted(source, key=lambda e: e.timestamp)
        self.events: list[WatchEvent] = events
        self.start = events[0].timestamp if events else 0.0
        self._offsets = [e.timestamp - self.start for e in events]

    @property
    def duration(self) -> float:
        """Seconds from the first to the last event."""
        return self._offsets[-1] if self._offsets else 0.0

    def __len__(self) -> int:
        return len(self.events)

    def __repr__(self) -> str:
        return f"<Replay: {len(self)} events over {self.duration:.1f}s>"

    def until(self, offset: float | None) -> list[WatchEvent]:
        """Return the events up to ``offset`` seconds into the recording (all for None)."""
        if offset is None:
            return list(self.events)
        return self.events[: bisect.bisect_right(self._offsets, offset)]

    def seek(self, widgets: LiveWidget | Iterable[LiveWidget], offset: float | None = None) -> int:
        """Show the state ``offset`` seconds in (None: the end) in ``widgets``; return #events."""
        events = self.until(offset)
        for widget in _as_list(widgets):
            widget.reset()
            widget.feed(events)
        return len(events)

    def play(
        self,
        widgets: LiveWidget | Iterable[LiveWidget],
        speed: float = 1.0,
        *,
        start: float = 0.0,
        end: float | None = None,
        frame: float = 0.1,
    ) -> Playback:
        """Replay into ``widgets`` from ``start`` to ``end`` seconds, ``speed`` times as fast.

        In a notebook this returns at once and plays on the kernel's event loop
        (``await`` the result to wait for the end). Without a running loop it
        plays before returning. ``speed=math.inf`` jumps straight to the end.
        Events less than ``frame`` seconds apart (after scaling) are applied together.
        """
        if speed <= 0:
            raise ValueError("speed must be positive")
        targets = _as_list(widgets)
        self.seek(targets, start)
        stop = math.inf if end is None else end
        first = bisect.bisect_right(self._offsets, start)
        last = bisect.bisect_right(self._offsets, stop)
        frames = self._batches(first, last, start, speed, frame)
        playback = Playback(None, self)
        playback.position = start
        loop = running_loop()
        if loop is None or math.isinf(speed):
            for step in frames:
                if step.delay > 0:
                    time.sleep(step.delay)
                for widget in targets:
                    widget.feed(step.events)
                playback.position = step.position
            return playback

        async def run() -> None:
            for step in frames:
                await asyncio.sleep(step.delay)
                for widget in targets:
                    widget.feed(step.events)
                playback.position = step.position

        playback._task = loop.create_task(run())
        return playback

    def _batches(
        self, first: int, last: int, start: float, speed: float, frame: float
    ) -> list[_Frame]:
        """Group events into frames: those within ``frame`` wall-clock seconds go together."""
        frames: list[_Frame] = []
        clock = start
        for i in range(first, last):
            offset = self._offsets[i]
            if frames and (offset - clock) / speed < frame:
                frames[-1].events.append(self.events[i])
                frames[-1].position = offset
            else:
                frames.append(_Frame((offset - clock) / speed, [self.events[i]], offset))
                clock = offset
        return frames


@dataclass
class _Frame:
    delay: float
    events: list[WatchEvent]
    position: float


def _as_list(widgets: LiveWidget | Iterable[LiveWidget]) -> list[LiveWidget]:
    return [widgets] if isinstance(widgets, LiveWidget) else list(widgets)
