"""CronJobTimeline: schedule ticks, the Job each tick created, and what became of it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Unpack

import ipywidgets as widgets
import pandas as pd

from ..kube._cron import CronSchedule
from ..kube._objects import (
    CRONJOB_SCHEDULED_ANNOTATION,
    condition,
    meta,
    name_of,
    natural_key,
    owned_by,
    parse_time,
    uid_of,
)
from ..kube._watch import Obj, WatchEvent
from ._base import LiveWidget, WatchSpec, WidgetOptions
from ._cron_ticks import FiredTicks, ScheduleZone, schedule_zone
from ._palette import INK, OUTCOMES, chart_layout, escape, html_table

FRAME_COLUMNS = ["job", "scheduled", "started", "finished", "outcome", "removed", "removed_at"]
SCHEDULE_ROW = "schedule"
#: Fired ticks older than this are not drawn (a CronJob may be weeks old).
HISTORY_WINDOW = timedelta(hours=3)


@dataclass
class Run:
    """One Job a CronJob created, as far as the widget has seen it."""

    job: str
    uid: str
    scheduled: datetime | None
    started: datetime | None = None
    finished: datetime | None = None
    outcome: str = "Running"
    removed_at: datetime | None = None


def _scheduled_time(cronjob: str, job: Obj) -> datetime | None:
    annotations = meta(job).get("annotations") or {}
    stamp = parse_time(annotations.get(CRONJOB_SCHEDULED_ANNOTATION))
    if stamp:
        return stamp
    # The controller names Jobs <cronjob>-<minutes since the epoch of the scheduled time>.
    match = re.fullmatch(re.escape(cronjob) + r"-(\d+)", name_of(job))
    if match:
        return datetime.fromtimestamp(int(match.group(1)) * 60, UTC)
    return parse_time(meta(job).get("creationTimestamp"))


def _outcome(job: Obj) -> tuple[str, datetime | None]:
    status = job.get("status") or {}
    for kind in ("Complete", "Failed"):
        cond = condition(job, kind)
        if cond and cond.get("status") == "True":
            finished = parse_time(status.get("completionTime")) if kind == "Complete" else None
            return kind, finished or parse_time(cond.get("lastTransitionTime"))
    return "Running", None


class CronJobTimeline(LiveWidget):
    """A CronJob's schedule ticks, the Job created at each, its outcome, and its removal.

    The top row marks when the schedule fired (filled) and will fire next
    (open); below, one row per Job runs from its start to its end, drawn by
    outcome (Complete ✓, Failed ✗, Running ▶). Jobs pruned by the history
    limits stay on the chart as "Removed" (grey, dotted), so you see the limits
    at work. The time axis is UTC; the ticks are computed in the zone the
    controller reads the schedule in: ``spec.timeZone`` when set, else
    kube-controller-manager's own zone (UTC on the embedded cluster, from
    ``ch.connect()``); when that is unknown (your own cluster, or a recording)
    they are drawn for UTC and the title says so. Hover a tick for its time there.

    Args:
        cronjob: the CronJob's name.
        namespace: its namespace.
        lookahead: how many future ticks to show.
        cluster_zone: kube-controller-manager's time zone (an IANA name), for
            CronJobs without ``spec.timeZone``; default: what ``ch.connect()``
            found for a live widget on the current connection, else unknown.
        **options: as for every widget (``source``, ``recorder``, ...; see ``LiveWidget``).

    Example:
        >>> timeline = CronJobTimeline("report", "demo")  # doctest: +SKIP
        >>> timeline.to_frame()[["job", "outcome", "removed"]]  # doctest: +SKIP

    """

    tick_seconds = 1.0

    def __init__(
        self,
        cronjob: str,
        namespace: str | None = None,
        *,
        lookahead: int = 3,
        cluster_zone: str | None = None,
        **options: Unpack[WidgetOptions],
    ) -> None:
        self.cronjob = cronjob
        self.lookahead = lookahead
        self.runs: dict[str, Run] = {}
        self._fired = FiredTicks()
        on_current_connection = options.get("source") is None and options.get("api_client") is None
        if cluster_zone is None and on_current_connection:
            from ..kube._session import cluster_info

            cluster_zone = cluster_info().cronjob_zone
        self.cluster_zone = cluster_zone
        super().__init__(namespace=namespace, **options)

    def _build(self) -> list[widgets.Widget]:
        import plotly.graph_objects as go

        traces = [
            go.Scatter(
                name="schedule fired",
                mode="markers",
                marker={"symbol": "triangle-down", "size": 11, "color": INK},
                hovertemplate="%{text}<extra></extra>",
            ),
            go.Scatter(
                name="next ticks",
                mode="markers",
                marker={"symbol": "triangle-down-open", "size": 11, "color": INK},
                hovertemplate="%{text}<extra></extra>",
            ),
        ]
        for outcome, style in OUTCOMES.items():
            traces.append(
                go.Scatter(
                    name=outcome,
                    mode="lines+markers",
                    line={"color": style.color, "dash": style.dash, "width": 6},
                    marker={"symbol": style.marker, "size": 10, "color": style.color},
                    hovertemplate="%{text}<extra></extra>",
                )
            )
        layout = chart_layout(height=300)
        layout["xaxis"].update(type="date", title={"text": "time (UTC)"})
        layout["yaxis"].update(type="category", automargin=True)
        self.figure = go.FigureWidget(data=traces, layout=layout)
        return [self.figure]

    def _figure(self) -> Any:
        return self.figure

    def _specs(self) -> list[WatchSpec]:
        return [
            WatchSpec("CronJob", self.namespace, field_selector=f"metadata.name={self.cronjob}"),
            WatchSpec("Job", self.namespace),
        ]

    def _accepts(self, event: WatchEvent) -> bool:
        if self.namespace and meta(event.object).get("namespace") != self.namespace:
            return False
        if event.kind == "CronJob":
            return event.name == self.cronjob
        return event.kind == "Job" and owned_by(event.object, "CronJob", self.cronjob)

    def _observe(self, event: WatchEvent, old: Obj | None) -> None:
        if event.kind != "Job":
            return
        job, uid = event.object, uid_of(event.object)
        run = self.runs.get(uid)
        if run is None:
            run = self.runs[uid] = Run(name_of(job), uid, _scheduled_time(self.cronjob, job))
        run.started = parse_time((job.get("status") or {}).get("startTime")) or parse_time(
            meta(job).get("creationTimestamp")
        )
        run.outcome, run.finished = _outcome(job)
        if event.type == "DELETED":
            run.removed_at = datetime.fromtimestamp(event.timestamp, UTC)
        else:
            run.removed_at = None

    def _reset(self) -> None:
        self.runs.clear()
        self._fired.clear()

    # -- what is shown ---------------------------------------------------------------------

    @property
    def cronjob_object(self) -> Obj | None:
        """The CronJob as last seen."""
        found = self.items("CronJob")
        return found[0] if found else None

    def schedule(self) -> CronSchedule | None:
        """Return the parsed schedule, or None if unknown or not understood."""
        spec = (self.cronjob_object or {}).get("spec") or {}
        try:
            return CronSchedule.parse(str(spec["schedule"]))
        except (KeyError, ValueError):
            return None

    def schedule_zone(self) -> ScheduleZone | None:
        """Return the zone the controller reads the schedule in; None if it cannot be loaded.

        ``TZ=``/``CRON_TZ=`` in the schedule (old objects only), else ``spec.timeZone``,
        else the controller-manager's zone (``cluster_zone``), else UTC, assumed.
        """
        spec = (self.cronjob_object or {}).get("spec") or {}
        return schedule_zone(spec, self.schedule(), self.cluster_zone)

    def ordered_runs(self) -> list[Run]:
        """Return the runs, oldest scheduled first."""
        epoch = datetime.fromtimestamp(0, UTC)
        return sorted(self.runs.values(), key=lambda r: (r.scheduled or epoch, natural_key(r.job)))

    def ticks(self) -> tuple[list[datetime], list[datetime]]:
        """Return (ticks that have fired, the next ``lookahead`` ticks), in UTC.

        They are computed in :meth:`schedule_zone`; an ``@every`` schedule steps from the
        CronJob's creation (the next ones from its last schedule time, as the controller does).
        """
        schedule, where = self.schedule(), self.schedule_zone()
        if schedule is None or where is None or self.now is None:
            return [], []
        cronjob = self.cronjob_object or {}
        now = datetime.fromtimestamp(self.current_time(), UTC)
        starts = [r.scheduled for r in self.runs.values() if r.scheduled]
        created = parse_time(meta(cronjob).get("creationTimestamp"))
        last = parse_time((cronjob.get("status") or {}).get("lastScheduleTime"))
        begin = min([*starts, *([created] if created else [])], default=now - timedelta(minutes=5))
        begin = max(begin, now - HISTORY_WINDOW)
        fired = self._fired.between(schedule, where.tz, created, begin, now)
        upcoming = schedule.ticks(
            now + timedelta(seconds=1), count=self.lookahead, tz=where.tz, anchor=last or created
        )
        return [t.astimezone(UTC) for t in fired], [t.astimezone(UTC) for t in upcoming]

    def _tick_labels(self, ticks: list[datetime]) -> list[str]:
        where = self.schedule_zone()
        return [where.label(t) if where else f"{t:%a %H:%M} UTC" for t in ticks]

    def to_frame(self) -> pd.DataFrame:
        """Return one row per Job shown, oldest first; removed ones included."""
        rows = [
            {
                "job": r.job,
                "scheduled": r.scheduled,
                "started": r.started,
                "finished": r.finished,
                "outcome": r.outcome,
                "removed": r.removed_at is not None,
                "removed_at": r.removed_at,
            }
            for r in self.ordered_runs()
        ]
        frame = pd.DataFrame(rows, columns=FRAME_COLUMNS)
        for column in ("scheduled", "started", "finished", "removed_at"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame

    def chart_title(self) -> str:
        """Return the text above the chart."""
        cronjob = self.cronjob_object
        if cronjob is None:
            return f"CronJob {self.cronjob}: not seen yet"
        spec, status = cronjob.get("spec") or {}, cronjob.get("status") or {}
        title = f"CronJob {self.cronjob}: schedule {spec.get('schedule')!s}"
        where = self.schedule_zone()
        if self.schedule() is None:
            title += " (ticks not computed for this schedule)"
        elif where is None:
            title += f" (ticks not computed: unknown time zone {spec.get('timeZone')!r})"
        else:
            title += f" {where.describe()}"
        parts = [title]
        if spec.get("suspend"):
            parts.append("suspended")
        parts.append(
            f"keeps {spec.get('successfulJobsHistoryLimit', 3)} succeeded, "
            f"{spec.get('failedJobsHistoryLimit', 1)} failed"
        )
        last = parse_time(status.get("lastScheduleTime"))
        if last:
            parts.append(f"last scheduled {last:%H:%M:%S}")
        return " · ".join(parts)

    def _summary(self) -> str:
        live = [r for r in self.runs.values() if r.removed_at is None]
        removed = len(self.runs) - len(live)
        return f"{len(live)} Jobs kept, {removed} removed"

    # -- drawing -------------------------------------------------------------------------

    def _render(self) -> None:
        fired, upcoming = self.ticks()
        runs = self.ordered_runs()
        now = datetime.fromtimestamp(self.current_time(), UTC)
        segments: dict[str, tuple[list[Any], list[Any], list[str]]] = {
            k: ([], [], []) for k in OUTCOMES
        }
        for run in runs:
            trace = "Removed" if run.removed_at else run.outcome
            start = run.started or run.scheduled
            end = run.finished or run.removed_at or now
            label = f"{run.job}: {run.outcome}" + (
                " (removed by history limit)" if run.removed_at else ""
            )
            xs, ys, texts = segments[trace]
            xs += [start, end, None]
            ys += [run.job, run.job, None]
            texts += [label, label, ""]
        with self.figure.batch_update():
            for trace, ticks in zip(self.figure.data[:2], (fired, upcoming), strict=True):
                trace.x, trace.y = ticks, [SCHEDULE_ROW] * len(ticks)
                trace.text = self._tick_labels(ticks)
            for trace, outcome in zip(self.figure.data[2:], OUTCOMES, strict=True):
                trace.x, trace.y, trace.text = segments[outcome]
            self.figure.layout.yaxis.categoryarray = [r.job for r in runs] + [SCHEDULE_ROW]
            self.figure.layout.yaxis.categoryorder = "array"
            self.figure.layout.title.text = escape(self.chart_title())

    def _snapshot_html(self) -> str:
        rows = []
        for run in self.ordered_runs():
            rows.append(
                {
                    "job": run.job,
                    "scheduled": f"{run.scheduled:%H:%M:%S}" if run.scheduled else None,
                    "outcome": f"{OUTCOMES[run.outcome].symbol} {run.outcome}",
                    "finished": f"{run.finished:%H:%M:%S}" if run.finished else None,
                    "removed": f"{run.removed_at:%H:%M:%S}" if run.removed_at else None,
                }
            )
        _, upcoming = self.ticks()
        where = self.schedule_zone()
        ticks = "next ticks (UTC): " + ", ".join(f"{t:%H:%M}" for t in upcoming)
        if where is not None and where.name != "UTC":
            ticks += f"; in {where.name}: " + ", ".join(
                f"{t.astimezone(where.tz):%H:%M}" for t in upcoming
            )
        note = f"<p>{escape(ticks)}</p>" if upcoming else ""
        return f"<p>{escape(self.chart_title())}</p>{note}" + html_table(
            rows, ["job", "scheduled", "outcome", "finished", "removed"]
        )
