"""JobProgress: a Job's active, succeeded and failed pods over time, Jobs side by side.

A Job deleted and created again under the same name is a new *run*: the panel
keeps the earlier runs, faded, with their targets, so the two can be compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Unpack

import ipywidgets as widgets
import pandas as pd

from ..kube._objects import condition, condition_true, meta, parse_time, uid_of
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
    PLOT_HEIGHT_PX,
    SPACING,
    TITLE_FONT_PX,
    label_fits,
    label_spot,
    y_range,
)
from ._palette import (
    COUNTERS,
    GRID,
    INK,
    OKABE_ITO,
    OUTCOMES,
    chart_layout,
    escape,
    html_table,
)

#: The two target lines of each panel, drawn after its counters: (name, colour, dash).
TARGETS = (
    ("completions", OKABE_ITO["bluish_green"], "dash"),
    ("parallelism", OKABE_ITO["blue"], "dot"),
)
#: Traces per panel: one per counter, one per target line, then one per counter of
#: the earlier runs (a Job deleted and created again), faded.
TRACES_PER_JOB = 2 * len(COUNTERS) + len(TARGETS)
#: Width (pixels) of a target line: thinner than the counters', it is a reference.
TARGET_LINE_PX = 1.5
#: Pixels between two target lines at the same level (completions = parallelism),
#: drawn apart so they read as two lines; the one label gives the value.
TARGET_SPLIT_PX = 3.0
#: Opacity of an earlier run's lines.
EARLIER_OPACITY = 0.4
EARLIER = "earlier run"
#: Legend names of the shapes: a grey band while a Job is suspended, a dotted line where one
#: was deleted (⊖, as in CronJobTimeline).
SUSPENDED = "suspended"
DELETED = f"{OUTCOMES['Removed'].symbol} deleted"
#: Opacity of the band over a suspended stretch.
SUSPENDED_OPACITY = 0.18

FRAME_COLUMNS = [
    "job",
    "run",
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


@dataclass
class JobRun:
    """One Job object behind a name: its samples, targets and times (epoch seconds)."""

    uid: str
    samples: list[Sample] = field(default_factory=list)
    completions: int | None = None
    parallelism: int = 1
    started: float | None = None
    finished: float | None = None
    state: str = "Pending"
    deleted_at: float | None = None
    #: Why it failed (or is failing): the Failed or FailureTarget condition's reason.
    reason: str | None = None
    #: Stretches with ``spec.suspend`` true, (from, to) in epoch seconds; to is None while
    #: it lasts.
    suspended: list[tuple[float, float | None]] = field(default_factory=list)

    def note(self, job: Obj) -> None:
        """Take the targets, times, state and failure reason from the Job as last seen."""
        spec, status = job.get("spec") or {}, job.get("status") or {}
        completions, parallelism = spec.get("completions"), spec.get("parallelism")
        self.completions = None if completions is None else int(completions)
        self.parallelism = 1 if parallelism is None else int(parallelism)
        started = parse_time(status.get("startTime"))
        finished = parse_time(status.get("completionTime"))
        for kind in ("Complete", "Failed"):
            cond = condition(job, kind)
            if finished is None and cond and cond.get("status") == "True":
                finished = parse_time(cond.get("lastTransitionTime"))
        self.started = started.timestamp() if started else self.started
        self.finished = finished.timestamp() if finished else None
        self.state = job_state(job)
        # FailureTarget comes first: the controller decided, and is stopping the pods.
        failing = [c for c in ("Failed", "FailureTarget") if condition_true(job, c)]
        self.reason = (condition(job, failing[0]) or {}).get("reason") if failing else None

    def note_suspend(self, job: Obj | None, t: float) -> None:
        """Open or close a suspended stretch at ``t`` as ``spec.suspend`` says (None: deleted)."""
        suspend = job is not None and bool((job.get("spec") or {}).get("suspend"))
        open_ = bool(self.suspended) and self.suspended[-1][1] is None
        if suspend and not open_:
            self.suspended.append((t, None))
        elif open_ and not suspend:
            self.suspended[-1] = (self.suspended[-1][0], t)

    def suspended_seconds(self, now: float) -> float:
        """Return how long the run has been suspended in all (an open stretch up to ``now``)."""
        return sum((now if end is None else end) - start for start, end in self.suspended)

    def took(self) -> float | None:
        """Return how long the run took (seconds), once it finished."""
        if self.started is None or self.finished is None:
            return None
        return max(0.0, self.finished - self.started)

    def short(self, number: int) -> str:
        """Say how long the run took, or its state: "run 1: 7 s", "run 2: Running"."""
        took = self.took()
        return f"run {number}: " + (f"{took:.0f} s" if took is not None else self.state)

    def describe(self, number: int) -> str:
        """Say in a few words what became of the run: "run 1: Complete in 9 s, deleted"."""
        took = self.took()
        text = f"run {number}: {self.state}" + (f" in {took:.0f} s" if took is not None else "")
        return text + (", deleted" if self.deleted_at is not None else "")

    def notes(self, now: float) -> list[str]:
        """Say what else became of the run: why it failed, suspended, deleted after finishing.

        Example: ``["reason: DeadlineExceeded"]``, ``["suspended 6 s"]``,
        ``["⊖ deleted 5 s after it finished"]``.
        """
        notes = [f"reason: {self.reason}"] if self.reason else []
        if self.suspended:
            notes.append(f"{SUSPENDED} {self.suspended_seconds(now):.0f} s")
        if self.deleted_at is not None and self.finished is not None:
            after = max(0.0, self.deleted_at - self.finished)
            notes.append(f"{DELETED} {after:.0f} s after it finished")
        return notes


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
    """Return Complete, Failed, Failing, Suspended, Running, Pending, or "deleted" for None.

    Failing: the controller has decided the Job fails (condition FailureTarget) and
    is stopping its pods; Failed follows once none is left running.
    """
    if job is None:
        return "deleted"
    for kind in ("Complete", "Failed"):
        cond = condition(job, kind)
        if cond and cond.get("status") == "True":
            return kind
    if condition_true(job, "FailureTarget"):
        return "Failing"
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
    sit on the data; when both targets are equal their lines are drawn a few
    pixels apart under one label. Counters come from the Job's ``.status``; the
    x axis is seconds since the first change seen in any panel, so Jobs
    compare; a panel's axis ends at its Job's last change once it finished.
    A Job that is deleted keeps its panel, its counters and its targets; one
    created again under the same name is a new run, drawn over the earlier
    ones (faded, "earlier run" in the legend), and the panel title says how
    long each run took.

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
        #: Per name: every run seen, oldest first; the last is the current one.
        self.runs: dict[str, list[JobRun]] = {name: [] for name in self.jobs}
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
            for counter, style in COUNTERS.items():
                base.add_trace(
                    go.Scatter(
                        name=EARLIER if counter == "succeeded" else f"{EARLIER}: {counter}",
                        legendgroup=EARLIER,
                        showlegend=False,
                        mode="lines",
                        opacity=EARLIER_OPACITY,
                        line={"color": style.color, "dash": style.dash, "shape": "hv", "width": 3},
                        hovertemplate=f"{EARLIER}, {counter}: %{{y}} at %{{x:.1f}}s<extra></extra>",
                        x=[],
                        y=[],
                    ),
                    row=1,
                    col=col,
                )
        margin = {"l": MARGIN_LEFT, "r": MARGIN_RIGHT, "t": MARGIN_TOP, "b": MARGIN_BOTTOM}
        legend = {"orientation": "h", "x": 0, "y": -0.3, "yanchor": "top"}
        base.update_layout(**chart_layout(height=HEIGHT, margin=margin, legend=legend))
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
        name, uid = event.name, uid_of(event.object)
        runs = self.runs[name]
        if not runs or runs[-1].uid != uid:
            if event.type == "DELETED":
                return  # a Job we never saw alive
            runs.append(JobRun(uid))  # first seen, or deleted and created again: a new run
            self.series[name] = runs[-1].samples
        run = runs[-1]
        run.note(event.object)
        deleted = event.type == "DELETED"
        run.note_suspend(None if deleted else event.object, event.timestamp)
        if deleted:
            run.deleted_at = event.timestamp
            return
        sample = _sample(event.object, event.timestamp)
        if not run.samples or run.samples[-1].counts() != sample.counts():
            run.samples.append(sample)

    def _reset(self) -> None:
        self.series = {name: [] for name in self.jobs}
        self.runs = {name: [] for name in self.jobs}

    # -- what is shown ---------------------------------------------------------------------

    def job(self, name: str) -> Obj | None:
        """Return Job ``name`` as last seen (None if not seen or deleted)."""
        for (_, job_name), job in self.objects.get("Job", {}).items():
            if job_name == name:
                return job
        return None

    def earlier_runs(self, name: str) -> list[JobRun]:
        """Return the runs of Job ``name`` before the current one (it was created again)."""
        return self.runs[name][:-1]

    @property
    def t0(self) -> float | None:
        """Epoch seconds of the first sample of any run, the x axis' zero."""
        starts = [r.samples[0].t for runs in self.runs.values() for r in runs if r.samples]
        return min(starts) if starts else None

    def targets(self, name: str) -> tuple[int | None, int]:
        """Return (completions, parallelism) of Job ``name``'s current run, kept once deleted.

        parallelism defaults to 1.
        """
        runs = self.runs[name]
        if not runs:
            return None, 1
        return runs[-1].completions, runs[-1].parallelism

    def to_frame(self) -> pd.DataFrame:
        """Return every sample plotted: job, run, t, counters and targets.

        ``run`` counts the Job objects of that name (2 once deleted and created
        again); ``t`` is seconds since the first sample of any.
        """
        t0 = self.t0 or 0.0
        rows = []
        for name in self.jobs:
            for number, run in enumerate(self.runs[name], 1):
                for sample in run.samples:
                    row = asdict(sample)
                    row.update(
                        job=name,
                        run=number,
                        t=sample.t - t0,
                        completions=run.completions,
                        parallelism=run.parallelism,
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
        title = f"{name}: {state}, {goal}, parallelism {parallelism}"
        runs = self.runs[name]
        if len(runs) > 1:
            title += "".join(f" · {r.describe(n)}" for n, r in enumerate(runs, 1))
        return title

    def run_lines(self, name: str) -> list[str]:
        """Return the line the panel shows under Job ``name``'s state, if any.

        With more than one run, one short line, "run 1: 7 s · run 2: 3 s" (or a run's
        state while it has no duration), to fit a narrow panel; the snapshot's table
        has the rest. With one run, what :meth:`JobRun.notes` says of it, e.g.
        "reason: DeadlineExceeded".
        """
        runs = self.runs[name]
        if not runs:
            return []
        if len(runs) < 2:
            notes = runs[0].notes(self.current_time())
            return [" · ".join(notes)] if notes else []
        return [" · ".join(r.short(n) for n, r in enumerate(runs, 1))]

    def _summary(self) -> str:
        return ", ".join(f"{name} {job_state(self.job(name))}" for name in self.jobs)

    # -- drawing -------------------------------------------------------------------------

    def _panel_end(self, name: str, t0: float) -> float:
        """Return where panel ``name``'s x axis ends: its last change once finished, else now."""
        runs = self.runs[name]
        ends = [run.samples[-1].t - t0 for run in runs if run.samples]
        ends += [run.deleted_at - t0 for run in runs if run.deleted_at is not None]
        ends += [end - t0 for run in runs for _, end in run.suspended if end is not None]
        finished = (
            not runs
            or runs[-1].deleted_at is not None
            or runs[-1].state
            in (
                "Complete",
                "Failed",
            )
        )
        if not finished and self.now is not None:
            ends.append(self.current_time() - t0)
        return max([MIN_SPAN, *ends])

    def _render(self) -> None:
        t0 = self.t0 or 0.0
        cols = len(self.jobs)
        panel_px = PLOT_AREA_PX * (1 - SPACING * (cols - 1)) / cols
        shapes: list[dict[str, Any]] = []
        in_legend: set[str] = set()
        with self.figure.batch_update():
            for i, name in enumerate(self.jobs):
                right = self._panel_end(name, t0)
                shapes += self._panel_shapes(i, name, t0, right, in_legend)
                samples = self.series[name]
                xs = [s.t - t0 for s in samples]
                traces = self.figure.data[i * TRACES_PER_JOB : (i + 1) * TRACES_PER_JOB]
                counters, targets = traces[: len(COUNTERS)], traces[len(COUNTERS) :][: len(TARGETS)]
                for trace, counter in zip(counters, COUNTERS, strict=True):
                    trace.x = xs
                    trace.y = [getattr(s, counter) for s in samples]
                earlier = self.earlier_runs(name)
                for trace, counter in zip(traces[-len(COUNTERS) :], COUNTERS, strict=True):
                    trace.x = [x for r in earlier for x in [*(s.t - t0 for s in r.samples), None]]
                    trace.y = [
                        y
                        for r in earlier
                        for y in [*(getattr(s, counter) for s in r.samples), None]
                    ]
                completions, parallelism = self.targets(name)
                levels = [completions, parallelism if self.runs[name] else None]
                runs = [r.samples for r in self.runs[name]]
                room = self._place_labels(i, levels, runs, t0, right, right / panel_px)
                counts = [
                    n
                    for r in self.runs[name]
                    for s in r.samples
                    for n in (s.active, s.succeeded, s.failed)
                ]
                top = max([1, *counts, *(v for v in levels if v is not None)])
                y_min, y_max = y_range(top, room)
                self.figure.layout[f"yaxis{'' if i == 0 else i + 1}"].range = [y_min, y_max]
                # Equal targets: two lines a few pixels apart, so neither hides the other.
                split = TARGET_SPLIT_PX * (y_max - y_min) / PLOT_HEIGHT_PX / 2
                apart = completions is not None and completions == parallelism
                for trace, level, sign in zip(targets, levels, (1, -1), strict=True):
                    y = None if level is None else level + (sign * split if apart else 0.0)
                    trace.x = [] if y is None else [0.0, right]
                    trace.y = [] if y is None else [y, y]
                head, _, rest = self.panel_title(name).partition(": ")
                lines = [rest.split(" · ")[0], *self.run_lines(name)]
                self.figure.layout.annotations[i].text = f"<b>{escape(head)}</b>" + "".join(
                    f"<br>{escape(line)}" for line in lines
                )
            if shapes or self.figure.layout.shapes:
                self.figure.layout.shapes = shapes
        self._show_legend_once()

    def _panel_shapes(
        self, i: int, name: str, t0: float, right: float, in_legend: set[str]
    ) -> list[dict[str, Any]]:
        """Return panel ``i``'s shapes: a band over each suspended stretch, a line at a deletion.

        Each kind gets one legend entry, from the first shape of it drawn (``in_legend``
        holds the kinds already there, and gets this panel's).
        """
        suffix = "" if i == 0 else str(i + 1)
        axes = {"xref": f"x{suffix}", "yref": f"y{suffix} domain", "y0": 0, "y1": 1}
        shapes: list[dict[str, Any]] = []
        for run in self.runs[name]:
            for start, end in run.suspended:
                x1 = right if end is None else end - t0
                shapes.append(
                    {
                        **axes,
                        "type": "rect",
                        "name": SUSPENDED,
                        "x0": start - t0,
                        "x1": x1,
                        "fillcolor": OKABE_ITO["grey"],
                        "opacity": SUSPENDED_OPACITY,
                        "line": {"width": 0},
                        "layer": "below",
                    }
                )
            if run.deleted_at is not None:
                x = run.deleted_at - t0
                grey = OUTCOMES["Removed"]
                line = {"color": grey.color, "dash": grey.dash, "width": TARGET_LINE_PX}
                shapes.append(
                    {**axes, "type": "line", "name": DELETED, "x0": x, "x1": x, "line": line}
                )
        for shape in shapes:
            shape["legendgroup"] = shape["name"]
            shape["showlegend"] = shape["name"] not in in_legend
            in_legend.add(shape["name"])
        return shapes

    def _show_legend_once(self) -> None:
        """Give each kind of line one legend entry, from the first panel that draws it.

        (A target a Job lacks, or an earlier run, may be in any panel but the first.)
        """
        shown: set[str] = set()
        with self.figure.batch_update():
            for trace in self.figure.data:
                key = trace.legendgroup
                has_data = bool(trace.x) and (key != EARLIER or trace.name == EARLIER)
                show = has_data and key not in shown
                trace.showlegend = show
                if show:
                    shown.add(key)

    def _limit_labels(self, i: int) -> tuple[Any, Any]:
        """Return the completions and parallelism label annotations of panel ``i``."""
        first = len(self.jobs) + len(TARGETS) * i
        annotations = self.figure.layout.annotations
        return annotations[first], annotations[first + 1]

    def _place_labels(
        self,
        i: int,
        levels: list[int | None],
        runs: list[list[Sample]],
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
            if level is None:
                label.visible = False
                continue
            lines = text.split("<br>")
            width = max(map(len, lines)) * CHAR_PX * seconds_per_px
            steps = [
                [(s.t - t0, getattr(s, counter)) for s in samples]
                for samples in runs
                for counter in COUNTERS
            ]
            if not label_fits(steps, level, right, width):
                # No stretch of the line is free for it (a narrow panel): the panel title
                # and the legend say the value; a label on the data would hide it.
                label.visible = False
                continue
            x, anchor = label_spot(steps, level, right, width)
            label.update(visible=True, x=x, y=level, xanchor=anchor, text=text)
            room = max(room, LABEL_LIFT + LINE_PX * len(lines) + LABEL_PAD)
        return room

    def _snapshot_html(self) -> str:
        rows = []
        for name in self.jobs:
            runs: list[JobRun | None] = [*self.runs[name]] or [None]
            for number, run in enumerate(runs, 1):
                last = run.samples[-1] if run and run.samples else None
                state = "not seen" if run is None else run.state
                if run is not None and run.reason:
                    state += f" ({run.reason})"
                if run is not None and run.deleted_at is not None:
                    state += ", deleted"
                took = run.took() if run else None
                rows.append(
                    {
                        "job": name if len(runs) == 1 else f"{name} (run {number})",
                        "state": state,
                        "active": last.active if last else None,
                        "succeeded": last.succeeded if last else None,
                        "failed": last.failed if last else None,
                        "completions": run.completions if run else None,
                        "parallelism": run.parallelism if run else None,
                        "took (s)": None if took is None else round(took),
                        "changes seen": len(run.samples) if run else 0,
                    }
                )
        columns = list(rows[0]) if rows else []
        return html_table(rows, columns)
