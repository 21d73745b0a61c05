"""Record watch events (:class:`Recorder`) and read and write them as JSON lines.

Recordings are JSON lines, optionally gzipped. The first line is a header naming
the format; every other line is one event::

    {"format": "k8s-workloads-course/watch-recording", "version": 1}
    {"t": 1767225600.5, "kind": "Pod", "type": "ADDED", "object": {...}}
"""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, Protocol, cast

from ..kube._watch import EVENT_TYPES, Obj, Watcher, WatchEvent

FORMAT = "k8s-workloads-course/watch-recording"
VERSION = 1

PathLike = str | os.PathLike[str]


def _open(path: Path, mode: str) -> IO[str]:
    if path.suffix == ".gz":
        return cast(IO[str], gzip.open(path, mode + "t", encoding="utf-8"))
    return path.open(mode, encoding="utf-8")


def event_to_json(event: WatchEvent) -> dict[str, Any]:
    """Return ``event`` as the dict stored on one line."""
    line: dict[str, Any] = {
        "t": event.timestamp,
        "kind": event.kind,
        "type": event.type,
        "object": event.object,
    }
    if event.from_list:
        line["fromList"] = True
    return line


def event_from_json(line: dict[str, Any]) -> WatchEvent:
    """Return the event stored as ``line``.

    Raises:
        ValueError: the line is not an event.

    """
    try:
        kind, typ, obj, t = line["kind"], line["type"], line["object"], float(line["t"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a recorded watch event: {str(line)[:120]}") from exc
    if typ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {typ!r} in recording")
    return WatchEvent(str(kind), str(typ), dict(obj), t, bool(line.get("fromList", False)))


def save_events(events: Iterable[WatchEvent], path: PathLike) -> Path:
    """Write ``events`` to ``path`` (gzipped when it ends in ``.gz``) and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _open(target, "w") as out:
        out.write(json.dumps({"format": FORMAT, "version": VERSION}) + "\n")
        for event in events:
            out.write(json.dumps(event_to_json(event), separators=(",", ":")) + "\n")
    return target


def load_events(path: PathLike) -> list[WatchEvent]:
    """Read the events recorded in ``path``, in time order.

    Raises:
        ValueError: the file is not a recording (or a newer version of one).

    """
    source = Path(path)
    events: list[WatchEvent] = []
    with _open(source, "r") as lines:
        for number, text in enumerate(lines, 1):
            if not text.strip():
                continue
            try:
                line = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{source}:{number}: not JSON: {exc}") from None
            if "format" in line:
                if line["format"] != FORMAT or int(line.get("version", 0)) > VERSION:
                    raise ValueError(f"{source}: not a recording this version can read: {line}")
                continue
            try:
                events.append(event_from_json(line))
            except ValueError as exc:
                raise ValueError(f"{source}:{number}: {exc}") from None
    events.sort(key=lambda e: e.timestamp)
    return events


class Recordable(Protocol):
    """What a :class:`Recorder` attaches to besides a Watcher: a live widget's state.

    A protocol rather than ``LiveWidget`` itself, so that this module does not import
    the widgets' base (which imports this module to record what it receives).
    """

    objects: dict[str, dict[tuple[str, str], Obj]]
    now: float | None
    _recorders: list[Recorder]


def _event_key(event: WatchEvent) -> tuple[str, ...]:
    meta = event.object.get("metadata") or {}
    return (
        event.kind,
        event.type,
        str(meta.get("namespace") or ""),
        str(meta.get("name") or ""),
        str(meta.get("uid") or ""),
        str(meta.get("resourceVersion") or ""),
    )


class Recorder:
    """Capture the watch events that reach widgets or watchers, to save and replay them.

    Events are de-duplicated by kind, type, object and resourceVersion, so a
    recorder attached to several widgets that watch the same pods keeps one copy.

    Args:
        *targets: widgets or :class:`~course_helpers.kube._watch.Watcher` objects to attach now.

    Example:
        >>> rec = Recorder()
        >>> pods = PodsPerNode("demo", recorder=rec)  # doctest: +SKIP
        >>> # ... scale the StatefulSet up and down ...
        >>> rec.save("recordings/scale-up.jsonl.gz")  # doctest: +SKIP

    """

    def __init__(self, *targets: Recordable | Watcher) -> None:
        self._events: list[WatchEvent] = []
        self._seen: set[tuple[str, ...]] = set()
        self._lock = threading.Lock()
        self._unsubscribe: dict[int, Any] = {}
        for target in targets:
            self.attach(target)

    def attach(self, target: Recordable | Watcher) -> None:
        """Record from now on what ``target`` receives, starting with what it already knows."""
        if isinstance(target, Watcher):
            self._unsubscribe[id(target)] = target.subscribe(self.record)
            return
        if self in target._recorders:
            return
        stamp = target.now if target.now is not None else time.time()
        for kind, store in target.objects.items():
            for obj in store.values():
                self.record(WatchEvent(kind, "ADDED", obj, stamp, from_list=True))
        target._recorders.append(self)

    def detach(self, target: Recordable | Watcher) -> None:
        """Stop recording from ``target``."""
        if isinstance(target, Watcher):
            unsubscribe = self._unsubscribe.pop(id(target), None)
            if unsubscribe is not None:
                unsubscribe()
        elif self in target._recorders:
            target._recorders.remove(self)

    def record(self, event: WatchEvent) -> None:
        """Keep ``event`` (thread-safe; called from watch threads)."""
        key = _event_key(event)
        with self._lock:
            if key in self._seen:
                return
            self._seen.add(key)
            self._events.append(event)

    @property
    def events(self) -> list[WatchEvent]:
        """The events recorded so far, in time order."""
        with self._lock:
            return sorted(self._events, key=lambda e: e.timestamp)

    def __len__(self) -> int:
        return len(self._events)

    def __repr__(self) -> str:
        return f"<Recorder: {len(self)} events>"

    def clear(self) -> None:
        """Forget everything recorded so far."""
        with self._lock:
            self._events.clear()
            self._seen.clear()

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the recording as JSON lines, gzipped when ``path`` ends in ``.gz``."""
        return save_events(self.events, path)
