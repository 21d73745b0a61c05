"""Read and write recorded watch events as JSON lines (optionally gzipped).

The first line is a header naming the format; every other line is one event::

    {"format": "k8s-workloads-course/watch-recording", "version": 1}
    {"t": 1767225600.5, "kind": "Pod", "type": "ADDED", "object": {...}}
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, cast

from ..kube._watch import EVENT_TYPES, WatchEvent

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
