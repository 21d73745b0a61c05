"""StatefulSetOrder: when each ordinal was created, scheduled, ready and deleted."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Unpack

import ipywidgets as widgets
import pandas as pd

from ..kube._objects import (
    condition_since,
    controller_of,
    epoch,
    meta,
    name_of,
    statefulset_ordinal,
    uid_of,
)
from ..kube._watch import Obj, WatchEvent
from ._base import LiveWidget, WatchSpec, WidgetOptions
from ._palette import INK, STAGES, chart_layout, escape, html_table

FRAME_COLUMNS = [
    "ordinal",
    "pod",
    "created",
    "scheduled",
    "ready",
    "deletion",
    "deleted",
    "pvc",
    "pvc_phase",
]


@dataclass
class Incarnation:
    """One pod that held an ordinal; times in epoch seconds (None: not yet)."""

    ordinal: int
    pod: str
    uid: str
    created: float | None = None
    scheduled: float | None = None
    ready: float | None = None
    deletion: float | None = None
    deleted: float | None = None

    def segments(self, now: float) -> list[tuple[str, float, float]]:
        """Return (stage, start, end) pieces of this pod's bar up to ``now``."""
        if self.created is None:
            return []
        end = self.deleted if self.deleted is not None else now
        cuts = [
            ("pending", self.created),
            ("starting", self.scheduled),
            ("ready", self.ready),
            ("terminating", self.deletion),
        ]
        known = sorted(((stage, t) for stage, t in cuts if t is not None), key=lambda c: c[1])
        pieces = []
        for (stage, start), following in zip(known, [*known[1:], ("end", end)], strict=True):
            stop = min(following[1], end)
            if stop >= start:
                pieces.append((stage, start, stop))
        return pieces


def _deletion_requested(pod: Obj) -> float | None:
    """Return when deletion was asked for: the deletionTimestamp minus the grace period."""
    deadline = epoch(meta(pod).get("deletionTimestamp"))
    if deadline is None:
        return None
    return deadline - float(meta(pod).get("deletionGracePeriodSeconds") or 0)


