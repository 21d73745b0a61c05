"""How CronJobTimeline draws its CronJobs: traces, one row per tick line and per Job.

Each CronJob gets a schedule row (▼ fired, ▽ next) with its Jobs' rows under it,
newest first; several CronJobs are stacked top to bottom in the order given.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from ._cron_track import DELETED_RUNNING, REPLACED, WITH_CRONJOB, CronTrack, Run
from ._palette import INK, OKABE_ITO, OUTCOMES, escape, html_table

SCHEDULE_ROW = "schedule"
#: The shortest bar drawn, as a fraction of the time axis (about 8 pixels of a 700-pixel
#: axis): a run of 2 s on a 4-minute axis stays visible on a projector.
MIN_RUN_FRACTION = 0.012
#: Trace names after the outcome ones: the removals, the CronJob's deletion, late starts.
REMOVAL_TRACE = "Removed"
DELETED_TRACE = "CronJob deleted"
LATE_TRACE = "waited (started late)"
#: Height of the chart: its margins, and at least this much per row.
BASE_HEIGHT = 400
MARGINS_HEIGHT = 214
ROW_HEIGHT = 22

Segments = dict[str, tuple[list[Any], list[Any], list[str]]]


def schedule_row(track: CronTrack, several: bool) -> str:
    """Return the label of a CronJob's schedule row ("schedule" when it is alone)."""
    return f"{track.name} ({track.policy()})" if several else SCHEDULE_ROW


def traces() -> list[Any]:
    """Return the chart's traces, empty: ticks, one per outcome, removals, deletions, waits."""
    import plotly.graph_objects as go

    hover = "%{text}<extra></extra>"
    found = [
        go.Scatter(
            name="schedule fired",
            mode="markers",
            marker={"symbol": "triangle-down", "size": 11, "color": INK},
            hovertemplate=hover,
        ),
        go.Scatter(
            name="next ticks",
            mode="markers",
            marker={"symbol": "triangle-down-open", "size": 11, "color": INK},
            hovertemplate=hover,
        ),
    ]
    for outcome, style in OUTCOMES.items():
        removal = outcome == REMOVAL_TRACE
        found.append(
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
                hovertemplate=hover,
            )
        )
    found.append(
        go.Scatter(
            name=DELETED_TRACE,
            mode="markers",
            marker={
                "symbol": "square-x-open",
                "size": 14,
                "color": OKABE_ITO["vermillion"],
                "line": {"width": 2},
            },
            hovertemplate=hover,
        )
    )
    found.append(
        go.Scatter(
            name=LATE_TRACE,
            mode="lines",
            line={"color": INK, "dash": "dot", "width": 2},
            hovertemplate=hover,
        )
    )
    return found


def segment_names() -> list[str]:
    """Return the names of the traces after the two tick traces, in order."""
    return [*OUTCOMES, DELETED_TRACE, LATE_TRACE]


def _label(run: Run) -> str:
    label = f"{run.job}: {run.outcome}" + (" (manual run)" if run.manual else "")
    took = run.duration()
    if took is not None:
        label += f", ran {took:.0f} s"
    return label


def _add(segments: Segments, trace: str, start: Any, end: Any, row: str, text: str) -> None:
    xs, ys, texts = segments[trace]
    xs += [start, end, None]
    ys += [row, row, None]
    texts += [text, text, ""]


def _removal(run: Run) -> str:
    if run.removed_by == WITH_CRONJOB:
        return "deleted with the CronJob"
    if run.removed_by == REPLACED:
        return "deleted while running: replaced by the next tick's Job"
    if run.removed_by == DELETED_RUNNING:
        return "deleted while running"
    return "removed by history limit"


def segments(tracks: Sequence[CronTrack], now: datetime, shortest: timedelta) -> Segments:
    """Return each trace's points (x, y, hover text) for the runs and deletions of ``tracks``."""
    found: Segments = {k: ([], [], []) for k in segment_names()}
    several = len(tracks) > 1
    for track in tracks:
        for run in track.ordered_runs():
            start = run.started or run.scheduled
            end = run.finished or run.removed_at or now
            if start is None:
                continue
            end = max(end, start + shortest)
            label = _label(run)
            if run.outcome in OUTCOMES and run.outcome != REMOVAL_TRACE:
                _add(found, run.outcome, start, end, run.job, label)
            late = run.late_by()
            if late is not None and run.scheduled is not None:
                waited = (
                    f"{run.job}: scheduled {run.scheduled:%H:%M:%S}, started "
                    f"{late.total_seconds():.0f} s late"
                )
                _add(found, LATE_TRACE, run.scheduled, start, run.job, waited)
            if run.removed_at is not None:
                gone = f"{label} ({_removal(run)} at {run.removed_at:%H:%M:%S})"
                _add(found, REMOVAL_TRACE, end, max(end, run.removed_at), run.job, gone)
        if track.deleted_at is not None or track.deleting_since is not None:
            when = track.deleting_since or track.deleted_at
            xs, ys, texts = found[DELETED_TRACE]
            xs.append(when)
            ys.append(schedule_row(track, several))
            texts.append(f"CronJob {track.name} deleted at {when:%H:%M:%S}")
    return found


def categories(tracks: Sequence[CronTrack]) -> list[str]:
    """Return the y axis' rows, bottom to top: the last CronJob's runs first, oldest lowest."""
    several = len(tracks) > 1
    rows: list[str] = []
    for track in reversed(tracks):
        rows += [r.job for r in track.ordered_runs()] + [schedule_row(track, several)]
    return rows


def height(rows: int) -> int:
    """Return the chart's height for ``rows`` rows: 400 pixels, taller when rows need it."""
    return max(BASE_HEIGHT, MARGINS_HEIGHT + ROW_HEIGHT * rows)


def snapshot_table(tracks: Sequence[CronTrack]) -> str:
    """Return the runs as an HTML table, for the static snapshot."""
    rows = []
    for track in tracks:
        for run in track.ordered_runs():
            scheduled = f"{run.scheduled:%H:%M:%S}" if run.scheduled else None
            rows.append(
                {
                    "cronjob": track.name,
                    "job": run.job,
                    "scheduled": "manual" if run.manual else scheduled,
                    "started": f"{run.started:%H:%M:%S}" if run.started else None,
                    "outcome": f"{OUTCOMES[run.outcome].symbol} {run.outcome}",
                    "finished": f"{run.finished:%H:%M:%S}" if run.finished else None,
                    "removed": (
                        f"{run.removed_at:%H:%M:%S} ({run.removed_by})" if run.removed_at else None
                    ),
                }
            )
    columns = ["job", "scheduled", "started", "outcome", "finished", "removed"]
    if len(tracks) > 1:
        columns.insert(0, "cronjob")
    return html_table(rows, columns)


def next_ticks_note(track: CronTrack, upcoming: list[datetime]) -> str:
    """Return a paragraph listing the next ticks in UTC (and in the schedule's zone)."""
    if not upcoming:
        return ""
    where = track.schedule_zone()
    ticks = "next ticks (UTC): " + ", ".join(f"{t:%H:%M}" for t in upcoming)
    if where is not None and where.name != "UTC":
        ticks += f"; in {where.name}: " + ", ".join(
            f"{t.astimezone(where.tz):%H:%M}" for t in upcoming
        )
    return f"<p>{escape(ticks)}</p>"
