"""JobProgress: a Job's active, succeeded and failed pods over time, Jobs side by side.

A Job deleted and created again under the same name is a new *run*: the panel
keeps the earlier runs, faded, with their targets, so the two can be compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any, Unpack

import ipywidgets as widgets
import pandas as pd

from ..kube._objects import JOB_INDEX_ANNOTATION, meta, uid_of
from ..kube._watch import Obj, WatchEvent
from ._base import LiveWidget, WatchSpec, WidgetOptions
from ._job_figure import (
    EARLIER,
    TARGET_END,
    TARGET_SPLIT_PX,
    TARGETS,
    TRACES_PER_JOB,
    X_PAD_PX,
    build_figure,
    panel_shapes,
    place_labels,
)
from ._job_indexes import JOB_NAME_LABEL, IndexTracker
from ._job_layout import MIN_SPAN, PLOT_AREA_PX, PLOT_HEIGHT_PX, SPACING, axis_end, y_range
from ._job_runs import DELETED as DELETED  # the legend names, for tests and callers
from ._job_runs import SUSPENDED as SUSPENDED
from ._job_runs import JobRun, Sample, drawn_fields, drawn_samples, job_state, sample_of
from ._palette import COUNTERS, escape, html_table

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

    Below the chart, each Indexed Job (``completionMode: Indexed``) gets a
    table with one row per completion index (the pods' annotation
    ``batch.kubernetes.io/job-completion-index``): whether the index
    succeeded, failed (``.status.failedIndexes``), runs, waits or was stopped,
    and every pod that tried it with how it ended (see :mod:`._job_indexes`).

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
        self.indexes = IndexTracker(self.jobs)
        super().__init__(namespace=namespace, **options)

    def _build(self) -> list[widgets.Widget]:
        self.figure = build_figure(self.jobs)
        self.index_view = widgets.HTML(layout=widgets.Layout(margin="4px 0 0 0"))
        return [self.figure, self.index_view]

    def _sync_targets(self) -> list[Any]:
        return [*super()._sync_targets(), self.index_view]

    def _figure(self) -> Any:
        return self.figure

    def _specs(self) -> list[WatchSpec]:
        single = f"metadata.name={self.jobs[0]}" if len(self.jobs) == 1 else None
        pods = f"{JOB_NAME_LABEL} in ({','.join(self.jobs)})"
        return [
            WatchSpec("Job", self.namespace, field_selector=single),
            WatchSpec("Pod", self.namespace, label_selector=pods),  # for the index tables
        ]

    def _accepts(self, event: WatchEvent) -> bool:
        if meta(event.object).get("namespace") != self.namespace:
            return False
        if event.kind == "Pod":
            return (meta(event.object).get("labels") or {}).get(JOB_NAME_LABEL) in self.series
        return event.kind == "Job" and event.name in self.series

    def _shows(self, event: WatchEvent, old: Obj | None) -> bool:
        # The Job controller updates a Job several times per pod (uncounted pods, ready,
        # then the counts): only a change of what is drawn starts a redraw cool-down.
        if event.kind == "Pod":
            return JOB_INDEX_ANNOTATION in (meta(event.object).get("annotations") or {})
        if event.type != "MODIFIED" or old is None or uid_of(old) != uid_of(event.object):
            return True
        return drawn_fields(event.object) != drawn_fields(old)

    def _observe(self, event: WatchEvent, old: Obj | None) -> None:
        if event.kind == "Pod":
            self.indexes.observe(event)
            return
        name, uid = event.name, uid_of(event.object)
        runs = self.runs[name]
        if not runs or runs[-1].uid != uid:
            if event.type == "DELETED":
                return  # a Job we never saw alive
            if runs:
                self.indexes.forget_job(name)  # its pods were the earlier run's
            runs.append(JobRun(uid))  # first seen, or deleted and created again: a new run
            self.series[name] = runs[-1].samples
        run = runs[-1]
        run.note(event.object)
        deleted = event.type == "DELETED"
        run.note_suspend(None if deleted else event.object, event.timestamp)
        if deleted:
            run.deleted_at = event.timestamp
            return
        sample = sample_of(event.object, event.timestamp)
        if not run.samples or run.samples[-1].counts() != sample.counts():
            run.samples.append(sample)

    def _reset(self) -> None:
        self.series = {name: [] for name in self.jobs}
        self.runs = {name: [] for name in self.jobs}
        self.indexes = IndexTracker(self.jobs)

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

    def index_frame(self) -> pd.DataFrame:
        """Return the index tables' rows: job, index, state, pods and tries (Indexed Jobs only).

        ``state`` is succeeded, failed, running, retry due, pending, stopped or
        not run; ``pods`` names the pods that tried the index, oldest first, and
        ``tries`` says how each ended ("Failed, exit 42").

        Example:
            >>> progress.index_frame()[["index", "state"]]  # doctest: +SKIP
        """
        self._catch_up()
        with self._reading_state():
            return self.indexes.frame(self._jobs_seen())

    def _jobs_seen(self) -> dict[str, Obj | None]:
        return {name: self.job(name) for name in self.jobs}

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
        """Return where panel ``name``'s x axis ends: its last change once finished.

        While its Job runs: "now" a step ahead (:func:`._job_layout.axis_end`), so
        the once-a-second tick moves the axis only every few seconds (each move
        is a redraw in the browser, which delayed the changes that came next).
        """
        runs = self.runs[name]
        ends = [run.samples[-1].t - t0 for run in runs if run.samples]
        ends += [run.deleted_at - t0 for run in runs if run.deleted_at is not None]
        ends += [end - t0 for run in runs for _, end in run.suspended if end is not None]
        finished = (
            not runs or runs[-1].deleted_at is not None or runs[-1].state in ("Complete", "Failed")
        )
        if not finished and self.now is not None:
            ends.append(axis_end(self.current_time() - t0))
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
                panel = panel_shapes(i, self.runs[name], t0, right, in_legend)
                shapes += panel
                samples = drawn_samples(self.series[name])
                xs = [s.t - t0 for s in samples]
                traces = self.figure.data[i * TRACES_PER_JOB : (i + 1) * TRACES_PER_JOB]
                counters, targets = traces[: len(COUNTERS)], traces[len(COUNTERS) :][: len(TARGETS)]
                for trace, counter in zip(counters, COUNTERS, strict=True):
                    trace.x = xs
                    trace.y = [getattr(s, counter) for s in samples]
                drawn = [drawn_samples(r.samples) for r in self.earlier_runs(name)]
                for trace, counter in zip(traces[-len(COUNTERS) :], COUNTERS, strict=True):
                    trace.x = [x for d in drawn for x in [*(s.t - t0 for s in d), None]]
                    trace.y = [y for d in drawn for y in [*(getattr(s, counter) for s in d), None]]
                completions, parallelism = self.targets(name)
                levels = [completions, parallelism if self.runs[name] else None]
                runs = [drawn_samples(r.samples) for r in self.runs[name]]
                walls = [s["x0"] for s in panel if s["type"] == "line"]
                room = place_labels(
                    self.figure, cols, i, levels, runs, t0, right, right / panel_px, walls
                )
                pad = X_PAD_PX * right / panel_px
                suffix = "" if i == 0 else str(i + 1)
                self.figure.layout[f"xaxis{suffix}"].range = [-pad, right + pad]
                counts = [
                    n
                    for r in self.runs[name]
                    for s in r.samples
                    for n in (s.active, s.succeeded, s.failed)
                ]
                top = max([1, *counts, *(v for v in levels if v is not None)])
                y_min, y_max = y_range(top, room)
                self.figure.layout[f"yaxis{suffix}"].range = [y_min, y_max]
                # Equal targets: two lines a few pixels apart, so neither hides the other.
                split = TARGET_SPLIT_PX * (y_max - y_min) / PLOT_HEIGHT_PX / 2
                apart = completions is not None and completions == parallelism
                for trace, level, sign in zip(targets, levels, (1, -1), strict=True):
                    y = None if level is None else level + (sign * split if apart else 0.0)
                    trace.x = [] if y is None else [0.0, TARGET_END]
                    trace.y = [] if y is None else [y, y]
                head, _, rest = self.panel_title(name).partition(": ")
                lines = [rest.split(" · ")[0], *self.run_lines(name)]
                self.figure.layout.annotations[i].text = f"<b>{escape(head)}</b>" + "".join(
                    f"<br>{escape(line)}" for line in lines
                )
            if shapes or self.figure.layout.shapes:
                self.figure.layout.shapes = shapes
        self._show_legend_once()
        self.index_view.value = self.indexes.html(self._jobs_seen())

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
        return html_table(rows, columns) + self.indexes.html(self._jobs_seen())
