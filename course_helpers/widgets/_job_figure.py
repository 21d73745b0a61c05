"""JobProgress's figure: one panel per Job, its counters, target lines, labels and shapes.

The traces of panel ``i`` are ``TRACES_PER_JOB`` in a row from ``i * TRACES_PER_JOB``:
one per counter, one per target line, then one per counter of the earlier runs.
The layout's annotations are the panel titles, then two target labels per panel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._figure import figure_widget
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
    SPACING,
    TITLE_FONT_PX,
    label_fits,
    label_spot,
    y_range,
)
from ._job_runs import DEADLINE, DELETED, SUSPENDED, JobRun, Sample
from ._palette import AXIS, COUNTERS, INK, OKABE_ITO, OUTCOMES, chart_layout

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
#: Opacity of the band over a suspended stretch.
SUSPENDED_OPACITY = 0.18
#: Where a target line ends (seconds): past any panel's right end, so the line runs to
#: the panel's edge whatever "now" is, and a tick changes only the axis' range.
TARGET_END = 1e6
#: Pixels the x axis' range reaches past the data at each end (half a marker and a bit).
X_PAD_PX = MARKER_PX // 2 + 2
#: A vertical line's top, for the label placement: above every level.
WALL_TOP = 1 << 30


def build_figure(jobs: list[str]) -> Any:
    """Return the empty FigureWidget of JobProgress for ``jobs``, one panel each."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    cols = len(jobs)
    base = make_subplots(rows=1, cols=cols, subplot_titles=jobs, horizontal_spacing=SPACING)
    for col, _job in enumerate(jobs, 1):
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
    for col, _job in enumerate(jobs, 1):
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
    # The x range is set by _render (0 to the panel's end): a running Job's "now" moves
    # it, a relayout plotly draws far faster than a change of data.
    base.update_xaxes(AXIS, title_text="seconds", autorange=False, range=[0, MIN_SPAN])
    # Whole pods on the y axis; until the first render, room for one pod and no labels.
    base.update_yaxes(AXIS, range=y_range(1, 0), dtick=1)
    base.update_yaxes(title_text="pods", row=1, col=1)
    return figure_widget(base)


def panel_shapes(
    i: int, runs: list[JobRun], t0: float, right: float, in_legend: set[str]
) -> list[dict[str, Any]]:
    """Return panel ``i``'s shapes: a band over each suspended stretch, a line at a deletion.

    And a dashed line at the current run's deadline (``activeDeadlineSeconds`` after
    ``startTime``, as the Job controller counts) once the axis reaches it.

    Each kind gets one legend entry, from the first shape of it drawn (``in_legend``
    holds the kinds already there, and gets this panel's).
    """
    suffix = "" if i == 0 else str(i + 1)
    axes = {"xref": f"x{suffix}", "yref": f"y{suffix} domain", "y0": 0, "y1": 1}
    shapes: list[dict[str, Any]] = []
    for run in runs:
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
            shapes.append({**axes, "type": "line", "name": DELETED, "x0": x, "x1": x, "line": line})
    deadline = runs[-1].deadline if runs else None
    if deadline is not None and deadline - t0 <= right:
        x = deadline - t0
        line = {"color": OUTCOMES["Failed"].color, "dash": "dash", "width": TARGET_LINE_PX}
        shapes.append({**axes, "type": "line", "name": DEADLINE, "x0": x, "x1": x, "line": line})
    for shape in shapes:
        shape["legendgroup"] = shape["name"]
        shape["showlegend"] = shape["name"] not in in_legend
        in_legend.add(shape["name"])
    return shapes


def _limit_labels(figure: Any, panels: int, i: int) -> tuple[Any, Any]:
    """Return the completions and parallelism label annotations of panel ``i``."""
    first = panels + len(TARGETS) * i
    annotations = figure.layout.annotations
    return annotations[first], annotations[first + 1]


def place_labels(
    figure: Any,
    panels: int,
    i: int,
    levels: list[int | None],
    runs: list[list[Sample]],
    t0: float,
    right: float,
    seconds_per_px: float,
    walls: Sequence[float] = (),
) -> float:
    """Label panel ``i``'s target lines just above them; return the pixels they need there.

    ``panels`` is the number of panels (their titles come first in the annotations);
    ``walls`` are the x of the panel's vertical lines (a deletion, a deadline), which
    cross every level, so no label sits on them either.
    """
    completions, parallelism = levels
    texts = [f"completions = {completions}", f"parallelism = {parallelism}"]
    if completions is not None and completions == parallelism:
        # One label, two lines, for the one line both targets draw.
        texts, levels = [f"{texts[0]}<br>{texts[1]}", ""], [completions, None]
    room = 0.0
    for label, text, level in zip(_limit_labels(figure, panels, i), texts, levels, strict=True):
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
        steps += [[(x, -1), (x, WALL_TOP)] for x in walls]
        if not label_fits(steps, level, right, width):
            # No stretch of the line is free for it (a narrow panel): the panel title
            # and the legend say the value; a label on the data would hide it.
            label.visible = False
            continue
        x, anchor = label_spot(steps, level, right, width)
        axis = "x" if i == 0 else f"x{i + 1}"
        if anchor == "right":
            # At the line's right end, which is the panel's (less the pad) whatever "now"
            # is: in the panel's own coordinates, so a tick need not move it.
            where = {"xref": f"{axis} domain", "x": 1.0, "xshift": -X_PAD_PX}
        else:
            where = {"xref": axis, "x": x, "xshift": 0}
        label.update(visible=True, y=level, xanchor=anchor, text=text, **where)
        room = max(room, LABEL_LIFT + LINE_PX * len(lines) + LABEL_PAD)
    return room
