"""A static copy of a widget, for GitHub, nbviewer and slides, where no kernel runs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._palette import FONT, INK, escape

if TYPE_CHECKING:
    import plotly.graph_objects as go


@dataclass
class Snapshot:
    """A static copy of what a widget shows, for renderers without a live kernel.

    Attributes:
        title: one line saying what this is.
        html: an HTML rendering (cards or a table) that needs no JavaScript.
        frame: the data shown, as :meth:`LiveWidget.to_frame` returns it.
        figure: a static plotly figure, when the widget draws a chart.

    """

    title: str
    html: str
    frame: pd.DataFrame
    figure: go.Figure | None = field(default=None, repr=False)

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/plain": self.title, "text/html": self.to_html()}
        if self.figure is not None:
            bundle["application/vnd.plotly.v1+json"] = json.loads(self.figure.to_json())
        return bundle

    def to_html(self) -> str:
        """Return the title and the HTML rendering as one fragment."""
        return (
            f'<div style="font-family:{FONT}"><div style="color:{INK};font-size:12px">'
            f"{escape(self.title)}</div>{self.html}</div>"
        )
