"""JobProgress's geometry: panel sizes in pixels, the y range, where target labels go.

Plotly places annotations in data units but draws text in pixels, so the
widget converts between the two with the sizes below. They describe the chart
as drawn in a notebook at 1024 pixels (a projector's), where the chart is about
600 pixels wide, its legend below; a wider notebook only leaves the labels more
room, so every placement stays clear of the data.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

#: The chart's height (pixels).
HEIGHT = 420
#: Space above the panels (pixels), for the panel titles (three lines each).
MARGIN_TOP = 84
#: Space below the panels (pixels), for the x axis' tick labels and title, and the legend.
MARGIN_BOTTOM = 96
#: Space left of the first panel (pixels), for the y axis' ticks and "pods" title.
MARGIN_LEFT = 50
#: Space right of the legend (pixels).
MARGIN_RIGHT = 20
#: Width the legend takes right of the last panel (pixels): none, it sits below.
LEGEND_PX = 0
#: The chart's width (pixels) the label sizes assume: a notebook's at 1024 pixels.
CHART_PX = 600
#: Width of all panels together (pixels).
PLOT_AREA_PX = CHART_PX - MARGIN_LEFT - MARGIN_RIGHT - LEGEND_PX
#: Height of the panels (pixels).
PLOT_HEIGHT_PX = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
#: Room between panels, as a fraction of the chart's width.
SPACING = 0.08

#: Size (pixels) of the markers on the counters' lines.
MARKER_PX = 8
#: Font size (pixels) of the panel titles.
TITLE_FONT_PX = 12
#: Font size (pixels) of the target lines' labels.
LABEL_FONT_PX = 10
#: Width of one character of a label, at LABEL_FONT_PX (pixels).
CHAR_PX = 6.0
#: Height of one line of label text, at LABEL_FONT_PX (pixels).
LINE_PX = 14
#: Pixels between a target line and its label: clear of the markers drawn on the line.
LABEL_LIFT = MARKER_PX // 2 + 2
#: Pixels kept free above a label's last line.
LABEL_PAD = 2

#: Where the y axis starts (pods): a little below 0, so a counter at 0 is not on the frame.
Y_FLOOR = -0.3
#: The least room above the highest count (pods), so its markers are not cut in half.
MIN_HEADROOM = 0.7
#: The shortest x axis (seconds), before anything has happened.
MIN_SPAN = 1.0


#: The steps a running Job's x axis grows by (seconds): the first at least a quarter of
#: the time shown, so the axis moves every few seconds rather than at every tick.
AXIS_STEPS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600)


def axis_end(t: float) -> float:
    """Return where the x axis of a Job still running at ``t`` seconds ends: a step ahead.

    The step is the first of :data:`AXIS_STEPS` at least a quarter of ``t``, so
    the axis is redrawn when "now" passes a step (every 1 s in the first four
    seconds, every 10 s from half a minute, every 30 s from a minute and a
    half) and shows a little room ahead of the data.

    Example:
        >>> [axis_end(t) for t in (0.4, 3.5, 7.9, 8.0, 30.0, 95.0)]
        [1.0, 4.0, 8.0, 10.0, 40.0, 120.0]
    """
    step = next((s for s in AXIS_STEPS if s >= t / 4), AXIS_STEPS[-1])
    return float((math.floor(t / step) + 1) * step)


def y_range(top: int, room_px: float) -> list[float]:
    """Return the y axis range for counts up to ``top`` with ``room_px`` pixels above it.

    Example:
        >>> y_range(3, 0)
        [-0.3, 3.7]
    """
    # headroom h (in pods) such that h * PLOT_HEIGHT_PX / (top + h - Y_FLOOR) >= room_px
    headroom = max(MIN_HEADROOM, room_px * (top - Y_FLOOR) / (PLOT_HEIGHT_PX - room_px))
    return [Y_FLOOR, top + headroom]


def _free_stretches(
    lines: Sequence[Sequence[tuple[float, int]]], level: int, right: float
) -> list[tuple[float, float]]:
    """Return the stretches of the line at ``level`` that no counter's step crosses."""
    crossings: list[float] = []
    for points in lines:
        for (_, before), (x, after) in itertools.pairwise(points):
            if min(before, after) <= level < max(before, after):
                crossings.append(x)
    edges = [0.0, *sorted(x for x in crossings if 0.0 <= x <= right), right]
    return list(itertools.pairwise(edges))


def label_fits(
    lines: Sequence[Sequence[tuple[float, int]]], level: int, right: float, width: float
) -> bool:
    """Tell whether some free stretch of the line at ``level`` is ``width`` long.

    Example:
        >>> label_fits([[(0.0, 0), (5.0, 3)]], level=2, right=10.0, width=6.0)
        False
    """
    return any(end - start >= width for start, end in _free_stretches(lines, level, right))


def label_spot(
    lines: Sequence[Sequence[tuple[float, int]]], level: int, right: float, width: float
) -> tuple[float, str]:
    """Return where the label of the target line at ``level`` goes, just above it: (x, xanchor).

    ``lines`` are the counters' step lines, each as (x, count) points from x = 0
    to ``right``. Right above the target line only a counter stepping past
    ``level`` can run through the label (counts are whole numbers: no other
    flat segment or marker comes that close), so the label takes a stretch of
    the line no such step crosses and at least ``width`` long (x units): the
    line's right end if it is free, else the rightmost free stretch, centred.
    If none is long enough, the longest, centred.

    Example:
        >>> label_spot([[(0.0, 0), (5.0, 3)]], level=2, right=10.0, width=4.0)
        (10.0, 'right')
    """
    gaps = _free_stretches(lines, level, right)
    fitting = [i for i, (start, end) in enumerate(gaps) if end - start >= width]
    if fitting and fitting[-1] == len(gaps) - 1:
        return right, "right"
    pick = fitting[-1] if fitting else max(range(len(gaps)), key=lambda i: gaps[i][1] - gaps[i][0])
    start, end = gaps[pick]
    return (start + end) / 2, "center"
