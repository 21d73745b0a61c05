"""JobProgress: a Job's active, succeeded and failed pods over time, Jobs side by side."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Unpack

import ipywidgets as widgets
import pandas as pd

from ..kube._objects import condition, meta, uid_of
from ..kube._watch import Obj, WatchEvent
from ._base import LiveWidget, WatchSpec, WidgetOptions
from ._job_layout import (
    CHAR_PX,
    HEIGHT,
    LABEL_FONT_PX,
    LABEL_LIFT,
    LABEL_PAD,
    LINE_PX,
    MARGIN_BOTTOM,
    MARGIN_LEFT,
    MARGIN_RIGHT,
    MARGIN_TOP,
    MARKER_PX,
    MIN_SPAN,
    PLOT_AREA_PX,
    SPACING,
    TITLE_FONT_PX,
    label_spot,
    y_range,
)
from ._palette import COUNTERS, GRID, INK, OKABE_ITO, chart_layout, escape, html_table

#: The two target lines of each panel, drawn after its counters: (name, colour, dash).
TARGETS = (
    ("completions", OKABE_ITO["bluish_green"], "dash"),
    ("parallelism", OKABE_ITO["blue"], "dot"),
)
#: Traces per panel: one per counter, then one per target line.
TRACES_PER_JOB = len(COUNTERS) + len(TARGETS)
#: Width (pixels) of a target line: thinner than the counters', it is a reference.
TARGET_LINE_PX = 1

FRAME_COLUMNS = [
    "job",
    "t",
    "active",
    "ready",
    "succeeded",
    "failed",
    "completions",
    "parallelism",
]


@dataclass(frozen=True)
class Sample:
    """A Job's counters at one moment (``t`` in epoch seconds)."""

    t: float
    active: int
    ready: int
    succeeded: int
    failed: int

    def counts(self) -> tuple[int, int, int, int]:
        """Return (active, ready, succeeded, failed)."""
        return self.active, self.ready, self.succeeded, self.failed


def _sample(job: Obj, t: float) -> Sample:
    status = job.get("status") or {}
    return Sample(
        t,
        int(status.get("active") or 0),
        int(status.get("ready") or 0),
        int(status.get("succeeded") or 0),
        int(status.get("failed") or 0),
    )


def job_state(job: Obj | None) -> str:
    """Return Complete, Failed, Suspended, Running, Pending, or "deleted" for None."""
    if job is None:
        return "deleted"
    for kind in ("Complete", "Failed"):
        cond = condition(job, kind)
        if cond and cond.get("status") == "True":
            return kind
    if (job.get("spec") or {}).get("suspend"):
        return "Suspended"
    return "Running" if (job.get("status") or {}).get("active") else "Pending"


