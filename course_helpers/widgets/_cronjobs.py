"""CronJobTimeline: schedule ticks, the Job each tick created, and what became of it.

One CronJob, or several side by side on one time axis (the same schedule with
different ``concurrencyPolicy``, say). What it knows of each CronJob is a
:class:`~course_helpers.widgets._cron_track.CronTrack`; how it draws them is
:mod:`~course_helpers.widgets._cron_draw`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Unpack

import ipywidgets as widgets
import pandas as pd

from ..kube._cron import CronSchedule
from ..kube._objects import meta, owned_by
from ..kube._watch import Obj, WatchEvent
from . import _cron_draw as draw
from ._base import LiveWidget, WatchSpec, WidgetOptions
from ._cron_draw import DELETED_TRACE, MIN_RUN_FRACTION, REMOVAL_TRACE, SCHEDULE_ROW
from ._cron_ticks import ScheduleZone
from ._cron_track import (
    BY_HISTORY_LIMIT,
    DELETED_RUNNING,
    HISTORY_WINDOW,
    REPLACED,
    WITH_CRONJOB,
    CronTrack,
    Run,
)
from ._figure import figure_widget
from ._palette import OUTCOMES, chart_layout, escape

__all__ = [
    "BY_HISTORY_LIMIT",
    "DELETED_RUNNING",
    "DELETED_TRACE",
    "FRAME_COLUMNS",
    "HISTORY_WINDOW",
    "MIN_RUN_FRACTION",
    "REMOVAL_TRACE",
    "REPLACED",
    "SCHEDULE_ROW",
    "WITH_CRONJOB",
    "CronJobTimeline",
    "Run",
]

FRAME_COLUMNS = [
    "job",
    "scheduled",
    "started",
    "finished",
    "outcome",
    "removed",
    "removed_at",
    "removed_by",
    "cronjob",
    "manual",
]


class CronJobTimeline(LiveWidget):
    """CronJobs' schedule ticks, the Job created at each, its outcome, and its removal.

    Each CronJob has a row of ticks, filled where the schedule fired and open
    where it will fire next; below it one row per Job runs from its start to its
    end, drawn by outcome (Complete ✓, Failed ✗, Running ▶); a bar is never
    narrower than about 8 pixels, so a run of seconds shows on an axis of minutes.
    A run that started well after its tick (``concurrencyPolicy: Forbid`` holds a
    tick back while the previous run goes on) has a dotted lead-in from its tick.
    A Job that is removed keeps its bar, with a grey dotted tail to the moment it
    went (⊖): pruned by the history limits, deleted while running by the next tick
    (``Replace``), or deleted with the CronJob. Manual runs (``kubectl create job
    --from=cronjob/...``) are drawn too, and said to be manual. When a CronJob is
    deleted the chart keeps its ticks and runs and marks the deletion (⊠); a
    suspended CronJob draws no future ticks. The time axis is UTC; the ticks are
    computed in the zone the controller reads the schedule in: ``spec.timeZone``
    when set, else kube-controller-manager's own zone (UTC on the embedded
    cluster, from ``ch.connect()``); when that is unknown (your own cluster, or a
    recording) they are drawn for UTC and the title says so.

    Args:
        cronjob: the CronJob's name, or a list of names to draw side by side.
        namespace: their namespace.
        lookahead: how many future ticks to show.
        cluster_zone: kube-controller-manager's time zone (an IANA name), for
            CronJobs without ``spec.timeZone``; default: what ``ch.connect()``
            found for a live widget on the current connection, else unknown.
        **options: as for every widget (``source``, ``recorder``, ...; see ``LiveWidget``).

    Example:
        >>> timeline = CronJobTimeline("report", "demo")  # doctest: +SKIP
        >>> timeline.to_frame()[["job", "outcome", "removed"]]  # doctest: +SKIP
        >>> CronJobTimeline(["export-allow", "export-forbid"], "demo")  # doctest: +SKIP

    """

    tick_seconds = 1.0

    def __init__(
        self,
        cronjob: str | Sequence[str],
        namespace: str | None = None,
        *,
        lookahead: int = 3,
        cluster_zone: str | None = None,
        **options: Unpack[WidgetOptions],
    ) -> None:
        names = [cronjob] if isinstance(cronjob, str) else list(cronjob)
        if not names or len(set(names)) != len(names):
            raise ValueError(f"give one or more distinct CronJob names, not {cronjob!r}")
        self.cronjobs = names
        self.cronjob = names[0]
        self.lookahead = lookahead
        on_current_connection = options.get("source") is None and options.get("api_client") is None
        if cluster_zone is None and on_current_connection:
            from ..kube._session import cluster_info

            cluster_zone = cluster_info().cronjob_zone
        self.cluster_zone = cluster_zone
        self.tracks = {name: CronTrack(name, cluster_zone) for name in names}
        super().__init__(namespace=namespace, **options)

    def _build(self) -> list[widgets.Widget]:
        layout = chart_layout(
            height=draw.BASE_HEIGHT,
            margin={"l": 60, "r": 20, "t": 104, "b": 110},
            # below the x axis' title, not on it
            legend={"orientation": "h", "x": 0, "y": -0.38, "yanchor": "top"},
        )
        layout["xaxis"].update(type="date", title={"text": "time (UTC)"})
        layout["yaxis"].update(type="category", automargin=True)
        self.figure = figure_widget(data=draw.traces(), layout=layout)
        return [self.figure]

    def _figure(self) -> Any:
        return self.figure

    def _specs(self) -> list[WatchSpec]:
        one = len(self.cronjobs) == 1
        selector = f"metadata.name={self.cronjob}" if one else None
        return [
            WatchSpec("CronJob", self.namespace, field_selector=selector),
            WatchSpec("Job", self.namespace),
        ]

    def _track_of(self, event: WatchEvent) -> CronTrack | None:
        if event.kind == "CronJob":
            return self.tracks.get(event.name)
        if event.kind == "Job":
            return next((t for t in self.tracks.values() if self._owns(t, event.object)), None)
        return None

    @staticmethod
    def _owns(track: CronTrack, job: Obj) -> bool:
        return owned_by(job, "CronJob", track.name)

    def _accepts(self, event: WatchEvent) -> bool:
        if self.namespace and meta(event.object).get("namespace") != self.namespace:
            return False
        return self._track_of(event) is not None

    def _observe(self, event: WatchEvent, old: Obj | None) -> None:
        track = self._track_of(event)
        if track is None:
            return
        if event.kind == "CronJob":
            track.observe_cronjob(event)
        else:
            track.observe_job(event)

    def _reset(self) -> None:
        for track in self.tracks.values():
            track.clear()

    # -- what is shown (the first CronJob's, for the single-CronJob attributes) --------------

    @property
    def runs(self) -> dict[str, Run]:
        """Every run shown, by the Job's uid."""
        return {uid: run for t in self.tracks.values() for uid, run in t.runs.items()}

    @property
    def deleted_at(self) -> datetime | None:
        """When the (first) CronJob was deleted; None while it exists."""
        return self.tracks[self.cronjob].deleted_at

    @property
    def deleting_since(self) -> datetime | None:
        """When the (first) CronJob's deletion began; None while it exists."""
        return self.tracks[self.cronjob].deleting_since

    @property
    def suspended_since(self) -> datetime | None:
        """Since when the (first) CronJob is suspended; None when it is not."""
        return self.tracks[self.cronjob].suspended_since

    @property
    def cronjob_object(self) -> Obj | None:
        """The (first) CronJob as last seen, also after it was deleted."""
        return self.tracks[self.cronjob].last

    def schedule_end(self, cronjob: str | None = None) -> datetime | None:
        """Return when a CronJob's schedule stopped firing (deleted or suspended), or None."""
        return self.tracks[cronjob or self.cronjob].schedule_end()

    def schedule(self, cronjob: str | None = None) -> CronSchedule | None:
        """Return a CronJob's parsed schedule (default: the first), or None if not understood."""
        return self.tracks[cronjob or self.cronjob].schedule()

    def schedule_zone(self, cronjob: str | None = None) -> ScheduleZone | None:
        """Return the zone the controller reads a CronJob's schedule in (default: the first).

        ``TZ=``/``CRON_TZ=`` in the schedule (old objects only), else ``spec.timeZone``,
        else the controller-manager's zone (``cluster_zone``), else UTC, assumed;
        None if it names a zone that cannot be loaded.
        """
        return self.tracks[cronjob or self.cronjob].schedule_zone()

    def ordered_runs(self) -> list[Run]:
        """Return the runs, CronJob by CronJob, each one's oldest scheduled first."""
        return [run for t in self.tracks.values() for run in t.ordered_runs()]

    def ticks(self, cronjob: str | None = None) -> tuple[list[datetime], list[datetime]]:
        """Return a CronJob's (fired ticks, the next ``lookahead`` ticks), in UTC.

        Default: the first CronJob. A deleted or suspended CronJob's ticks stop when
        it was (no next ticks). They are computed in :meth:`schedule_zone`.
        """
        if self.now is None:
            return [], []
        now = datetime.fromtimestamp(self.current_time(), UTC)
        return self.tracks[cronjob or self.cronjob].ticks(now, self.lookahead)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per Job shown, CronJob by CronJob, oldest first; removed ones too."""
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
                "cronjob": r.cronjob,
                "manual": r.manual,
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
        if len(self.tracks) > 1:
            return self._title_lines_several()
        track = self.tracks[self.cronjob]
        if track.last is None:
            return [f"CronJob {self.cronjob}: not seen yet"]
        title = f"CronJob {self.cronjob}: schedule {track.spec().get('schedule')!s}"
        state = track.state()
        parts = [track.limits()]
        last = track.last_scheduled()
        if last:
            parts.append(f"last scheduled {last:%H:%M:%S}")
        if state is not None:  # deleted or suspended: its own line, so each fits 600 pixels
            return [title, track.zone_line(), state, " · ".join(parts)]
        return [title, track.zone_line(), " · ".join(parts)]

    def _title_lines_several(self) -> list[str]:
        tracks = list(self.tracks.values())
        seen = [t for t in tracks if t.last is not None]
        schedules = {str(t.spec().get("schedule")) for t in seen}
        zones = {t.zone_line() for t in seen}
        title = f"{len(tracks)} CronJobs"
        if len(schedules) == 1:
            title += f", schedule {schedules.pop()}"
        lines = [title]
        if len(zones) == 1:
            lines.append(zones.pop())
        elif zones:
            lines.append("(each in its own zone: hover a tick)")
        if len(seen) < len(tracks):
            lines.append("not seen yet: " + ", ".join(t.name for t in tracks if t.last is None))
        states = {t.name: t.short_state() for t in seen}
        stopped = {name: state for name, state in states.items() if state}
        if len(stopped) == len(tracks) and len(set(stopped.values())) == 1:
            lines.append(f"all {next(iter(stopped.values()))}")
        elif stopped:
            lines.append("; ".join(f"{name} {state}" for name, state in stopped.items()))
        return lines

    def _summary(self) -> str:
        runs = list(self.runs.values())
        live = [r for r in runs if r.removed_at is None]
        text = f"{len(live)} Jobs kept, {len(runs) - len(live)} removed"
        if len(self.tracks) == 1 and self.deleted_at is not None:
            when = self.deleting_since or self.deleted_at
            text = f"CronJob deleted at {when:%H:%M:%S} · " + text
        return text

    # -- drawing -------------------------------------------------------------------------

    def _all_ticks(self) -> list[tuple[CronTrack, list[datetime], list[datetime]]]:
        return [(t, *self.ticks(t.name)) for t in self.tracks.values()]

    def _x_span(
        self, ticks: list[tuple[Any, list[datetime], list[datetime]]], now: datetime
    ) -> float:
        """Return the seconds the time axis spans (at least one)."""
        times = [now, *(t for _, fired, upcoming in ticks for t in (*fired, *upcoming))]
        times += [t for r in self.runs.values() for t in (r.started, r.scheduled) if t]
        return max(1.0, (max(times) - min(times)).total_seconds())

    def _render(self) -> None:
        ticks = self._all_ticks()
        tracks = list(self.tracks.values())
        now = datetime.fromtimestamp(self.current_time(), UTC)
        shortest = timedelta(seconds=self._x_span(ticks, now) * MIN_RUN_FRACTION)
        segments = draw.segments(tracks, now, shortest)
        several = len(tracks) > 1
        rows = draw.categories(tracks)
        with self.figure.batch_update():
            for index, trace in enumerate(self.figure.data[:2]):
                xs, ys, texts = [], [], []
                for track, fired, upcoming in ticks:
                    shown = (fired, upcoming)[index]
                    where = track.schedule_zone()
                    xs += shown
                    ys += [draw.schedule_row(track, several)] * len(shown)
                    texts += [
                        (where.label(t) if where else f"{t:%a %H:%M} UTC")
                        + (f" ({track.name})" if several else "")
                        for t in shown
                    ]
                trace.x, trace.y, trace.text = xs, ys, texts
            for trace, name in zip(self.figure.data[2:], segments, strict=True):
                trace.x, trace.y, trace.text = segments[name]
            removal = self.figure.data[2 + list(OUTCOMES).index(REMOVAL_TRACE)]
            removal.marker.size = [0, 12, 0] * (len(segments[REMOVAL_TRACE][0]) // 3)
            self.figure.layout.yaxis.categoryarray = rows
            self.figure.layout.yaxis.categoryorder = "array"
            self.figure.layout.height = draw.height(len(rows))
            self.figure.layout.title.text = "<br>".join(escape(t) for t in self.title_lines())

    def _snapshot_html(self) -> str:
        notes = "".join(
            draw.next_ticks_note(track, upcoming)
            for track, _, upcoming in self._all_ticks()
            if len(self.tracks) == 1
        )
        return f"<p>{escape(self.chart_title())}</p>{notes}" + draw.snapshot_table(
            list(self.tracks.values())
        )
