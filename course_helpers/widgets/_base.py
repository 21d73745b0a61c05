"""What every live widget shares: watchers, the pump, offline mode and static snapshots."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, ClassVar, Self, TypedDict, cast

import ipywidgets as widgets
import pandas as pd

from ..kube._watch import Obj, Source, Watcher, WatchEvent, object_key
from ._palette import FONT, TEXT_CSS, THEME_CSS, VIEW_CLASS, escape
from ._pump import Pump
from ._recording import Recorder, load_events
from ._snapshot import Snapshot

#: What a widget can be built from: None (the current cluster), a :class:`Source`,
#: or, offline, a recording's path or the events themselves.
SourceLike = Source | str | os.PathLike[str] | Iterable[WatchEvent] | None


class WidgetOptions(TypedDict, total=False):
    """Keyword arguments every widget takes (see :class:`LiveWidget`)."""

    source: SourceLike
    api_client: Any
    recorder: Recorder | None
    loop: asyncio.AbstractEventLoop | None
    max_rate: float
    clock: Callable[[], float]


@dataclass(frozen=True)
class WatchSpec:
    """One list-and-watch a widget needs."""

    kind: str
    namespace: str | None
    label_selector: str | None = None
    field_selector: str | None = None


class LiveWidget:
    """Base class: keeps the objects of the watched kinds and redraws on every batch of changes.

    Subclasses say what to watch (:meth:`_specs`), which events concern them
    (:meth:`_accepts`), and how to draw (:meth:`_render`, :meth:`to_frame`).
    What the user reads (:meth:`to_frame`, :meth:`snapshot`) first applies the
    events the watch threads queued so far, so it is never behind the pump;
    a subclass's ``to_frame`` is wrapped to do so (see :meth:`__init_subclass__`).

    Args:
        namespace: the namespace the widget is about (its watchers count as
            this namespace's for :func:`~course_helpers.kube._watch.stop_watchers`).
        source: None to watch the current cluster; a
            :class:`~course_helpers.kube._watch.Source` to watch through; or, for an
            offline widget, a recording's path or the events themselves
            (``[]`` gives an empty widget to :meth:`Replay.play` into).
        api_client: the client to watch with (default: the current connection's).
        recorder: a :class:`Recorder` that keeps everything the widget receives.
        loop: the event loop that applies changes (default: the running one,
            i.e. the kernel's in a notebook; without one, call :meth:`flush`).
        max_rate: most redraws per second; changes in between are coalesced.
        clock: the time source stamped on events (tests pass a fake one).

    """

    #: Redraw this often (seconds) while live, for charts whose "now" moves; None: only on events.
    tick_seconds: ClassVar[float | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Make a subclass's ``to_frame`` apply the queued events before it reads."""
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("to_frame")
        if own is not None and not getattr(own, "_drains", False):
            cls.to_frame = _draining(own)  # type: ignore[method-assign,assignment]

    def __init__(
        self,
        *,
        namespace: str | None,
        source: SourceLike = None,
        api_client: Any = None,
        recorder: Recorder | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        max_rate: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.namespace = namespace
        self.objects: dict[str, dict[tuple[str, str], Obj]] = {}
        self.now: float | None = None
        self.errors: list[str] = []
        self._clock = clock
        self._watchers: list[Watcher] = []
        self._recorders: list[Recorder] = []
        self._closed = False
        # Per thread: True while this thread applies events or builds a snapshot, when
        # readers must not drain again (the pump's flush is not re-entrant).
        self._reading = threading.local()
        self._pump: Pump[WatchEvent] = Pump(self._apply_batch, loop=loop, max_rate=max_rate)
        self.status = widgets.HTML(layout=widgets.Layout(margin="0"))
        self.view = widgets.VBox([self.status, *self._build()])
        self.view.add_class(VIEW_CLASS)
        live, events = _classify(source, api_client)
        self.offline = live is None
        if recorder is not None:
            recorder.attach(self)
        if live is None:
            self.feed(events)
        else:
            self._start(live)
        self._render_all()

    @classmethod
    def from_recording(cls, path: str | os.PathLike[str], *args: Any, **kwargs: Any) -> Self:
        """Build the widget offline from a recording made with :class:`Recorder`.

        Example:
            >>> pods = PodsPerNode.from_recording("recordings/daemonset.jsonl.gz")  # doctest: +SKIP

        """
        return cls(*args, source=path, **kwargs)

    # -- subclass hooks ------------------------------------------------------------------

    def _build(self) -> list[widgets.Widget]:
        """Return the widgets shown under the status line."""
        raise NotImplementedError

    def _specs(self) -> list[WatchSpec]:
        """Return the watches this widget needs."""
        raise NotImplementedError

    def _accepts(self, event: WatchEvent) -> bool:
        """Tell whether ``event`` concerns this widget (offline recordings may hold more)."""
        return True

    def _observe(self, event: WatchEvent, old: Obj | None) -> None:
        """Note an accepted event (after ``objects`` is updated); ``old`` is the previous state."""

    def _render(self) -> None:
        """Redraw from the current state; called once per batch of events."""
        raise NotImplementedError

    def _shows(self, event: WatchEvent, old: Obj | None) -> bool:
        """Tell whether an accepted event changes what the widget draws (default: it does).

        A batch in which no event does is still drawn, but starts no cool-down
        before the next (see :mod:`._pump`): the change that follows a
        bookkeeping update is then drawn at once.
        """
        return True

    def _reset(self) -> None:
        """Forget subclass state (for :meth:`reset`)."""

    def _summary(self) -> str:
        """Return a few words for the status line."""
        return ""

    def _figure(self) -> Any:
        """Return the widget's plotly FigureWidget, or None."""
        return None

    def _snapshot_html(self) -> str:
        """Return a static HTML rendering."""
        raise NotImplementedError

    def to_frame(self) -> pd.DataFrame:
        """Return exactly what the widget shows as a DataFrame."""
        raise NotImplementedError

    # -- state ---------------------------------------------------------------------------

    def items(self, kind: str) -> list[Obj]:
        """Return the known objects of ``kind``, sorted by namespace and name."""
        store = self.objects.get(kind, {})
        return [store[k] for k in sorted(store)]

    def current_time(self) -> float:
        """Return "now": the newest event's time offline, the clock's time when live."""
        if self.offline:
            return self.now if self.now is not None else 0.0
        return max(self.now or 0.0, self._clock())

    def feed(self, events: Iterable[WatchEvent]) -> None:
        """Apply ``events`` now, in this thread, and redraw once (offline widgets and tests)."""
        self._pump.flush()
        self._apply_batch(list(events))

    def flush(self) -> int:
        """Apply the events the watch threads queued so far; return how many.

        In a notebook a task on the kernel's event loop does this by itself,
        at most ``max_rate`` times a second; elsewhere (tests, scripts) call it.
        """
        return self._pump.flush()

    def wait_synced(self, timeout: float = 10.0) -> bool:
        """Wait until every watcher has listed once and apply what they found."""
        deadline = time.monotonic() + timeout
        ok = all(w.wait_synced(max(0.0, deadline - time.monotonic())) for w in self._watchers)
        self._catch_up()
        return ok

    def _catch_up(self) -> None:
        """Apply the events queued so far before reading the state (see :meth:`Pump.drain`).

        On the thread that runs the widgets' loop (the kernel's main thread,
        where cells run), or with no loop running, they are applied right here;
        from another thread the loop applies them while this one waits. Inside
        an apply (a redraw calling ``to_frame``) this does nothing.
        """
        if getattr(self._reading, "active", False):
            return
        self._pump.drain()

    @contextlib.contextmanager
    def _reading_state(self) -> Iterator[None]:
        """Mark this thread as reading or applying, so nested readers do not drain."""
        outer = getattr(self._reading, "active", False)
        self._reading.active = True
        try:
            yield
        finally:
            self._reading.active = outer

    def reset(self) -> None:
        """Forget every object and all history (a replay seeks backwards with this)."""
        self.objects.clear()
        self.now = None
        self._reset()
        self._render_all()

    def _apply_batch(self, events: list[WatchEvent]) -> bool:
        """Apply ``events`` and redraw; return whether any changed what is drawn."""
        with self._reading_state():
            return self._apply_events(events)

    def _apply_events(self, events: list[WatchEvent]) -> bool:
        shown = False
        for event in events:
            store = self.objects.setdefault(event.kind, {})
            key = object_key(event.object)
            if not self._accepts(event):
                if key not in store:
                    continue
                # It stopped matching (labels changed, say): forget it as if deleted.
                event = replace(event, type="DELETED")
            self.now = event.timestamp if self.now is None else max(self.now, event.timestamp)
            old = store.get(key)
            if event.type == "DELETED":
                store.pop(key, None)
            else:
                store[key] = event.object
            try:
                shown = shown or self._shows(event, old)
                self._observe(event, old)
            except Exception as exc:
                self.errors.append(f"{event.type} {event.kind} {event.name}: {exc!r}")
        if not self._closed:
            self._render_all()
        return shown

    def _render_all(self) -> None:
        with self._reading_state(), self._held():
            self._render()
            self.status.value = self._status_html()

    @contextlib.contextmanager
    def _held(self) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            for child in self._sync_targets():
                stack.enter_context(child.hold_sync())
            yield

    def _sync_targets(self) -> list[Any]:
        return [self.status]

    # -- live mode -----------------------------------------------------------------------

    def _start(self, source: Source) -> None:
        for spec in self._specs():
            watcher = Watcher(
                spec.kind,
                spec.namespace,
                label_selector=spec.label_selector,
                field_selector=spec.field_selector,
                source=source,
                scope=self.namespace,
                clock=self._clock,
            )
            watcher.subscribe(self._on_watch_event)
            watcher.on_state.append(lambda _state: self._pump.poke())
            self._watchers.append(watcher)
        for watcher in self._watchers:
            watcher.start()
        loop = self._pump.loop
        if self.tick_seconds and loop is not None:
            loop.call_soon_threadsafe(self._tick)

    def _tick(self) -> None:
        """Redraw every ``tick_seconds`` while a watcher runs (a timer on the loop, no API call)."""
        loop = self._pump.loop
        if not self._pump.live or loop is None or not self.tick_seconds:
            return
        if not any(w.running for w in self._watchers):
            return
        self._pump.poke()
        loop.call_later(self.tick_seconds, self._tick)

    def _on_watch_event(self, event: WatchEvent) -> None:
        for recorder in list(self._recorders):
            recorder.record(event)
        self._pump.put(event)

    @property
    def watchers(self) -> list[Watcher]:
        """The watchers feeding this widget (empty offline)."""
        return list(self._watchers)

    def _status_html(self) -> str:
        if self._closed:
            mark, state = "■", "closed"
        elif self.offline:
            mark, state = "▷", "offline (recorded)"
        else:
            states = {w.state for w in self._watchers}
            if states <= {"watching"}:
                mark, state = "●", "live"
            elif any(s.startswith("retrying") for s in states):
                mark, state = "↻", next(s for s in states if s.startswith("retrying"))
            elif states <= {"stopped"}:
                mark, state = "■", "stopped"
            else:
                mark, state = "○", "connecting"
        parts = [f"{mark} {state}", self._summary()]
        if self.errors:
            parts.append(f"{len(self.errors)} events could not be shown (see .errors)")
        text = " · ".join(escape(p) for p in parts if p)
        style = f"color:{TEXT_CSS};font-family:{FONT};font-size:13px"
        return f'{THEME_CSS}<div style="{style}">{text}</div>'

    # -- output --------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """Return a static copy of what the widget shows now (HTML, data and figure).

        Events the watch threads queued but the loop has not applied yet (a
        cell that just waited for the cluster keeps the loop busy) are applied
        first, so the copy is as current as the watchers.
        """
        self._catch_up()
        with self._reading_state():
            figure = self._figure()
            static = None
            if figure is not None:
                import plotly.graph_objects as go

                static = go.Figure(figure)
            return Snapshot(
                title=f"{self!r}",
                html=self._snapshot_html(),
                frame=self.to_frame(),
                figure=static,
            )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kw: Any) -> Any:
        # Show the first list's result rather than an empty frame, in the widget and in the
        # static fallback (display runs on the kernel's loop thread, so flushing here is safe).
        if self._watchers and not self._closed:
            self.wait_synced(2.0)
        bundle = dict(self.view._repr_mimebundle_(**kw) or {})
        bundle["text/html"] = self.snapshot().to_html()
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        where = f" in {self.namespace}" if self.namespace else ""
        summary = self._summary()
        return f"{type(self).__name__}{where}" + (f": {summary}" if summary else "")

    def stop(self, timeout: float = 2.0) -> None:
        """Stop watching but keep showing the last state (the status line says "stopped")."""
        for watcher in self._watchers:
            watcher.stop(timeout=0)
        deadline = time.monotonic() + timeout
        for watcher in self._watchers:
            watcher.join(max(0.0, deadline - time.monotonic()))
        self._catch_up()
        self._pump.close()
        if not self._closed:
            self._render_all()

    def close(self) -> None:
        """Stop watching and close the widgets (their output disappears from the notebook)."""
        if self._closed:
            return
        self.stop()
        self._closed = True
        self.status.value = self._status_html()
        for recorder in list(self._recorders):
            recorder.detach(self)
        figure = self._figure()
        if figure is not None:
            figure.close()
        for child in [*self._sync_targets(), self.view]:
            with contextlib.suppress(Exception):
                child.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _draining(to_frame: Callable[[Any], pd.DataFrame]) -> Callable[[Any], pd.DataFrame]:
    """Wrap a widget's ``to_frame`` so it first applies the events queued so far."""

    @functools.wraps(to_frame)
    def wrapper(self: LiveWidget) -> pd.DataFrame:
        self._catch_up()
        with self._reading_state():
            return to_frame(self)

    wrapper._drains = True  # type: ignore[attr-defined]
    return wrapper


def _classify(source: SourceLike, api_client: Any) -> tuple[Source | None, Iterable[WatchEvent]]:
    """Return (live source, None) or (None, events to show offline)."""
    if source is None:
        from ..kube._session import api_client as current
        from ..kube._watch import KubernetesSource

        return KubernetesSource(api_client if api_client is not None else current()), ()
    if isinstance(source, str | os.PathLike):
        return None, load_events(source)
    if hasattr(source, "list") and hasattr(source, "watch"):
        return cast(Source, source), ()
    if hasattr(source, "events"):  # a Recorder or a Replay
        return None, cast(Iterable[WatchEvent], source.events)
    return None, source