class JobProgress(LiveWidget):
    """Active, succeeded and failed pods of one or more Jobs over time.

    Each Job gets its own panel, side by side, with a dashed line at its target
    ``completions`` (none for a work-queue Job, which leaves ``completions``
    unset) and a dotted one at its ``parallelism`` limit (the ceiling
    for *active*), each labelled just above the line, at its right end unless
    a counter steps through there (see :func:`._job_layout.label_spot`), so the labels never
    sit on the data. Counters come from the Job's ``.status``; the x axis is
    seconds since the first change seen, shared by all panels so Jobs compare.

    Args:
        jobs: a Job name or several.
        namespace: the Jobs' namespace.
        **options: as for every widget (``source``, ``recorder``, ...; see ``LiveWidget``).

    Example:
        >>> progress = JobProgress(["pi-serial", "pi-parallel"], "demo")  # doctest: +SKIP
        >>> progress.to_frame().tail()  # doctest: +SKIP

    """

    tick_seconds = 1.0

    def __init__(
        self,
        jobs: str | Sequence[str],
        namespace: str,
        **options: Unpack[WidgetOptions],
    ) -> None:
        self.jobs = [jobs] if isinstance(jobs, str) else list(jobs)
        if not self.jobs:
            raise ValueError("JobProgress needs at least one Job name")
        self.series: dict[str, list[Sample]] = {name: [] for name in self.jobs}
        self._uids: dict[str, str] = {}
        super().__init__(namespace=namespace, **options)

    def _build(self) -> list[widgets.Widget]:
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        cols = len(self.jobs)
        base = make_subplots(
            rows=1, cols=cols, subplot_titles=self.jobs, horizontal_spacing=SPACING
        )
        for col, _job in enumerate(self.jobs, 1):
            first = col == 1
            for counter, style in COUNTERS.items():
                base.add_trace(
                    go.Scatter(
                        name=counter,
                        legendgroup=counter,
                        showlegend=first,
                        mode="lines+markers",
                        line={"color": style.color, "dash": style.dash, "shape": "hv"},
                        marker={"symbol": style.marker, "size": MARKER_PX, "color": style.color},
                        hovertemplate=f"{counter}: %{{y}} at %{{x:.1f}}s<extra></extra>",
                        x=[],
                        y=[],
                    ),
                    row=1,
                    col=col,
                )
            for target, color, dash in TARGETS:
                base.add_trace(
                    go.Scatter(
                        name=f"{target} (target)" if target == "completions" else f"{target} limit",
                        legendgroup=target,
                        showlegend=first,
                        mode="lines",
                        line={"color": color, "dash": dash, "width": TARGET_LINE_PX},
                        hoverinfo="skip",
                        x=[],
                        y=[],
                    ),
                    row=1,
                    col=col,
                )
        margin = {"l": MARGIN_LEFT, "r": MARGIN_RIGHT, "t": MARGIN_TOP, "b": MARGIN_BOTTOM}
        base.update_layout(**chart_layout(height=HEIGHT, margin=margin))
        base.update_annotations(font={"size": TITLE_FONT_PX, "color": INK})
        # The target lines' labels: annotations after the panel titles, two per panel
        # (completions, parallelism), placed above their lines by _render.
        for col, _job in enumerate(self.jobs, 1):
            suffix = "" if col == 1 else str(col)
            for _target in TARGETS:
                base.add_annotation(
                    xref=f"x{suffix}",
                    yref=f"y{suffix}",
                    x=0,
                    y=0,
                    text="",
                    visible=False,
                    showarrow=False,
                    xanchor="right",
                    yanchor="bottom",
                    yshift=LABEL_LIFT,
                    font={"color": INK, "size": LABEL_FONT_PX},
                )
        base.update_xaxes(title_text="seconds", gridcolor=GRID, color=INK, rangemode="tozero")
        # Whole pods on the y axis; until the first render, room for one pod and no labels.
        base.update_yaxes(gridcolor=GRID, color=INK, range=y_range(1, 0), dtick=1)
        base.update_yaxes(title_text="pods", row=1, col=1)
        self.figure = go.FigureWidget(base)
        return [self.figure]

    def _figure(self) -> Any:
        return self.figure

    def _specs(self) -> list[WatchSpec]:
        single = f"metadata.name={self.jobs[0]}" if len(self.jobs) == 1 else None
        return [WatchSpec("Job", self.namespace, field_selector=single)]

    def _accepts(self, event: WatchEvent) -> bool:
        if event.kind != "Job" or event.name not in self.series:
            return False
        return meta(event.object).get("namespace") == self.namespace

    def _observe(self, event: WatchEvent, old: Obj | None) -> None:
        name = event.name
        if event.type == "DELETED":
            return
        uid = uid_of(event.object)
        if self._uids.get(name) not in (None, uid):
            self.series[name] = []  # the Job was deleted and created again: a new run
        self._uids[name] = uid
        sample = _sample(event.object, event.timestamp)
        history = self.series[name]
        if not history or history[-1].counts() != sample.counts():
            history.append(sample)

    def _reset(self) -> None:
        self.series = {name: [] for name in self.jobs}
        self._uids.clear()

    # -- what is shown ---------------------------------------------------------------------

    def job(self, name: str) -> Obj | None:
        """Return Job ``name`` as last seen (None if not seen or deleted)."""
        for (_, job_name), job in self.objects.get("Job", {}).items():
            if job_name == name:
                return job
        return None

    @property
    def t0(self) -> float | None:
        """Epoch seconds of the first sample, the x axis' zero."""
        starts = [s[0].t for s in self.series.values() if s]
        return min(starts) if starts else None

    def targets(self, name: str) -> tuple[int | None, int]:
        """Return (completions, parallelism) of Job ``name`` (parallelism defaults to 1)."""
        spec = (self.job(name) or {}).get("spec") or {}
        completions = spec.get("completions")
        parallelism = spec.get("parallelism")
        return (
            None if completions is None else int(completions),
            1 if parallelism is None else int(parallelism),
        )

    def to_frame(self) -> pd.DataFrame:
        """Return every sample plotted: job, t (seconds since the first), counters and targets."""
        t0 = self.t0 or 0.0
        rows = []
        for name in self.jobs:
            completions, parallelism = self.targets(name)
            for sample in self.series[name]:
                row = asdict(sample)
                row.update(
                    job=name, t=sample.t - t0, completions=completions, parallelism=parallelism
                )
                rows.append(row)
        frame = pd.DataFrame(rows, columns=FRAME_COLUMNS)
        frame["completions"] = frame["completions"].astype("Int64")
        return frame

    def panel_title(self, name: str) -> str:
        """Return the text above Job ``name``'s panel."""
        job = self.job(name)
        if job is None and not self.series[name]:
            return f"{name}: not seen yet"
        state = job_state(job)
        completions, parallelism = self.targets(name)
        done = self.series[name][-1].succeeded if self.series[name] else 0
        # No completions: a work queue, done once one pod has succeeded and none is active.
        goal = f"{done}/{completions}" if completions is not None else f"{done} done, work queue"
        return f"{name}: {state}, {goal}, parallelism {parallelism}"

    def _summary(self) -> str:
        return ", ".join(f"{name} {job_state(self.job(name))}" for name in self.jobs)

    # -- drawing -------------------------------------------------------------------------

    def _render(self) -> None:
        t0 = self.t0 or 0.0
        right = max([MIN_SPAN] + [s[-1].t - t0 for s in self.series.values() if s])
        right = max(right, self.current_time() - t0 if self.now is not None else 0.0)
        cols = len(self.jobs)
        panel_px = PLOT_AREA_PX * (1 - SPACING * (cols - 1)) / cols
        with self.figure.batch_update():
            for i, name in enumerate(self.jobs):
                samples = self.series[name]
                xs = [s.t - t0 for s in samples]
                traces = self.figure.data[i * TRACES_PER_JOB : (i + 1) * TRACES_PER_JOB]
                for trace, counter in zip(traces, COUNTERS, strict=False):
                    trace.x = xs
                    trace.y = [getattr(s, counter) for s in samples]
                completions, parallelism = self.targets(name)
                seen = self.job(name) is not None or bool(samples)
                levels = [completions, parallelism if seen else None]
                for trace, level in zip(traces[len(COUNTERS) :], levels, strict=True):
                    trace.x = [] if level is None else [0.0, right]
                    trace.y = [] if level is None else [level, level]
                room = self._place_labels(i, levels, samples, t0, right, right / panel_px)
                counts = [n for s in samples for n in (s.active, s.succeeded, s.failed)]
                top = max([1, *counts, *(v for v in levels if v is not None)])
                self.figure.layout[f"yaxis{'' if i == 0 else i + 1}"].range = y_range(top, room)
                head, _, rest = self.panel_title(name).partition(": ")
                self.figure.layout.annotations[i].text = f"<b>{escape(head)}</b><br>{escape(rest)}"

    def _limit_labels(self, i: int) -> tuple[Any, Any]:
        """Return the completions and parallelism label annotations of panel ``i``."""
        first = len(self.jobs) + len(TARGETS) * i
        annotations = self.figure.layout.annotations
        return annotations[first], annotations[first + 1]

    def _place_labels(
        self,
        i: int,
        levels: list[int | None],
        samples: list[Sample],
        t0: float,
        right: float,
        seconds_per_px: float,
    ) -> float:
        """Label panel ``i``'s target lines just above them; return the pixels they need there."""
        completions, parallelism = levels
        texts = [f"completions = {completions}", f"parallelism = {parallelism}"]
        if completions is not None and completions == parallelism:
            # One label, two lines, for the one line both targets draw.
            texts, levels = [f"{texts[0]}<br>{texts[1]}", ""], [completions, None]
        room = 0.0
        for label, text, level in zip(self._limit_labels(i), texts, levels, strict=True):
            label.visible = level is not None
            if level is None:
                continue
            lines = text.split("<br>")
            width = max(map(len, lines)) * CHAR_PX * seconds_per_px
            steps = [[(s.t - t0, getattr(s, counter)) for s in samples] for counter in COUNTERS]
            x, anchor = label_spot(steps, level, right, width)
            label.update(x=x, y=level, xanchor=anchor, text=text)
            room = max(room, LABEL_LIFT + LINE_PX * len(lines) + LABEL_PAD)
        return room

    def _snapshot_html(self) -> str:
        rows = []
        for name in self.jobs:
            completions, parallelism = self.targets(name)
            last = self.series[name][-1] if self.series[name] else None
            rows.append(
                {
                    "job": name,
                    "state": job_state(self.job(name)) if last or self.job(name) else "not seen",
                    "active": last.active if last else None,
                    "succeeded": last.succeeded if last else None,
                    "failed": last.failed if last else None,
                    "completions": completions,
                    "parallelism": parallelism,
                    "changes seen": len(self.series[name]),
                }
            )
        columns = list(rows[0]) if rows else []
        return html_table(rows, columns)
