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
from ._palette import INK, OKABE_ITO, OUTCOMES, chart_layout, escape, html_table

FRAME_COLUMNS = [
    "job",
    "scheduled",
    "started",
    "finished",
    "outcome",
    "removed",
    "removed_at",
    "removed_by",
]
SCHEDULE_ROW = "schedule"
#: Fired ticks older than this are not drawn (a CronJob may be weeks old).
HISTORY_WINDOW = timedelta(hours=3)
#: The shortest bar drawn, as a fraction of the time axis (about 8 pixels of a 700-pixel
#: axis): a run of 2 s on a 4-minute axis stays visible on a projector.
MIN_RUN_FRACTION = 0.012
#: Why a Job went: pruned by the CronJob's history limits, or deleted with the CronJob.
BY_HISTORY_LIMIT = "history limit"
WITH_CRONJOB = "CronJob deleted"
#: Trace names after the outcome ones: the removals, and the CronJob's deletion.
REMOVAL_TRACE = "Removed"
DELETED_TRACE = "CronJob deleted"


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
    #: BY_HISTORY_LIMIT or WITH_CRONJOB once removed.
    removed_by: str | None = None

    def duration(self) -> float | None:
        """Return how long the run took or has taken so far (seconds), if it started."""
        if self.started is None or self.finished is None:
            return None
        return max(0.0, (self.finished - self.started).total_seconds())


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
    outcome (Complete ✓, Failed ✗, Running ▶); a bar is never narrower than
    about 8 pixels, so a run of seconds shows on an axis of minutes. A Job
    that is removed keeps its bar, with a grey dotted tail to the moment it
    went (⊖): pruned by the history limits, or deleted with the CronJob. When
    the CronJob itself is deleted the chart keeps its schedule row and its
    runs, marks the deletion (⊠) and says in the title what went with it; a
    suspended CronJob draws no future ticks. The time axis is UTC; the ticks
    are computed in the zone the controller reads the schedule in: ``spec.timeZone`` when set, else
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
        self._last: Obj | None = None
        #: When the CronJob was deleted (its DELETED event) and when its deletion began
        #: (``deletionTimestamp``, set earlier under foreground deletion); None while it exists.
        self.deleted_at: datetime | None = None
        self.deleting_since: datetime | None = None
        #: Since when the CronJob is suspended (None: it is not).
        self.suspended_since: datetime | None = None
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
            removal = outcome == REMOVAL_TRACE
            traces.append(
                go.Scatter(
                    name=outcome,
                    mode="lines+markers",
                    line={"color": style.color, "dash": style.dash, "width": 2 if removal else 8},
                    # A removal's marker sits at its end only (its start is the run's end).
                    marker={
                        "symbol": style.marker,
                        "size": 12 if removal else 10,
                        "color": style.color,
                        "line": {"width": 2, "color": style.color},
                    },
                    hovertemplate="%{text}<extra></extra>",
                )
            )
        traces.append(
            go.Scatter(
                name=DELETED_TRACE,
                mode="markers",
                marker={
                    "symbol": "square-x-open",
                    "size": 14,
                    "color": OKABE_ITO["vermillion"],
                    "line": {"width": 2},
                },
                hovertemplate="%{text}<extra></extra>",
            )
        )
        layout = chart_layout(
            height=400,
            margin={"l": 60, "r": 20, "t": 104, "b": 110},
            # below the x axis' title, not on it
            legend={"orientation": "h", "x": 0, "y": -0.38, "yanchor": "top"},
        )
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
        if event.kind == "CronJob":
            self._observe_cronjob(event)
            return
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
        self._blame_removals()

    def _observe_cronjob(self, event: WatchEvent) -> None:
        cronjob, at = event.object, datetime.fromtimestamp(event.timestamp, UTC)
        if self._last is not None and uid_of(self._last) != uid_of(cronjob):
            # Created again under the same name: a new schedule, the old runs stay.
            self.deleted_at = self.deleting_since = None
        self._last = cronjob
        deleting = parse_time(meta(cronjob).get("deletionTimestamp"))
        if event.type == "DELETED":
            self.deleted_at = at
            self.deleting_since = deleting or self.deleting_since or at
        elif deleting is not None:
            self.deleting_since = deleting
        if (cronjob.get("spec") or {}).get("suspend"):
            if self.suspended_since is None:
                last = parse_time((cronjob.get("status") or {}).get("lastScheduleTime"))
                seen_before = event.type != "ADDED" or bool(self.runs)
                self.suspended_since = at if seen_before or last is None else last
        else:
            self.suspended_since = None
        self._blame_removals()

    def _blame_removals(self) -> None:
        """Say why each removed Job went: with its CronJob, or by the history limits."""
        since = self.deleting_since
        for run in self.runs.values():
            if run.removed_at is None:
                run.removed_by = None
            elif since is not None and run.removed_at >= since - timedelta(seconds=1):
                run.removed_by = WITH_CRONJOB
            else:
                run.removed_by = BY_HISTORY_LIMIT

    def _reset(self) -> None:
        self.runs.clear()
        self._fired.clear()
        self._last = None
        self.deleted_at = self.deleting_since = self.suspended_since = None

    # -- what is shown ---------------------------------------------------------------------

    @property
    def cronjob_object(self) -> Obj | None:
        """The CronJob as last seen, also after it was deleted (see ``deleted_at``)."""
        found = self.items("CronJob")
        return found[0] if found else self._last

    def schedule_end(self) -> datetime | None:
        """Return when the schedule stopped firing (deleted or suspended), or None."""
        ends = [t for t in (self.deleting_since, self.suspended_since) if t is not None]
        return min(ends) if ends else None

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

        A deleted or suspended CronJob's ticks stop when it was (no next ticks).

        They are computed in :meth:`schedule_zone`; an ``@every`` schedule steps from the
        CronJob's creation (the next ones from its last schedule time, as the controller does).
        """
        schedule, where = self.schedule(), self.schedule_zone()
        if schedule is None or where is None or self.now is None:
            return [], []
        cronjob = self.cronjob_object or {}
        now = datetime.fromtimestamp(self.current_time(), UTC)
        stopped = self.schedule_end()
        if stopped is not None:
            now = min(now, stopped)
        starts = [r.scheduled for r in self.runs.values() if r.scheduled]
        created = parse_time(meta(cronjob).get("creationTimestamp"))
        last = parse_time((cronjob.get("status") or {}).get("lastScheduleTime"))
        begin = min([*starts, *([created] if created else [])], default=now - timedelta(minutes=5))
        begin = max(begin, now - HISTORY_WINDOW)
        fired = self._fired.between(schedule, where.tz, created, begin, now)
        if stopped is not None:  # deleted or suspended: nothing fires any more
            return [t.astimezone(UTC) for t in fired], []
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
                "removed_by": r.removed_by,
            }
            for r in self.ordered_runs()
        ]
        frame = pd.DataFrame(rows, columns=FRAME_COLUMNS)
        for column in ("scheduled", "started", "finished", "removed_at"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame

    def chart_title(self) -> str:
        """Return the text above the chart, on one line."""
        return " · ".join(self.title_lines())

    def title_lines(self) -> list[str]:
        """Return the text above the chart: what the schedule is, then its state and limits.

        Short lines (the schedule; its zone; deleted or suspended, if so; limits and
        the last run), so the title fits a chart 600 pixels wide (a notebook at 1024 px).
        """
        cronjob = self.cronjob_object
        if cronjob is None:
            return [f"CronJob {self.cronjob}: not seen yet"]
        spec, status = cronjob.get("spec") or {}, cronjob.get("status") or {}
        title = f"CronJob {self.cronjob}: schedule {spec.get('schedule')!s}"
        where = self.schedule_zone()
        if self.schedule() is None:
            zone_line = "(ticks not computed for this schedule)"
        elif where is None:
            zone_line = f"(ticks not computed: unknown time zone {spec.get('timeZone')!r})"
        else:
            zone_line = where.describe()
        parts = []
        if self.deleted_at is not None or self.deleting_since is not None:
            went = sum(1 for r in self.runs.values() if r.removed_by == WITH_CRONJOB)
            when = self.deleting_since or self.deleted_at
            state = "deleted" if self.deleted_at is not None else "being deleted"
            parts.append(
                f"{state} at {when:%H:%M:%S}, its {went} Job{'s' if went != 1 else ''} with it"
            )
        elif spec.get("suspend"):
            since = self.suspended_since
            parts.append(f"suspended since {since:%H:%M:%S}" if since else "suspended")
        parts.append(
            f"keeps {spec.get('successfulJobsHistoryLimit', 3)} succeeded, "
            f"{spec.get('failedJobsHistoryLimit', 1)} failed"
        )
        last = parse_time(status.get("lastScheduleTime"))
        if last:
            parts.append(f"last scheduled {last:%H:%M:%S}")
        if len(parts) > 2:  # deleted or suspended: its own line, so each fits 600 pixels
            return [title, zone_line, parts[0], " · ".join(parts[1:])]
        return [title, zone_line, " · ".join(parts)]

    def _summary(self) -> str:
        live = [r for r in self.runs.values() if r.removed_at is None]
        removed = len(self.runs) - len(live)
        text = f"{len(live)} Jobs kept, {removed} removed"
        if self.deleted_at is not None:
            when = self.deleting_since or self.deleted_at
            text = f"CronJob deleted at {when:%H:%M:%S} · " + text
        return text

    # -- drawing -------------------------------------------------------------------------

    def _x_span(self, fired: list[datetime], upcoming: list[datetime], now: datetime) -> float:
        """Return the seconds the time axis spans (at least one)."""
        times = [*fired, *upcoming, now]
        times += [t for r in self.runs.values() for t in (r.started, r.scheduled) if t]
        return max(1.0, (max(times) - min(times)).total_seconds())

    def _render(self) -> None:
        fired, upcoming = self.ticks()
        runs = self.ordered_runs()
        now = datetime.fromtimestamp(self.current_time(), UTC)
        shortest = timedelta(seconds=self._x_span(fired, upcoming, now) * MIN_RUN_FRACTION)
        segments: dict[str, tuple[list[Any], list[Any], list[str]]] = {
            k: ([], [], []) for k in [*OUTCOMES, DELETED_TRACE]
        }
        for run in runs:
            start = run.started or run.scheduled
            end = run.finished or run.removed_at or now
            if start is None:
                continue
            end = max(end, start + shortest)
            took = run.duration()
            label = f"{run.job}: {run.outcome}"
            if took is not None:
                label += f", ran {took:.0f} s"
            if run.outcome in OUTCOMES and run.outcome != REMOVAL_TRACE:
                xs, ys, texts = segments[run.outcome]
                xs += [start, end, None]
                ys += [run.job, run.job, None]
                texts += [label, label, ""]
            if run.removed_at is not None:
                why = (
                    "deleted with the CronJob"
                    if run.removed_by == WITH_CRONJOB
                    else "removed by history limit"
                )
                gone = f"{label} ({why} at {run.removed_at:%H:%M:%S})"
                xs, ys, texts = segments[REMOVAL_TRACE]
                xs += [end, max(end, run.removed_at), None]
                ys += [run.job, run.job, None]
                texts += [gone, gone, ""]
        if self.deleted_at is not None or self.deleting_since is not None:
            when = self.deleting_since or self.deleted_at
            xs, ys, texts = segments[DELETED_TRACE]
            xs.append(when)
            ys.append(SCHEDULE_ROW)
            texts.append(f"CronJob {self.cronjob} deleted at {when:%H:%M:%S}")
        with self.figure.batch_update():
            for trace, ticks in zip(self.figure.data[:2], (fired, upcoming), strict=True):
                trace.x, trace.y = ticks, [SCHEDULE_ROW] * len(ticks)
                trace.text = self._tick_labels(ticks)
            for trace, name in zip(self.figure.data[2:], segments, strict=True):
                trace.x, trace.y, trace.text = segments[name]
            removal = self.figure.data[2 + list(OUTCOMES).index(REMOVAL_TRACE)]
            removal.marker.size = [0, 12, 0] * (len(segments[REMOVAL_TRACE][0]) // 3)
            self.figure.layout.yaxis.categoryarray = [r.job for r in runs] + [SCHEDULE_ROW]
            self.figure.layout.yaxis.categoryorder = "array"
            self.figure.layout.title.text = "<br>".join(escape(t) for t in self.title_lines())

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
