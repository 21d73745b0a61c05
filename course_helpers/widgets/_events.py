"""EventFeed: a namespace's Events, newest first, repeats folded into a count."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Unpack

import pandas as pd

from ..kube._objects import meta, parse_time, uid_of
from ..kube._watch import Obj, WatchEvent
from ._base import WatchSpec, WidgetOptions
from ._palette import (
    CELL_CSS,
    FONT,
    HEAD_CSS,
    INK_CSS,
    OKABE_ITO,
    TABLE_CSS,
    TEXT_CSS,
    escape,
)
from ._table_view import HtmlTableView

FRAME_COLUMNS = [
    "last_seen",
    "type",
    "object",
    "reason",
    "message",
    "count",
    "first_seen",
    "source",
]
Key = tuple[str, str, str, str]


@dataclass
class _Group:
    type: str = "Normal"
    source: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    first: dict[str, datetime] = field(default_factory=dict)
    last: dict[str, datetime] = field(default_factory=dict)


def _times(event: Obj) -> tuple[datetime, datetime]:
    series = event.get("series") or {}
    created = parse_time(meta(event).get("creationTimestamp")) or datetime.fromtimestamp(0, UTC)
    first = parse_time(event.get("firstTimestamp")) or parse_time(event.get("eventTime")) or created
    last = (
        parse_time(series.get("lastObservedTime"))
        or parse_time(event.get("lastTimestamp"))
        or parse_time(event.get("eventTime"))
        or first
    )
    return first, max(first, last)


def _count(event: Obj) -> int:
    series = event.get("series") or {}
    return int(series.get("count") or event.get("count") or 1)


def event_key(event: Obj) -> Key:
    """Return what repeats share: (involved kind, involved name, reason, message)."""
    involved = event.get("involvedObject") or event.get("regarding") or {}
    return (
        str(involved.get("kind") or ""),
        str(involved.get("name") or ""),
        str(event.get("reason") or ""),
        str(event.get("message") or event.get("note") or ""),
    )


class EventFeed(HtmlTableView):
    """The namespace's Events, newest first, each distinct one once with its count.

    Events with the same involved object, reason and message are one row
    whose count adds up every Event object behind it (and each one's own
    ``count``/``series.count``). Warnings are marked ⚠ as well as coloured.
    The newest ``visible_rows`` rows show in full (no box cuts a row in half);
    older ones fold under "N older events", which a click opens, in the
    widget and in its snapshot.

    Which controller records which event is the controllers' choice, not the
    feed's: in v1.36 the DaemonSet controller records ``SuccessfulDelete``
    only for pods it deletes itself (a node's labels or taints no longer
    fit); the pods of a removed node are deleted by the pod garbage
    collector, and those of a deleted DaemonSet by the garbage collector,
    and neither records an Event.

    Args:
        namespace: whose Events to show.
        involved: only Events about this object, ``"Kind/name"`` or ``"name"``.
        max_rows: show at most this many rows (newest first).
        visible_rows: how many of them show unfolded.
        **options: as for every widget (``source``, ``recorder``, ...; see ``LiveWidget``).

    Example:
        >>> feed = EventFeed("demo")  # doctest: +SKIP
        >>> feed.to_frame().head()  # doctest: +SKIP

    """

    def __init__(
        self,
        namespace: str | None = None,
        *,
        involved: str | None = None,
        max_rows: int = 50,
        visible_rows: int = 12,
        **options: Unpack[WidgetOptions],
    ) -> None:
        self.visible_rows = visible_rows
        kind, _, name = (involved or "").rpartition("/")
        self.involved = (kind or None, name) if involved else None
        self.max_rows = max_rows
        self.groups: dict[Key, _Group] = {}
        self._keys: dict[str, Key] = {}
        super().__init__(namespace=namespace, **options)

    def _specs(self) -> list[WatchSpec]:
        return [WatchSpec("Event", self.namespace)]

    def _accepts(self, event: WatchEvent) -> bool:
        if event.kind != "Event":
            return False
        if self.namespace and meta(event.object).get("namespace") != self.namespace:
            return False
        if self.involved is not None:
            kind, name, _, _ = event_key(event.object)
            want_kind, want_name = self.involved
            return name == want_name and (want_kind is None or kind == want_kind)
        return True

    def _observe(self, event: WatchEvent, old: Obj | None) -> None:
        uid = uid_of(event.object) or event.name
        previous = self._keys.pop(uid, None)
        if previous is not None:
            self._forget(previous, uid)
        if event.type == "DELETED":
            return
        key = event_key(event.object)
        group = self.groups.setdefault(key, _Group())
        first, last = _times(event.object)
        group.counts[uid] = _count(event.object)
        group.first[uid], group.last[uid] = first, last
        group.type = str(event.object.get("type") or "Normal")
        source = event.object.get("source") or {}
        group.source = str(source.get("component") or event.object.get("reportingComponent") or "")
        self._keys[uid] = key

    def _forget(self, key: Key, uid: str) -> None:
        group = self.groups.get(key)
        if group is None:
            return
        for table in (group.counts, group.first, group.last):
            table.pop(uid, None)
        if not group.counts:
            del self.groups[key]

    def _reset(self) -> None:
        self.groups.clear()
        self._keys.clear()

    # -- what is shown ---------------------------------------------------------------------

    def to_frame(self) -> pd.DataFrame:
        """Return the rows shown: newest first, one per distinct event, at most ``max_rows``."""
        rows = []
        for (kind, name, reason, message), group in self.groups.items():
            rows.append(
                {
                    "last_seen": max(group.last.values()),
                    "type": group.type,
                    "object": f"{kind}/{name}",
                    "reason": reason,
                    "message": message,
                    "count": sum(group.counts.values()),
                    "first_seen": min(group.first.values()),
                    "source": group.source,
                }
            )
        rows.sort(key=lambda r: (r["last_seen"], r["first_seen"]), reverse=True)
        frame = pd.DataFrame(rows[: self.max_rows], columns=FRAME_COLUMNS)
        for column in ("last_seen", "first_seen"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        frame["count"] = frame["count"].astype("int64")
        return frame

    def _summary(self) -> str:
        warnings = sum(1 for g in self.groups.values() if g.type == "Warning")
        return f"{len(self.groups)} distinct events, {warnings} warnings"

    # -- drawing -------------------------------------------------------------------------

    def _render(self) -> None:
        self.table.value = self._table_html()

    def _snapshot_html(self) -> str:
        return self._table_html()

    def _table_html(self) -> str:
        frame = self.to_frame()
        if frame.empty:
            return "<i>no events yet</i>"
        rows = [_event_rows(row) for row in frame.to_dict("records")]
        # The newest events in full, older ones folded: nothing is cut in half. Each event
        # is two lines, its message under the rest across the table's width: in a
        # column of its own, beside the others, it was squeezed to a word per line.
        shown, older = rows[: self.visible_rows], rows[self.visible_rows :]
        html = _feed_table(shown)
        if older:
            n = len(older)
            html += (
                f'<details class="course-older"><summary style="cursor:pointer;color:{INK_CSS};'
                f'font-family:{FONT};font-size:12px;margin:4px 0">{n} older '
                f"event{'s' if n != 1 else ''}</summary>{_feed_table(older)}</details>"
            )
        aria = 'role="region" aria-label="events, newest first"'
        return f'<div class="course-events" {aria}>{html}</div>'


#: The feed's columns; each event's message goes on a line of its own below them.
COLUMNS = ("last seen", "reason", "object", "count")
#: A cell of an event's first line: no line under it (its message comes next).
_TOP_CSS = (
    "padding:3px 8px 0 8px;text-align:left;vertical-align:top;white-space:nowrap;line-height:1.4"
)
#: The message line: across the columns right of the time, wrapping where it must.
_MESSAGE_CSS = (
    f"{CELL_CSS};padding-top:0;padding-bottom:4px;overflow-wrap:anywhere;line-height:1.4;"
    f"color:{TEXT_CSS}"
)


def _event_rows(row: dict[Any, Any]) -> str:
    """Return one event as two table rows: time, reason, object, count; then its message."""
    warning = row["type"] == "Warning"
    reason = escape(row["reason"])
    if warning:
        reason = f'<b style="color:{OKABE_ITO["vermillion"]}">⚠ {reason}</b>'
    # An object's name may break (at any character) rather than push the table wider.
    cells = [
        (f"{row['last_seen']:%H:%M:%S}", ""),
        (reason, ""),
        (escape(row["object"]), ";white-space:normal;overflow-wrap:anywhere"),
        (escape(row["count"]), ";text-align:right"),
    ]
    top = "".join(f'<td style="{_TOP_CSS}{extra}">{text}</td>' for text, extra in cells)
    kind = "Warning" if warning else "Normal"
    message = escape(row["message"])
    return (
        f'<tbody class="course-event" data-type="{kind}"><tr>{top}</tr>'
        f'<tr><td style="{CELL_CSS}"></td>'
        f'<td colspan="{len(COLUMNS) - 1}" style="{_MESSAGE_CSS}">{message}</td></tr></tbody>'
    )


def _feed_table(rows: list[str]) -> str:
    """Return the events' rows in a table as wide as the output area, its header on one line."""
    head = "".join(
        f'<th style="{HEAD_CSS}{";text-align:right" if c == "count" else ""}">{c}</th>'
        for c in COLUMNS
    )
    return (
        f'<table style="{TABLE_CSS};width:100%"><thead><tr>{head}</tr></thead>'
        + "".join(rows)
        + "</table>"
    )
