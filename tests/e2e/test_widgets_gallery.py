"""Every live widget renders in JupyterLab against the embedded cluster.

``widgets-gallery.ipynb`` applies a DaemonSet, two Jobs, a CronJob and a
StatefulSet in ``course-e2e-gallery`` and shows PodsPerNode, JobProgress,
CronJobTimeline, StatefulSetOrder and EventFeed; headless Chromium runs it
through JupyterLab's Run menu, on a wide screen, and reads what each cell shows
(the live charts fill their output area there; at a projector's 1024 pixels
test_every_notebook.py checks that they fit it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e_support import (
    Lab,
    assert_ran_cleanly,
    cluster_nodes,
    describe,
    reader_issues,
    run_notebook,
)

pytestmark = pytest.mark.e2e

GALLERY = "tests/e2e/widgets-gallery.ipynb"
WIDGETS = ("PodsPerNode", "JobProgress", "CronJobTimeline", "StatefulSetOrder", "EventFeed")
PLOTTED = ("JobProgress", "CronJobTimeline", "StatefulSetOrder")
#: A wide screen's viewport (test_every_notebook.py runs at a projector's 1024 x 768).
WIDE = (1920, 1080)


def _cell_of(result: dict[str, Any], widget: str) -> dict[str, Any]:
    found = [c for c in result["codeCells"] if c["firstLine"].strip() == f"# gallery: {widget}"]
    assert len(found) == 1, f"no single cell for {widget}\n{describe(result)}"
    return found[0]


def test_every_widget_renders_live(lab: Lab, e2e_tools: Path, e2e_env: dict[str, str]) -> None:
    try:
        result = run_notebook(
            lab,
            e2e_tools,
            lab.url(GALLERY, workspace="e2e-gallery"),
            "widgets-gallery",
            viewport=WIDE,
        )
    finally:
        lab.shutdown_sessions()
    info = describe(result)
    assert result["notebookPath"] == GALLERY, info
    assert_ran_cleanly(result)
    assert reader_issues(result) == [], info

    for widget in WIDGETS:
        cell = _cell_of(result, widget)
        views = sum(o["widgets"] for o in cell["outputs"])
        assert views > 0, f"{widget} shows no widget view\n{info}"
        text = " ".join(o["text"] for o in cell["outputs"])
        assert "● live" in text, f"{widget}'s status line does not say live: {text[:300]}\n{info}"

    for widget in PLOTTED:
        index = _cell_of(result, widget)["index"]
        plots = [p for p in result["plots"] if p["cell"] == index]
        assert plots, f"{widget} drew no plotly figure\n{info}"
        assert all(p["traces"] > 0 and p["width"] > 100 for p in plots), f"{widget}: {plots}"

    # On a wide screen the live charts fill their output area, as they fit it at 1024.
    layout = result["layout"]
    live = [c for c in layout["charts"] if c["live"]]
    assert len(live) >= len(PLOTTED), layout["charts"]
    assert all(abs(c["width"] - c["area"]) <= 2 and c["width"] > 1200 for c in live), live
    assert layout["unfit"] == [] and layout["overflow"] == [], layout
    assert layout["clipped"] == [] and layout["lowContrast"] == [], layout

    pods_cell = _cell_of(result, "PodsPerNode")["index"]
    cards = {n["node"]: n["chips"] for n in result["nodes"] if n["cell"] == pods_cell}
    nodes = cluster_nodes(e2e_env)
    assert sorted(cards) == sorted(nodes), f"node cards {sorted(cards)} != nodes {nodes}\n{info}"
    for node, chips in cards.items():
        assert any("node-monitor" in chip for chip in chips), (
            f"no DaemonSet chip on {node}: {chips}"
        )

    events = " ".join(o["text"] for o in _cell_of(result, "EventFeed")["outputs"])
    assert "SuccessfulCreate" in events, f"EventFeed shows no controller events\n{info}"