class StatefulSetOrder(LiveWidget):
    """A Gantt chart of a StatefulSet's pods by ordinal: created → scheduled → ready → gone.

    Each row is one ordinal; its bar changes colour and fill pattern at each
    stage (dots: waiting for a node; stripes: starting; solid: Ready; crosses:
    terminating). OrderedReady scale-up shows as a staircase, ordinal by
    ordinal; scale-down as the same staircase in reverse. The row label names
    the ordinal's PersistentVolumeClaims (``<template>-<statefulset>-<ordinal>``)
    and whether they are Bound; they outlive the pods.

    Args:
        statefulset: the StatefulSet's name.
        namespace: its namespace.
        **options: as for every widget (``source``, ``recorder``, ...; see ``LiveWidget``).

    Example:
        >>> order = StatefulSetOrder("web", "demo")  # doctest: +SKIP
        >>> order.to_frame()[["pod", "created", "ready"]]  # doctest: +SKIP

    """

    tick_seconds = 1.0

    def __init__(
        self, statefulset: str, namespace: str | None = None, **options: Unpack[WidgetOptions]
    ) -> None:
        self.statefulset = statefulset
        self.incarnations: dict[str, Incarnation] = {}
        self._pvc_name = re.compile(rf"(?P<template>.+)-{re.escape(statefulset)}-(?P<ordinal>\d+)")
        super().__init__(namespace=namespace, **options)

    def _build(self) -> list[widgets.Widget]:
        import plotly.graph_objects as go

        traces: list[Any] = [
            go.Bar(
                name=style.label,
                orientation="h",
                width=0.6,
                marker={
                    "color": style.color,
                    "line": {"width": 0},
                    "pattern": {
                        "shape": style.pattern,
                        "fillmode": "overlay",
                        "fgcolor": "rgba(0,0,0,0.55)",
                    },
                },
                textposition="none",
                hovertemplate="%{text}<extra></extra>",
            )
            for style in STAGES.values()
        ]
        traces.append(
            go.Scatter(
                name="deleted",
                mode="markers",
                marker={"symbol": "x-thin-open", "size": 14, "color": INK, "line": {"width": 2}},
                hovertemplate="%{text}<extra></extra>",
            )
        )
        layout = chart_layout(height=280, barmode="overlay")
        layout["xaxis"].update(title={"text": "seconds since the first pod was created"})
        layout["yaxis"].update(autorange="reversed", automargin=True, tickmode="array")
        self.figure = go.FigureWidget(data=traces, layout=layout)
        return [self.figure]

    def _figure(self) -> Any:
        return self.figure

    def _specs(self) -> list[WatchSpec]:
        return [
            WatchSpec(
                "StatefulSet", self.namespace, field_selector=f"metadata.name={self.statefulset}"
            ),
            WatchSpec("Pod", self.namespace),
            WatchSpec("PersistentVolumeClaim", self.namespace),
        ]

    def _accepts(self, event: WatchEvent) -> bool:
        if self.namespace and meta(event.object).get("namespace") != self.namespace:
            return False
        if event.kind == "StatefulSet":
            return event.name == self.statefulset
        if event.kind == "Pod":
            return controller_of(event.object) == ("StatefulSet", self.statefulset)
        if event.kind == "PersistentVolumeClaim":
            return self._pvc_name.fullmatch(event.name) is not None
        return False

    def _observe(self, event: WatchEvent, old: Obj | None) -> None:
        if event.kind != "Pod":
            return
        pod = event.object
        ordinal = statefulset_ordinal(pod)
        if ordinal is None:
            return
        uid = uid_of(pod)
        life = self.incarnations.setdefault(uid, Incarnation(ordinal, name_of(pod), uid))
        life.created = epoch(meta(pod).get("creationTimestamp"))
        life.scheduled = life.scheduled or condition_since(pod, "PodScheduled")
        life.ready = life.ready or condition_since(pod, "Ready")
        life.deletion = _deletion_requested(pod) or life.deletion
        if event.type == "DELETED":
            life.deleted = event.timestamp
            life.deletion = life.deletion or event.timestamp

    def _reset(self) -> None:
        self.incarnations.clear()

    # -- what is shown ---------------------------------------------------------------------

    @property
    def statefulset_object(self) -> Obj | None:
        """The StatefulSet as last seen."""
        found = self.items("StatefulSet")
        return found[0] if found else None

    @property
    def t0(self) -> float | None:
        """Epoch seconds of the earliest pod creation seen: the x axis' zero."""
        created = [i.created for i in self.incarnations.values() if i.created is not None]
        return min(created) if created else None

    def pvcs(self) -> dict[int, list[tuple[str, str]]]:
        """Return each ordinal's claims as (name, phase); phase "Missing" if expected but absent."""
        found: dict[int, list[tuple[str, str]]] = {}
        seen: set[str] = set()
        for pvc in self.items("PersistentVolumeClaim"):
            match = self._pvc_name.fullmatch(name_of(pvc))
            if match:
                phase = str((pvc.get("status") or {}).get("phase") or "Pending")
                found.setdefault(int(match["ordinal"]), []).append((name_of(pvc), phase))
                seen.add(name_of(pvc))
        spec = (self.statefulset_object or {}).get("spec") or {}
        templates = [name_of(t) for t in spec.get("volumeClaimTemplates") or []]
        for life in self.incarnations.values():
            if life.deleted is None:
                for template in templates:
                    claim = f"{template}-{self.statefulset}-{life.ordinal}"
                    if claim not in seen:
                        found.setdefault(life.ordinal, []).append((claim, "Missing"))
                        seen.add(claim)
        return {k: sorted(v) for k, v in sorted(found.items())}

    def ordinals(self) -> list[int]:
        """Return every ordinal that has a pod, had one, or keeps a claim."""
        return sorted({i.ordinal for i in self.incarnations.values()} | set(self.pvcs()))

    def to_frame(self) -> pd.DataFrame:
        """Return one row per pod incarnation (plus claim-only ordinals); times in s since t0."""
        t0 = self.t0 or 0.0
        pvcs = self.pvcs()

        def rel(value: float | None) -> float:
            return math.nan if value is None else value - t0

        rows = []
        lives = sorted(self.incarnations.values(), key=lambda i: (i.ordinal, i.created or 0.0))
        for ordinal in self.ordinals():
            claims = pvcs.get(ordinal, [])
            claim = ", ".join(name for name, _ in claims) or None
            phase = ", ".join(phase for _, phase in claims) or None
            mine: list[Incarnation | None] = [i for i in lives if i.ordinal == ordinal] or [None]
            for life in mine:
                rows.append(
                    {
                        "ordinal": ordinal,
                        "pod": life.pod if life else None,
                        "created": rel(life.created if life else None),
                        "scheduled": rel(life.scheduled if life else None),
                        "ready": rel(life.ready if life else None),
                        "deletion": rel(life.deletion if life else None),
                        "deleted": rel(life.deleted if life else None),
                        "pvc": claim,
                        "pvc_phase": phase,
                    }
                )
        return pd.DataFrame(rows, columns=FRAME_COLUMNS)

    def row_label(self, ordinal: int) -> str:
        """Return the y-axis label of ``ordinal``: pod name and its claims."""
        claims = self.pvcs().get(ordinal, [])
        text = f"{self.statefulset}-{ordinal}"
        for claim, phase in claims:
            mark = "✓" if phase == "Bound" else "…" if phase == "Pending" else "✗"
            text += f" · {claim} {mark} {phase}"
        return text

    def chart_title(self) -> str:
        """Return the text above the chart."""
        sts = self.statefulset_object
        if sts is None:
            return f"StatefulSet {self.statefulset}: not seen yet"
        spec, status = sts.get("spec") or {}, sts.get("status") or {}
        policy = spec.get("podManagementPolicy") or "OrderedReady"
        return (
            f"StatefulSet {self.statefulset}: {status.get('readyReplicas') or 0}/"
            f"{spec.get('replicas', 1)} ready · {policy}"
        )

    def _summary(self) -> str:
        alive = [i for i in self.incarnations.values() if i.deleted is None]
        return f"{len(alive)} pods, {sum(len(v) for v in self.pvcs().values())} claims"

    # -- drawing -------------------------------------------------------------------------

    def _render(self) -> None:
        t0 = self.t0 or 0.0
        now = self.current_time()
        # per stage: bar starts (base), lengths (x), rows (y) and hover texts
        bars: dict[str, tuple[list[float], list[float], list[int], list[str]]] = {
            s: ([], [], [], []) for s in STAGES
        }
        gone: tuple[list[Any], list[Any], list[str]] = ([], [], [])
        for life in self.incarnations.values():
            for stage, start, end in life.segments(now):
                base, length, rows, texts = bars[stage]
                base.append(start - t0)
                length.append(end - start)
                rows.append(life.ordinal)
                texts.append(
                    f"{life.pod}: {STAGES[stage].label} {start - t0:.1f}s → {end - t0:.1f}s"
                )
            if life.deleted is not None:
                gone[0].append(life.deleted - t0)
                gone[1].append(life.ordinal)
                gone[2].append(f"{life.pod} deleted at {life.deleted - t0:.1f}s")
        ordinals = self.ordinals()
        with self.figure.batch_update():
            for trace, stage in zip(self.figure.data, STAGES, strict=False):
                trace.base, trace.x, trace.y, trace.text = bars[stage]
            marks = self.figure.data[len(STAGES)]
            marks.x, marks.y, marks.text = gone
            self.figure.layout.yaxis.tickvals = ordinals
            self.figure.layout.yaxis.ticktext = [escape(self.row_label(o)) for o in ordinals]
            self.figure.layout.title.text = escape(self.chart_title())

    def _snapshot_html(self) -> str:
        frame = self.to_frame()
        columns = [
            "ordinal",
            "pod",
            "created",
            "scheduled",
            "ready",
            "deletion",
            "deleted",
            "pvc",
            "pvc_phase",
        ]
        rows = [{c: row[c] for c in columns} for row in frame.to_dict("records")]
        note = "times in seconds since the first pod was created"
        return f"<p>{escape(self.chart_title())} ({note})</p>" + html_table(rows, columns)
