"""A live view drawn as one HTML table under its status line.

EventFeed, StatefulSetRevisions and ServiceEndpoints draw ``self.table``;
this class builds it and keeps it in the same sync batch as the status line.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from ._base import LiveWidget


class HtmlTableView(LiveWidget):
    """A :class:`LiveWidget` whose whole drawing is the HTML in ``self.table``."""

    table: widgets.HTML

    def _build(self) -> list[widgets.Widget]:
        self.table = widgets.HTML(layout=widgets.Layout(width="100%"))
        return [self.table]

    def _sync_targets(self) -> list[Any]:
        return [self.status, self.table]
