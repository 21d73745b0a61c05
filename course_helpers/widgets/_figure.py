"""Live plotly charts that take their output area's width.

plotly's ``FigureWidget`` (an anywidget since plotly 6) draws its chart as soon
as its view renders, before JupyterLab has put the view in the page: plotly
then finds no width and falls back to its default 700 pixels, and nothing
redraws the chart once the view is in place (plotly.py issue 5208; the
resize handling of plotly 5's widget is gone). In a notebook at 1024 pixels
(a projector's) the output area is about 590 pixels wide, so the right of
every live chart was cut off.

:func:`figure_widget` returns a ``FigureWidget`` whose front end is plotly's
own, with two changes:

- a ``ResizeObserver`` on the chart's element (and an ``IntersectionObserver``,
  for a chart drawn while its cell was out of view) redraws the chart at the
  element's width whenever that differs from the width drawn (plotly's own
  ``autosizeFigure``, which leaves a figure with an explicit ``layout.width``
  alone). So a chart fits its output area at 1024 pixels and fills a wide
  screen's, and follows the window when it is resized;
- after each update the front end no longer sends the kernel the "deltas"
  (every trace's and the layout's defaults as plotly.js computed them): that
  deep comparison of the whole figure, a message as large, and the kernel's
  processing of it came with every redraw of a live chart (once a second for
  a running Job), and kept the page and the kernel busy when the next change
  arrived (benchmarks/browser_latency.py). The course's widgets never read
  those defaults: reading a property they did not set gives None, as it does
  outside a notebook, and ``on_edits_completed`` callbacks never run.
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: plotly's widget bundle ends by exporting its view class under this public name.
_EXPORTS = re.compile(r"export\s*\{[^}]*?\b([\w$]+) as FigureView\b[^}]*\}\s*;?")

#: Appended to plotly's bundle (so ``View`` is its FigureView class): after the first
#: draw, and whenever the element's width changes, redraw at the element's width; and
#: send no deltas back after an update.
_FRONT_END_JS = """
;(() => {
  const View = %(view)s;
  const render = View.prototype.perform_render;
  const remove = View.prototype.remove;
  View.prototype.perform_render = function () {
    render.call(this);
    const view = this;
    const fit = () => {
      const el = view.el;
      const drawn = el._fullLayout && el._fullLayout.width;
      const width = el.clientWidth;
      // 0: not in the page (a cell scrolled out of a windowed notebook); try again later.
      if (!drawn || width === 0 || Math.abs(drawn - width) < 1) return;
      // A relayout of the height (a chart that grows with its rows) makes plotly pin
      // the width it had then (700 if that was before the chart was in the page), and
      // a pinned width is never resized: unpin it unless the kernel's layout sets one.
      const own = (view.model.get("_widget_layout") || {}).width;
      if (el.layout && el.layout.width && !own) delete el.layout.width;
      view.autosizeFigure();
    };
    view.courseFit = fit;
    view.courseObserver = new ResizeObserver(fit);
    view.courseObserver.observe(view.el);
    // A chart drawn while its cell was out of view (JupyterLab skips laying out such
    // cells) keeps its size when the cell comes back: fit it when it comes into view.
    view.courseSeen = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) fit();
    });
    view.courseSeen.observe(view.el);
    view.courseAfterRender = (event) => {
      if (event.detail && event.detail.element === view.el) fit();
    };
    document.addEventListener("plotlywidget-after-render", view.courseAfterRender);
  };
  // No deltas back to the kernel after each update (see the module's docstring).
  View.prototype._sendTraceDeltas = function () {};
  View.prototype._sendLayoutDelta = function () {};
  View.prototype.remove = function () {
    if (this.courseObserver) this.courseObserver.disconnect();
    if (this.courseSeen) this.courseSeen.disconnect();
    if (this.courseAfterRender) {
      document.removeEventListener("plotlywidget-after-render", this.courseAfterRender);
    }
    return remove.call(this);
  };
})();
"""


def plotly_bundle() -> Path:
    """Return the path of plotly's widget front end (an ES module)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"


def fit_width_esm(bundle: str) -> str | None:
    """Return plotly's widget module ``bundle`` with the fit-to-width addition, or None.

    None when the bundle does not export ``FigureView`` as expected (a plotly
    whose front end changed): the caller then keeps plotly's own.

    Example:
        >>> esm = fit_width_esm("class A{}; export{A as FigureView,f as default};")
        >>> "ResizeObserver" in esm and "const View = A;" in esm
        True
    """
    found = list(_EXPORTS.finditer(bundle))
    if not found:
        return None
    # The last export statement is the module's own (minified code may hold others).
    return bundle + _FRONT_END_JS % {"view": found[-1].group(1)}


@functools.cache
def _widget_class() -> type[Any]:
    import plotly.graph_objects as go

    esm = fit_width_esm(plotly_bundle().read_text(encoding="utf-8"))
    if esm is None:
        log.warning(
            "plotly's widget front end has changed: live charts keep plotly's 700-pixel "
            "default width until the window is resized"
        )
        stock: type[Any] = go.FigureWidget
        return stock

    class FitWidthFigureWidget(go.FigureWidget):  # type: ignore[misc]
        """plotly's FigureWidget, drawn at its output area's width."""

        _esm = esm

    return FitWidthFigureWidget


def figure_widget(*args: Any, **kwargs: Any) -> Any:
    """Return a plotly ``FigureWidget`` (same arguments) that takes its output area's width.

    Give the layout no ``width`` (a fixed width is kept as it is); the height
    is the layout's.

    Example:
        >>> import plotly.graph_objects as go
        >>> chart = figure_widget(go.Figure(layout={"height": 300}))
        >>> isinstance(chart, go.FigureWidget)
        True
    """
    return _widget_class()(*args, **kwargs)
