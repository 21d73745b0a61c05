"""NodeRequests: what each node has promised its pods, one bar per node, live.

The bar that kube-ops-view made popular: for every node, the CPU and memory
its pods request, as a share of what it offers (``status.allocatable``),
stacked by owner, so a DaemonSet's cost shows on every node at once. A
DaemonSet pod that does not fit its node waits unscheduled; it is drawn
hatched past the requests, across the 100 % line it would cross.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Unpack

import ipywidgets as widgets
import pandas as pd

from ..kube._objects import meta
from ..kube._requests import (
    SHOWN,
    Amounts,
    NodeBook,
    amount_text,
    books_frame,
    node_books,
    owner_label,
    pod_requests,
)
from ..kube._watch import Obj, WatchEvent
from ._base import LiveWidget, WatchSpec, WidgetOptions
from ._figure import figure_widget
from ._palette import FONT, INK, INK_CSS, OKABE_ITO, chart_layout, escape, html_table

#: Owners' colours, in the order they are first seen (vermillion is for "does not fit").
OWNER_COLOURS = (
    OKABE_ITO["blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["yellow"],
)
OTHERS = "other namespaces"
WAITING = OKABE_ITO["vermillion"]
#: Panel titles on two lines: on one, the second ran 14 px past a 590-pixel chart.
TITLES = {
    "cpu": "CPU requested<br>% of allocatable",
    "memory": "memory requested<br>% of allocatable",
}
#: A row's height: the node's name and its two amounts, on three lines.
ROW_PX = 50
#: The amounts under a node's name, smaller and in the chart's secondary ink.
AMOUNT_FONT = f"font-size:11px;color:{INK}"


class NodeRequests(LiveWidget):
    """Requests against allocatable, per node and per owner: what every node pays, live.

    One horizontal bar per node for CPU and one for memory, in percent of the
    node's ``status.allocatable``. Each owner's pods (``DaemonSet/log-collector``)
    are a segment of their own colour, named in the legend below with what one
    of its pods requests; pods of other namespaces are grey. Under each node's
    name, its amounts (``cpu 550m of 1``): there they are never cut, whatever the
    chart's width (beside a bar, a 590-pixel chart cut them). A DaemonSet pod that does not fit
    waits unscheduled for its node: it is drawn hatched in vermillion after the
    requests, past the dashed 100 % line, and listed under the chart.

    Pods count as the scheduler counts them: every pod bound to the node that
    has not Succeeded or Failed, whatever its namespace; requests add up as the
    scheduler adds them (init containers, sidecars, pod overhead).

    Args:
        namespace: whose owners get colours and short names (None: every pod's).
        **options: as for every widget (``source``, ``recorder``, ``loop``, ...).

    Example:
        >>> ch.NodeRequests(ns)  # doctest: +SKIP
        >>> ch.NodeRequests(ns).to_frame()[["node", "cpu_requested", "cpu_percent"]]
        ... # doctest: +SKIP
    """

    def __init__(self, namespace: str | None = None, **options: Unpack[WidgetOptions]) -> None:
        # Each pod's requests, by uid, for the resourceVersion they were computed from.
        self._asks: dict[str, tuple[str, Amounts]] = {}
        self._colours: dict[str, str] = {}
        super().__init__(namespace=namespace, **options)

    def _build(self) -> list[widgets.Widget]:
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        base = make_subplots(
            rows=1,
            cols=len(SHOWN),
            shared_yaxes=True,
            horizontal_spacing=0.06,
            subplot_titles=[TITLES[r] for r in SHOWN],
        )
        for col, resource in enumerate(SHOWN, start=1):
            base.add_trace(
                go.Bar(
                    name=f"{resource} requested",
                    orientation="h",
                    width=0.6,
                    marker={"line": {"width": 1, "color": "rgba(255,255,255,0.6)"}},
                    hovertemplate="%{hovertext}<extra></extra>",
                    showlegend=False,
                ),
                row=1,
                col=col,
            )
            base.add_trace(
                go.Bar(
                    name=f"{resource} waiting: does not fit",
                    orientation="h",
                    width=0.6,
                    marker={
                        "color": "rgba(213,94,0,0.25)",
                        "line": {"width": 2, "color": WAITING},
                        "pattern": {"shape": "/", "fgcolor": WAITING, "fillmode": "overlay"},
                    },
                    hovertemplate="%{hovertext}<extra></extra>",
                    showlegend=False,
                ),
                row=1,
                col=col,
            )
            base.add_vline(x=100, line={"dash": "dash", "color": INK, "width": 1}, row=1, col=col)
        layout = chart_layout(
            barmode="overlay", height=240, margin={"l": 90, "r": 20, "t": 50, "b": 40}
        )
        base.update_layout(**layout)
        base.update_yaxes(type="category", autorange="reversed", automargin=True)
        base.update_xaxes(ticksuffix=" %", gridcolor="rgba(128, 128, 128, 0.25)", color=INK)
        self.figure = figure_widget(base)
        self.legend = widgets.HTML(layout=widgets.Layout(width="100%"))
        return [self.figure, self.legend]

    def _figure(self) -> Any:
        return self.figure

    def _sync_targets(self) -> list[Any]:
        return [self.status, self.legend]

    def _specs(self) -> list[WatchSpec]:
        return [WatchSpec("Pod", None), WatchSpec("Node", None)]

    def _accepts(self, event: WatchEvent) -> bool:
        return event.kind in ("Pod", "Node")

    def _observe(self, event: WatchEvent, old: Obj | None) -> None:
        if event.kind == "Pod" and event.type == "DELETED":
            self._asks.pop(str(meta(event.object).get("uid")), None)

    def _reset(self) -> None:
        self._asks.clear()
        self._colours.clear()

    # -- what is shown ---------------------------------------------------------------------

    def _requests_of(self, pod: Obj) -> Amounts:
        """Return a pod's requests, computed once per resourceVersion."""
        uid, version = str(meta(pod).get("uid")), str(meta(pod).get("resourceVersion"))
        cached = self._asks.get(uid)
        if cached is None or cached[0] != version:
            cached = (version, pod_requests(pod.get("spec") or {}, pod.get("status")))
            self._asks[uid] = cached
        return cached[1]

    def books(self) -> dict[str, NodeBook]:
        """Return every node's books: allocatable, requests by owner, pods waiting for it."""
        return node_books(
            self.objects.get("Node", {}).values(),
            self.objects.get("Pod", {}).values(),
            self.namespace,
            self._requests_of,
        )

    def to_frame(self) -> pd.DataFrame:
        """Return one row per node, as :func:`course_helpers.node_requests` reads it."""
        return books_frame(self.books())

    def segments(self) -> pd.DataFrame:
        """Return one row per (node, owner) with its cpu and memory in percent of allocatable."""
        rows = []
        for book in self.books().values():
            for owner, asks in self._grouped(book).items():
                row: dict[str, Any] = {"node": book.node, "owner": owner}
                for resource in SHOWN:
                    row[f"{resource}_percent"] = _percent(asks, book, resource)
                rows.append(row)
        columns = ["node", "owner", *(f"{r}_percent" for r in SHOWN)]
        return pd.DataFrame(rows, columns=columns)

    def _grouped(self, book: NodeBook) -> dict[str, Amounts]:
        """Return the node's requests by owner, other namespaces' pods as one group."""
        grouped: dict[str, Amounts] = {}
        for owner, asks in sorted(book.by_owner.items()):
            key = _grouped_name(owner, self.namespace)
            into = grouped.setdefault(key, {})
            for resource, value in asks.items():
                into[resource] = into.get(resource, Decimal(0)) + value
        return grouped

    def colour(self, owner: str) -> str:
        """Return ``owner``'s colour: a fixed one per owner, in the order first seen."""
        if owner == OTHERS:
            return OKABE_ITO["grey"]
        if owner not in self._colours:
            self._colours[owner] = OWNER_COLOURS[len(self._colours) % len(OWNER_COLOURS)]
        return self._colours[owner]

    def _summary(self) -> str:
        books = self.books()
        pods = sum(b.pods for b in books.values())
        waiting = sum(len(b.waiting) for b in books.values())
        text = f"{len(books)} nodes · {pods} pods counted"
        return text + (f" · {waiting} waiting: does not fit" if waiting else "")

    # -- drawing -----------------------------------------------------------------------------

    def _render(self) -> None:
        books = self.books()
        nodes = list(books)
        with self.figure.batch_update():
            for col, resource in enumerate(SHOWN):
                bars, waits = self.figure.data[2 * col : 2 * col + 2]
                bar = _Segments()
                wait = _Segments()
                ends: list[float] = []
                for book in books.values():
                    start = 0.0
                    for owner, asks in self._grouped(book).items():
                        share = _percent(asks, book, resource)
                        if share <= 0:
                            continue
                        amount = amount_text(resource, asks.get(resource, Decimal(0)))
                        bar.add(
                            book.node,
                            start,
                            share,
                            self.colour(owner),
                            f"{book.node}: {owner} requests {amount} {resource} ({share:.0f} %)",
                        )
                        start += share
                    for pod, asks in sorted(book.waiting.items()):
                        share = _percent(asks, book, resource)
                        if share <= 0:
                            continue
                        amount = amount_text(resource, asks.get(resource, Decimal(0)))
                        free = amount_text(resource, book.free(resource))
                        wait.add(
                            book.node,
                            start,
                            share,
                            WAITING,
                            f"{pod} waits: asks {amount} {resource}, {free} left",
                        )
                        start += share
                    ends.append(start)
                bar.apply(bars)
                wait.apply(waits)
                axis = "xaxis" if col == 0 else f"xaxis{col + 1}"
                self.figure.layout[axis].range = [0, max([100.0, *ends]) * 1.08]
            self.figure.layout.yaxis.update(
                tickmode="array",
                tickvals=nodes,
                ticktext=[amounts_label(book) for book in books.values()],
            )
            self.figure.layout.height = 110 + ROW_PX * max(len(nodes), 1)
        self.legend.value = self._legend_html(books)

    def _legend_html(self, books: dict[str, NodeBook]) -> str:
        """Name each colour, with what one pod of the owner requests, and what waits."""
        per_pod: dict[str, str] = {}
        for book in books.values():
            for owner in self._grouped(book):
                per_pod.setdefault(owner, "")
        for pod in self.objects.get("Pod", {}).values():
            owner = _owner_key(pod, self.namespace)
            if owner in per_pod and not per_pod[owner]:
                asks = self._requests_of(pod)
                per_pod[owner] = (
                    ", ".join(f"{r} {amount_text(r, asks[r])}" for r in SHOWN if asks.get(r))
                    or "no requests"
                )
        items = []
        for owner in sorted(per_pod, key=lambda o: (o == OTHERS, o)):
            swatch = (
                f'<span style="display:inline-block;width:12px;height:12px;border-radius:2px;'
                f'background:{self.colour(owner)};margin-right:4px;vertical-align:-1px"></span>'
            )
            what = "" if owner == OTHERS else f" (one pod: {escape(per_pod[owner])})"
            items.append(
                f'<span class="course-owner" style="margin-right:14px">{swatch}'
                f"{escape(owner)}{what}</span>"
            )
        waiting = [
            f"{escape(book.waiting_owner[pod])} pod {escape(pod)} waits for {escape(book.node)}"
            for book in books.values()
            for pod in sorted(book.waiting)
        ]
        note = (
            f'<div class="course-waiting" style="color:{WAITING}">▨ does not fit: '
            + "; ".join(waiting)
            + "</div>"
            if waiting
            else ""
        )
        return (
            f'<div style="font-family:{FONT};font-size:12px;color:{INK_CSS}">'
            + "".join(items)
            + " · dashed line: all of the node's allocatable"
            + f"{note}</div>"
        )

    def _snapshot_html(self) -> str:
        frame = self.to_frame()
        rows = [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]
        return self._legend_html(self.books()) + html_table(rows, list(frame.columns))


def amounts_label(book: NodeBook) -> str:
    """Return a node's tick label: its name, then what its pods request of what it offers."""
    lines = [escape(book.node)]
    for resource in SHOWN:
        requested = amount_text(resource, book.requested.get(resource, Decimal(0)))
        offered = amount_text(resource, book.allocatable.get(resource, Decimal(0)))
        lines.append(f'<span style="{AMOUNT_FONT}">{resource} {requested} of {offered}</span>')
    return "<br>".join(lines)


def _grouped_name(owner: str, namespace: str | None) -> str:
    """Return the legend name of ``owner``: itself, or OTHERS for another namespace's pods."""
    return OTHERS if namespace and owner.count("/") > 1 else owner


def _owner_key(pod: Obj, namespace: str | None) -> str:
    return _grouped_name(owner_label(pod, namespace), namespace)


def _percent(asks: Amounts, book: NodeBook, resource: str) -> float:
    offered = book.allocatable.get(resource, Decimal(0))
    if offered <= 0:
        return 0.0
    return float(asks.get(resource, Decimal(0)) / offered * 100)


class _Segments:
    """One bar trace's segments: node (y), start (base), length (x), colour, hover text."""

    def __init__(self) -> None:
        self.y: list[str] = []
        self.base: list[float] = []
        self.x: list[float] = []
        self.colours: list[str] = []
        self.hover: list[str] = []

    def add(self, node: str, start: float, length: float, colour: str, hover: str) -> None:
        self.y.append(node)
        self.base.append(start)
        self.x.append(length)
        self.colours.append(colour)
        self.hover.append(hover)

    def apply(self, trace: Any) -> None:
        trace.y, trace.base, trace.x, trace.hovertext = self.y, self.base, self.x, self.hover
        trace.marker.color = (
            self.colours if trace.name.endswith("requested") else trace.marker.color
        )
