"""Every widget follows JupyterLab's theme: chart text and HTML parts in its colours."""

from __future__ import annotations

import re

from fakes import DATA

from course_helpers.widgets import CronJobTimeline, EventFeed, JobProgress, PodsPerNode
from course_helpers.widgets._palette import THEME_CSS, VIEW_CLASS


def test_every_widget_carries_the_theme_css_and_its_class() -> None:
    widgets = [
        PodsPerNode("course-daemonsets", source=DATA / "daemonset.jsonl"),
        EventFeed("course-statefulsets", source=DATA / "events.jsonl"),
        JobProgress("render-frames", "course-jobs", source=DATA / "jobs.jsonl"),
        CronJobTimeline("report", "course-cronjobs", source=DATA / "cronjob.jsonl"),
    ]
    for widget in widgets:
        assert VIEW_CLASS in widget.view._dom_classes
        assert widget.status.value.startswith(THEME_CSS)
        assert "var(--jp-ui-font-color1" in widget.status.value


def test_the_theme_css_paints_chart_text_with_jupyterlab_variables() -> None:
    rules = re.findall(r"([^{}]+)\{([^}]*)\}", THEME_CSS.removeprefix("<style>"))
    selectors = " ".join(s for s, _ in rules)
    for part in ("gtitle", "xtick text", "ytick text", "infolayer text", "annotation-text"):
        assert part in selectors, part
    assert "hoverlayer" not in selectors, "hover labels keep plotly's contrast"
    assert all("var(--jp-ui-font-color" in body and "!important" in body for _, body in rules)


def test_html_parts_use_theme_variables_not_fixed_greys() -> None:
    board = PodsPerNode("course-daemonsets", source=DATA / "daemonset.jsonl").board.value
    assert "#808080" not in board
    assert "var(--jp-ui-font-color2" in board
