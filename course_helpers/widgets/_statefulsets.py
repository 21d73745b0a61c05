"""StatefulSetOrder: when each ordinal was created, scheduled, ready and deleted.

One StatefulSet, or several side by side in the same chart (one group of rows
each, on a shared time axis), e.g. an ``OrderedReady`` one beside a ``Parallel`` one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
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
from ._figure import figure_widget
from ._palette import INK, STAGES, chart_layout, escape, html_table

FRAME_COLUMNS = [
    "statefulset",
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
    statefulset: str = ""

    def segments(self, now: float, min_ready: float = 0.0) -> list[tuple[str, float, float]]:
        """Return (stage, start, end) pieces of this pod's bar up to ``now``.

        With ``min_ready`` (the StatefulSet's ``minReadySeconds``), the first
        ``min_ready`` seconds of Ready are "ready, not yet available": the
        controller counts a pod available once its Ready condition's
        lastTransitionTime is that old (``isRunningAndAvailable`` in
        pkg/controller/statefulset).
        """
        if self.created is None:
            return []
        end = self.deleted if self.deleted is not None else now
        available = self.ready + min_ready if self.ready is not None and min_ready > 0 else None
        cuts = [
            ("pending", self.created),
            ("starting", self.scheduled),
            ("unavailable", self.ready if available is not None else None),
            ("ready", available if available is not None else self.ready),
            ("terminating", self.deletion),
        ]
        known = sorted(((stage, t) for stage, t in cuts if t is not None), key=lambda c: c[1])
        if self.deletion is not None:  # once terminating, a pod's bar stays so
            known = [(st, t) for st, t in known if st == "terminating" or t <= self.deletion]
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


#: Pixels between the chart's top edge and its title's first line.
TITLE_GAP_PX = 22
#: Room above the bars for the legend: three rows at 590 pixels, one on a wide screen.
LEGEND_PX = 64


class StatefulSetOrder(LiveWidget):
    """A Gantt chart of a StatefulSet's pods by ordinal: created → scheduled → ready → gone.

    Each row is one ordinal; its bar changes colour and fill pattern at each
    stage (dots: waiting for a node; stripes: starting; solid: Ready; crosses:
    terminating; with ``minReadySeconds``, a lighter stretch while Ready but
    not yet available). OrderedReady scale-up shows as a staircase, ordinal by
    ordinal; scale-down as the same staircase in reverse. The row label names
    the ordinal's PersistentVolumeClaims (``<template>-<statefulset>-<ordinal>``)
    and whether they are Bound; they outlive the pods.

    Given several StatefulSets, it draws them in the same chart, one group of
    rows each (in the order given) on one time axis, with a title line each:
    an ``OrderedReady`` staircase beside a ``Parallel`` set's simultaneous bars.

    Args:
        statefulset: the StatefulSet's name, or a list of names.
        namespace: their namespace.
        **options: as for every widget (``source``, ``recorder``, ...; see ``LiveWidget``).

    Example:
        >>> order = StatefulSetOrder("web", "demo")  # doctest: +SKIP
        >>> order.to_frame()[["pod", "created", "ready"]]  # doctest: +SKIP
        >>> both = StatefulSetOrder(["ordered", "parallel"], "demo")  # doctest: +SKIP

    Raises:
        ValueError: no StatefulSet name was given.

    """

    tick_seconds = 1.0

    def __init__(
        self,
        statefulset: str | Sequence[str],
        namespace: str | None = None,
        **options: Unpack[WidgetOptions],
    ) -> None:
        names = [statefulset] if isinstance(statefulset, str) else list(dict.fromkeys(statefulset))
        if not names:
            raise ValueError("StatefulSetOrder needs the name of at least one StatefulSet.")
        #: The StatefulSets drawn, in the order of their row groups.
        self.statefulsets: tuple[str, ...] = tuple(names)
        #: The first of them (the only one, usually).
        self.statefulset = names[0]
        self.incarnations: dict[str, Incarnation] = {}
        self._deleted: set[str] = set()  # StatefulSets seen deleted (and not created again)
        self._pvc_names = {
            sts: re.compile(rf"(?P<template>.+)-{re.escape(sts)}-(?P<ordinal>\d+)") for sts in names
        }
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
        more = len(self.statefulsets) - 1  # each further set: a title line and a group of rows
        layout = chart_layout(height=280 + LEGEND_PX + 130 * more, barmode="overlay")
        layout["margin"]["t"] += 20 * more
        # The legend in rows between the title and the bars: on the right it took a
        # third of a 590-pixel chart (a notebook's width at 1024 pixels) from the bars.
        layout["margin"]["t"] += LEGEND_PX
        layout["legend"] = {
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "y": 1.02,
            "yanchor": "bottom",
            "bgcolor": "rgba(0,0,0,0)",
        }
        # The title at the top, a little below the edge: at y=1 the top of a title on two
        # lines (two StatefulSets) ran past the chart's top edge in JupyterLab.
        layout["title"].update(
            y=1 - TITLE_GAP_PX / layout["height"], yref="container", yanchor="top"
        )
        layout["xaxis"].update(title={"text": "seconds since the first pod was created"})
        layout["yaxis"].update(autorange="reversed", automargin=True, tickmode="array")
        self.figure = figure_widget(data=traces, layout=layout)
        return [self.figure]

    def _figure(self) -> Any:
        return self.figure

    def _specs(self) -> list[WatchSpec]:
        if len(self.statefulsets) == 1:
            sets = WatchSpec(
                "StatefulSet", self.namespace, field_selector=f"metadata.name={self.statefulset}"
            )
        else:  # a field selector names one object: watch the namespace's, keep ours
            sets = WatchSpec("StatefulSet", self.namespace)
        return [
            sets,
            WatchSpec("Pod", self.namespace),
            WatchSpec("PersistentVolumeClaim", self.namespace),
        ]

    def _accepts(self, event: WatchEvent) -> bool:
        if self.namespace and meta(event.object).get("namespace") != self.namespace:
            return False
        if event.kind == "StatefulSet":
            return event.name in self.statefulsets
        if event.kind == "Pod":
            owner = controller_of(event.object)
            return owner is not None and owner[0] == "StatefulSet" and owner[1] in self.statefulsets
        if event.kind == "PersistentVolumeClaim":
            return any(p.fullmatch(event.name) for p in self._pvc_names.values())
        return False

    def _observe(self, event: WatchEvent, old: Obj | None) -> None:
        if event.kind == "StatefulSet":
            if event.type == "DELETED":
                self._deleted.add(event.name)
            else:
                self._deleted.discard(event.name)
            return
        if event.kind != "Pod":
            return
        pod = event.object
        ordinal = statefulset_ordinal(pod)
        owner = controller_of(pod)
        if ordinal is None or owner is None:
            return
        uid = uid_of(pod)
        life = self.incarnations.setdefault(
            uid, Incarnation(ordinal, name_of(pod), uid, statefulset=owner[1])
        )
        life.created = epoch(meta(pod).get("creationTimestamp"))
        life.scheduled = life.scheduled or condition_since(pod, "PodScheduled")
        life.ready = life.ready or condition_since(pod, "Ready")
        life.deletion = _deletion_requested(pod) or life.deletion
        if event.type == "DELETED":
            life.deleted = event.timestamp
            life.deletion = life.deletion or event.timestamp

    def _reset(self) -> None:
        self.incarnations.clear()
        self._deleted.clear()

    # -- what is shown ---------------------------------------------------------------------

    def _which(self, statefulset: str | None) -> str:
        name = statefulset or self.statefulset
        if name not in self.statefulsets:
            raise ValueError(
                f"This chart shows {', '.join(self.statefulsets)}, not StatefulSet {name!r}."
            )
        return name

    def statefulset_objects(self) -> dict[str, Obj]:
        """Return the StatefulSets as last seen, by name (those not seen yet are missing)."""
        return {name_of(s): s for s in self.items("StatefulSet") if name_of(s) in self.statefulsets}

    @property
    def statefulset_object(self) -> Obj | None:
        """The (first) StatefulSet as last seen."""
        return self.statefulset_objects().get(self.statefulset)

    def min_ready_seconds(self, statefulset: str | None = None) -> float:
        """Return the StatefulSet's ``spec.minReadySeconds`` as last seen (0 if unset)."""
        sts = self.statefulset_objects().get(self._which(statefulset)) or {}
        return float((sts.get("spec") or {}).get("minReadySeconds") or 0)

    @property
    def t0(self) -> float | None:
        """Epoch seconds of the earliest pod creation seen: the x axis' zero."""
        created = [i.created for i in self.incarnations.values() if i.created is not None]
        return min(created) if created else None

    def _claims(self) -> dict[tuple[str, int], list[tuple[str, str]]]:
        """Return every row's claims as (name, phase), keyed by (statefulset, ordinal)."""
        found: dict[tuple[str, int], list[tuple[str, str]]] = {}
        seen: set[str] = set()
        for pvc in self.items("PersistentVolumeClaim"):
            for sts, pattern in self._pvc_names.items():
                match = pattern.fullmatch(name_of(pvc))
                if match:
                    phase = str((pvc.get("status") or {}).get("phase") or "Pending")
                    found.setdefault((sts, int(match["ordinal"])), []).append((name_of(pvc), phase))
                    seen.add(name_of(pvc))
                    break
        templates = {
            name_of(sts): [
                name_of(t) for t in (sts.get("spec") or {}).get("volumeClaimTemplates") or []
            ]
            for sts in self.statefulset_objects().values()
        }
        for life in self.incarnations.values():
            if life.deleted is None:
                for template in templates.get(life.statefulset, []):
                    claim = f"{template}-{life.statefulset}-{life.ordinal}"
                    if claim not in seen:
                        found.setdefault((life.statefulset, life.ordinal), []).append(
                            (claim, "Missing")
                        )
                        seen.add(claim)
        return {k: sorted(v) for k, v in found.items()}

    def pvcs(self, statefulset: str | None = None) -> dict[int, list[tuple[str, str]]]:
        """Return each ordinal's claims as (name, phase); phase "Missing" if expected but absent.

        Args:
            statefulset: whose (default: the first StatefulSet's).
        """
        name = self._which(statefulset)
        claims = self._claims()
        return {o: claims[(s, o)] for s, o in sorted(claims) if s == name}

    def ordinals(self, statefulset: str | None = None) -> list[int]:
        """Return every ordinal that has a pod, had one, or keeps a claim.

        Args:
            statefulset: whose (default: the first StatefulSet's).
        """
        name = self._which(statefulset)
        lives = {i.ordinal for i in self.incarnations.values() if i.statefulset == name}
        return sorted(lives | set(self.pvcs(name)))

    def rows(self) -> dict[tuple[str, int], int]:
        """Return each row's y position, keyed by (statefulset, ordinal), top to bottom.

        One StatefulSet: y is the ordinal. Several: their groups follow each
        other in the order given, an empty row between two groups.
        """
        positions: dict[tuple[str, int], int] = {}
        offset = 0
        for sts in self.statefulsets:
            ordinals = self.ordinals(sts)
            positions.update({(sts, o): offset + o for o in ordinals})
            if ordinals:
                offset += ordinals[-1] + 2
        return positions

    def to_frame(self) -> pd.DataFrame:
        """Return one row per pod incarnation (plus claim-only ordinals); times in s since t0."""
        t0 = self.t0 or 0.0
        claims = self._claims()

        def rel(value: float | None) -> float:
            return math.nan if value is None else value - t0

        rows = []
        lives = sorted(self.incarnations.values(), key=lambda i: (i.ordinal, i.created or 0.0))
        for sts, ordinal in self.rows():
            mine = claims.get((sts, ordinal), [])
            claim = ", ".join(name for name, _ in mine) or None
            phase = ", ".join(phase for _, phase in mine) or None
            found: list[Incarnation | None] = [
                i for i in lives if i.statefulset == sts and i.ordinal == ordinal
            ] or [None]
            for life in found:
                rows.append(
                    {
                        "statefulset": sts,
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

    def row_label(self, ordinal: int, statefulset: str | None = None) -> str:
        """Return the y-axis label of ``ordinal`` (of ``statefulset``): pod name and its claims."""
        name = self._which(statefulset)
        text = f"{name}-{ordinal}"
        for claim, phase in self._claims().get((name, ordinal), []):
            mark = "✓" if phase == "Bound" else "…" if phase == "Pending" else "✗"
            text += f" · {claim} {mark} {phase}"
        return text

    def _title_line(self, name: str) -> str:
        sts = self.statefulset_objects().get(name)
        if sts is None:
            return f"StatefulSet {name}: " + (
                "deleted" if name in self._deleted else "not seen yet"
            )
        spec, status = sts.get("spec") or {}, sts.get("status") or {}
        policy = spec.get("podManagementPolicy") or "OrderedReady"
        ready = f"{status.get('readyReplicas') or 0}/{spec.get('replicas', 1)} ready"
        if spec.get("minReadySeconds"):
            ready += (
                f", {status.get('availableReplicas') or 0} available "
                f"(minReadySeconds {spec['minReadySeconds']})"
            )
        return f"StatefulSet {name}: {ready} · {policy}"

    def chart_title(self) -> str:
        """Return the text above the chart: a line per StatefulSet."""
        return "\n".join(self._title_line(name) for name in self.statefulsets)

    def _summary(self) -> str:
        alive = [i for i in self.incarnations.values() if i.deleted is None]
        return f"{len(alive)} pods, {sum(len(v) for v in self._claims().values())} claims"

    # -- drawing -------------------------------------------------------------------------

    def _render(self) -> None:
        t0 = self.t0 or 0.0
        now = self.current_time()
        rows = self.rows()
        min_ready = {name: self.min_ready_seconds(name) for name in self.statefulsets}
        # per stage: bar starts (base), lengths (x), rows (y) and hover texts
        bars: dict[str, tuple[list[float], list[float], list[int], list[str]]] = {
            s: ([], [], [], []) for s in STAGES
        }
        gone: tuple[list[Any], list[Any], list[str]] = ([], [], [])
        for life in self.incarnations.values():
            row = rows[(life.statefulset, life.ordinal)]
            for stage, start, end in life.segments(now, min_ready[life.statefulset]):
                base, length, ys, texts = bars[stage]
                base.append(start - t0)
                length.append(end - start)
                ys.append(row)
                texts.append(
                    f"{life.pod}: {STAGES[stage].label} {start - t0:.1f}s → {end - t0:.1f}s"
                )
            if life.deleted is not None:
                gone[0].append(life.deleted - t0)
                gone[1].append(row)
                gone[2].append(f"{life.pod} deleted at {life.deleted - t0:.1f}s")
        with self.figure.batch_update():
            for trace, stage in zip(self.figure.data, STAGES, strict=False):
                trace.base, trace.x, trace.y, trace.text = bars[stage]
                # the minReadySeconds stage is in the legend only where a set has one
                trace.showlegend = stage != "unavailable" or any(min_ready.values())
            marks = self.figure.data[len(STAGES)]
            marks.x, marks.y, marks.text = gone
            self.figure.layout.yaxis.tickvals = list(rows.values())
            self.figure.layout.yaxis.ticktext = [escape(self.row_label(o, s)) for s, o in rows]
            self.figure.layout.title.text = "<br>".join(
                escape(line) for line in self.chart_title().split("\n")
            )

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
        if len(self.statefulsets) > 1:
            columns.insert(0, "statefulset")
        rows = [{c: row[c] for c in columns} for row in frame.to_dict("records")]
        note = "times in seconds since the first pod was created"
        title = "<br>".join(escape(line) for line in self.chart_title().split("\n"))
        return f"<p>{title} ({note})</p>" + html_table(rows, columns)
