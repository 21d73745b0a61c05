"""Colours, symbols and chart styling shared by every widget.

Colours are the Okabe-Ito palette, which stays distinguishable with the
common colour-vision deficiencies; every state also gets a text label and a
symbol (or marker shape / dash pattern), so colour is never the only cue.

Charts have transparent backgrounds and grid lines of translucent grey, which
read on JupyterLab's light and dark themes alike. Their text follows the theme:
plotly cannot take CSS variables, so :data:`THEME_CSS` (a ``<style>`` every
widget carries in its status line) paints the chart text of widgets in the
``course-view`` class with ``--jp-ui-font-color0``/``1``; where no JupyterLab
is (nbviewer, exported HTML) the charts keep their mid-grey :data:`INK`.
HTML parts use JupyterLab's CSS variables with light-theme fallbacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
}


@dataclass(frozen=True)
class Style:
    """How one state is drawn: colour, text colour on it, a symbol and a plotly marker."""

    label: str
    color: str
    text_color: str
    symbol: str
    marker: str
    dash: str = "solid"
    border: str = "solid"
    pattern: str = ""


PHASES: dict[str, Style] = {
    "Pending": Style("Pending", OKABE_ITO["orange"], "#000", "◌", "circle-open", "dot", "dashed"),
    "Running": Style("Running", OKABE_ITO["blue"], "#fff", "▶", "triangle-right", "solid"),
    "Succeeded": Style("Succeeded", OKABE_ITO["bluish_green"], "#000", "✓", "circle", "solid"),
    "Failed": Style("Failed", OKABE_ITO["vermillion"], "#000", "✗", "x", "solid"),
    "Terminating": Style(
        "Terminating", OKABE_ITO["grey"], "#000", "⊘", "square-open", "dashdot", "dotted"
    ),
    "Unknown": Style("Unknown", OKABE_ITO["reddish_purple"], "#000", "?", "diamond-open", "dash"),
}

#: Job and CronJob run outcomes.
OUTCOMES: dict[str, Style] = {
    "Running": PHASES["Running"],
    "Complete": Style("Complete", OKABE_ITO["bluish_green"], "#000", "✓", "circle", "solid"),
    "Failed": PHASES["Failed"],
    "Removed": Style("Removed", OKABE_ITO["grey"], "#000", "⊖", "circle-open", "dot", "dotted"),
}

#: Job counters in JobProgress.
COUNTERS: dict[str, Style] = {
    "active": Style("active", OKABE_ITO["blue"], "#fff", "▶", "triangle-right", "solid"),
    "succeeded": Style("succeeded", OKABE_ITO["bluish_green"], "#000", "✓", "circle", "dash"),
    "failed": Style("failed", OKABE_ITO["vermillion"], "#000", "✗", "x", "dot"),
}

#: StatefulSet pod lifecycle stages in StatefulSetOrder (bars differ by fill pattern too).
STAGES: dict[str, Style] = {
    "pending": Style(
        "created → scheduled", OKABE_ITO["orange"], "#000", "◌", "circle-open", "dot", pattern="."
    ),
    "starting": Style(
        "scheduled → ready", OKABE_ITO["sky_blue"], "#000", "◐", "triangle-right", pattern="/"
    ),
    "unavailable": Style(
        "ready, not yet available", OKABE_ITO["blue"], "#fff", "◑", "circle-open", pattern="+"
    ),
    "ready": Style("ready", OKABE_ITO["blue"], "#fff", "●", "circle", "solid"),
    "terminating": Style(
        "terminating", OKABE_ITO["grey"], "#000", "⊘", "square-open", "dashdot", pattern="x"
    ),
}

INK = "#808080"
GRID = "rgba(128, 128, 128, 0.25)"
FONT = "var(--jp-ui-font-family, system-ui, sans-serif)"
#: Secondary text in HTML parts: the theme's, mid-grey without JupyterLab.
INK_CSS = "var(--jp-ui-font-color2, #6e6e6e)"
#: Main text in HTML parts.
TEXT_CSS = "var(--jp-ui-font-color1, inherit)"
#: The class of every widget's outer box, which THEME_CSS addresses.
VIEW_CLASS = "course-view"
#: Where THEME_CSS applies: the widgets, and the static figures of their snapshots
#: (drawn by JupyterLab's plotly renderer, class jp-RenderedPlotly, outside any widget).
_CHARTS = (f".{VIEW_CLASS} .main-svg", ".jp-RenderedPlotly .main-svg")
_TEXT = ("infolayer text", "xtick text", "ytick text", "annotation-text")
_HEAD = ("gtitle", "annotation-text b")
#: Chart text in the theme's colours (light text on JupyterLab's dark theme): titles,
#: legends, axis ticks and titles, annotations; hover labels keep plotly's own colours.
THEME_CSS = (
    "<style>"
    + ",".join(f"{c} .{t}" for c in _CHARTS for t in _TEXT)
    + "{fill:var(--jp-ui-font-color1,#444)!important}"
    + ",".join(f"{c} .{t}" for c in _CHARTS for t in _HEAD)
    + "{fill:var(--jp-ui-font-color0,#222)!important}"
    "</style>"
)


def phase_style(phase: str) -> Style:
    """Return the style for a pod phase (Unknown's for anything unexpected)."""
    return PHASES.get(phase, PHASES["Unknown"])


#: Axis settings every chart shares. ``ticklabeloverflow="allow"``: the margins leave
#: the tick labels room, and plotly's default ("hide past div") measured every label
#: at every redraw, a quarter of a live chart's redraw time in JupyterLab
#: (benchmarks/browser_latency.py, profiled).
AXIS = {
    "gridcolor": GRID,
    "zerolinecolor": GRID,
    "linecolor": INK,
    "color": INK,
    "ticklabeloverflow": "allow",
}


def chart_layout(**extra: Any) -> dict[str, Any]:
    """Return plotly layout settings readable on light and dark backgrounds."""
    axis = dict(AXIS)
    layout: dict[str, Any] = {
        "template": "none",
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": INK, "family": "system-ui, sans-serif", "size": 13},
        "xaxis": dict(axis),
        "yaxis": dict(axis),
        "margin": {"l": 60, "r": 20, "t": 50, "b": 45},
        "title": {"x": 0.01, "xanchor": "left", "font": {"size": 14}},
        "legend": {"orientation": "v", "x": 1.01, "y": 1, "bgcolor": "rgba(0,0,0,0)"},
        "hoverlabel": {"namelength": -1},
    }
    layout.update(extra)
    return layout


def chip(text: str, style: Style, title: str = "") -> str:
    """Return an inline HTML chip: symbol, text, colour and border style all say the state."""
    edge = style.color if style.border == "solid" else "#000"
    return (
        f'<span title="{escape(title or style.label)}" style="display:inline-block;'
        f"background:{style.color};color:{style.text_color};border:2px {style.border} "
        f'{edge};border-radius:4px;padding:1px 6px;margin:2px 0;white-space:nowrap">'
        f"{style.symbol} {escape(text)}</span>"
    )


def marked(html: str, colour: str, *, bold: bool = False) -> str:
    """Return ``html`` in the theme's text colour, underlined in ``colour``.

    The palette's colours are for fills, borders and chart marks: as text, orange,
    sky blue, yellow and grey fall under 3:1 on a white page (orange 2.25:1), and
    blue under it on a dark one. Text that a state colours (a tile's ``◌ 1``, a
    revision's ``r4``, ``✓ Ready``) keeps the theme's colour, so it reads on both,
    and takes the state's colour as a thick underline; its symbol says the state too.
    """
    tag = "b" if bold else "span"
    return (
        f'<{tag} style="color:{TEXT_CSS};border-bottom:3px solid {colour};'
        f'white-space:nowrap">{html}</{tag}>'
    )


def escape(text: object) -> str:
    """HTML-escape ``text``."""
    from html import escape as _escape

    return _escape(str(text), quote=True)


CARD_CSS = (
    "border:1px solid var(--jp-border-color1, #c0c0c0);border-radius:6px;padding:6px 8px;"
    "background:var(--jp-layout-color1, transparent);color:var(--jp-ui-font-color1, inherit);"
    f"font-family:{FONT};font-size:13px;min-width:150px;vertical-align:top"
)

TABLE_CSS = (
    f"border-collapse:collapse;font-family:{FONT};font-size:13px;"
    "color:var(--jp-ui-font-color1, inherit)"
)
CELL_CSS = (
    "border-bottom:1px solid var(--jp-border-color2, #e0e0e0);padding:2px 8px;text-align:left"
)
#: Header cells never wrap (a table at 1024 pixels keeps its column names on one line).
HEAD_CSS = f"{CELL_CSS};white-space:nowrap;color:var(--jp-ui-font-color0, inherit)"


#: A header cell that stays in view while its table scrolls (opaque, so rows pass under it).
STICKY_HEAD_CSS = "position:sticky;top:0;z-index:1;background:var(--jp-layout-color1, #fff)"


def html_table(
    rows: list[dict[str, Any]],
    columns: list[str],
    *,
    sticky_head: bool = False,
    wrap: frozenset[str] = frozenset(),
) -> str:
    """Return a theme-aware HTML table of ``rows``; :class:`Markup` cells are not escaped.

    With ``sticky_head`` the header row stays visible when the table scrolls
    inside a box (see :func:`scroll_box`). Header cells never wrap; body cells
    wrap only in the ``wrap`` columns (a message), so short values stay whole;
    there a long word breaks anywhere rather than widen the table.
    """
    th_css = f"{HEAD_CSS};{STICKY_HEAD_CSS}" if sticky_head else HEAD_CSS
    head = "".join(f'<th style="{th_css}">{escape(c)}</th>' for c in columns)
    # A wrapping column may break a long name (a DNS name, a path) anywhere, rather than
    # push the table past its output area.
    td_css = {
        c: CELL_CSS + (";overflow-wrap:anywhere" if c in wrap else ";white-space:nowrap")
        for c in columns
    }
    body = "".join(
        "<tr>"
        + "".join(f'<td style="{td_css[c]}">{_cell(row.get(c))}</td>' for c in columns)
        + "</tr>"
        for row in rows
    )
    return f'<table style="{TABLE_CSS}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


#: A box that shows about 24 lines of text and scrolls the rest (pure CSS, no JavaScript).
SCROLL_BOX_CSS = "max-height:24em;overflow-y:auto"


def scroll_box(html: str, label: str = "") -> str:
    """Return ``html`` in a box of limited height that scrolls, for long tables.

    Static renderers (nbviewer, exported HTML) honour it too; ``label`` becomes
    the box's accessible name.
    """
    aria = f' role="region" aria-label="{escape(label)}" tabindex="0"' if label else ""
    return f'<div class="course-scroll" style="{SCROLL_BOX_CSS}"{aria}>{html}</div>'


class Markup(str):
    """A string that is already HTML."""

    __slots__ = ()


def _cell(value: Any) -> str:
    if value is None or value != value:  # None or NaN
        return ""
    if isinstance(value, Markup):
        return str(value)
    if isinstance(value, float):
        return f"{value:.1f}"
    return escape(value)
