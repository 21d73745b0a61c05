"""Every notebook, 00 to 05, run in JupyterLab as a learner runs it, on a projector.

Each runs in headless Chromium at 1024 x 768 (02 and 03 in JupyterLab's dark
theme), with Run > Run All Cells and a fresh kernel. Asserted from the DOM at
the end: it ran cleanly; every live chart is as wide as its output area (plotly's
widget alone drew 700 pixels into about 590); nothing runs past its output area,
no chart title, legend or annotation past its chart, no table header wraps, and
no text is as dark as its background or as light (layout_check.mjs, whose checks
test_layout_check.py proves can fail); no cell that only waits leaves an ``Out:``
value; and the facts each view exists to show (the CronJob timeline after the
CronJob's deletion, both runs of the re-created Job, ...). While a cell awaits,
a view above it must draw something new (the views stay live), and its
screenshot is kept (``test-artifacts/e2e/nb-NN/04-during-*.png``).

About 17 minutes on 2 shared CPUs (00 ~70 s, 01 ~180 s, 02 ~260 s, 03 ~285 s,
04 ~180 s, 05 ~30 s, each with JupyterLab's start and the screenshots), most of
it the notebooks' own waits (01: the pod garbage collector, 03: minute boundaries).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from e2e_support import REPO, Lab, assert_ran_cleanly, describe, run_notebook

pytestmark = pytest.mark.e2e

PROJECTOR = (1024, 768)
NOTEBOOKS = sorted(p.name for p in (REPO / "notebooks").glob("0[0-5]-*.ipynb"))
DARK = ("02-", "03-")
#: What a cell that only waits may not leave behind as its value ...
WAITS = re.compile(r"\b(until|job_finished|pods_ready|wait_for|rollout_status)\(")
#: ... unless it is what kubectl itself prints (the awaited kubectl-shaped waits' value).
#: A delete wait that found nothing left says so (kubectl prints nothing there).
KUBECTL_SAID = re.compile(
    r"condition met|successfully rolled out|deleted|partitioned roll out|rolling update complete"
    r"|\(none to wait for\)$"
)


def _plots(result: dict[str, Any], cell: int | None = None) -> list[dict[str, Any]]:
    return [p for p in result["plots"] if cell is None or p["cell"] == cell]


def _cell(result: dict[str, Any], text: str) -> dict[str, Any]:
    found = [c for c in result["codeCells"] if text in c["source"]]
    assert found, f"no cell with {text!r}\n{describe(result)}"
    return found[0]


def _titles(result: dict[str, Any], text: str) -> str:
    cell = _cell(result, text)["index"]
    return " | ".join(p["title"] for p in _plots(result, cell))


def _text(result: dict[str, Any], text: str) -> str:
    return " ".join(o["text"] for o in _cell(result, text)["outputs"])


def _legend(result: dict[str, Any], text: str) -> list[str]:
    cell = _cell(result, text)["index"]
    return [item for p in _plots(result, cell) for item in p["legend"]]


def check_01(result: dict[str, Any]) -> None:
    events = _text(result, "ch.EventFeed(")
    assert "SuccessfulCreate" in events, events[:500]
    assert "SuccessfulDelete" in events, f"the feed promised SuccessfulDelete: {events[:800]}"
    # The rollout view: each pod's revision, and which revision is the updated one.
    rollout = _text(result, "rollout_view = ch.PodsPerNode(")
    assert re.search(r"rev \d+ \(updated\)", rollout), rollout[:400]
    # What a DaemonSet costs every node: the pod that does not fit the small node.
    cost = _text(result, "cost_view = ch.NodeRequests(")
    assert "does not fit" in cost and "worker-small" in cost, cost[:400]
    assert "of 1Gi" in cost, f"the small node's amounts under its name: {cost[:600]}"
    assert "CPU requested" in _titles(result, "cost_view = ch.NodeRequests(")


def check_02(result: dict[str, Any]) -> None:
    titles = _titles(result, "frames = ch.JobProgress(")
    assert "run 1:" in titles and "run 2:" in titles, f"both runs of the re-created Job: {titles}"
    cell = _cell(result, "frames = ch.JobProgress(")["index"]
    legend = [p["legend"] for p in _plots(result, cell)]
    assert any("completions (target)" in items for items in legend), legend
    assert any("earlier run" in items for items in legend), legend
    # The modern Job API: why each Job ended, read from the Job, and its index table.
    for view, reason in (
        ('ch.JobProgress("import-shards"', "PodFailurePolicy"),
        ('ch.JobProgress("transcode"', "FailedIndexes"),
        ('ch.JobProgress("leader-workers"', "SuccessPolicy"),
        ('ch.JobProgress("slow-report"', "DeadlineExceeded"),
    ):
        assert reason in _titles(result, view), f"{view}: {_titles(result, view)}"
    assert "one row per completion index" in _text(result, 'ch.JobProgress("transcode"')
    # Deadline, TTL and suspend: the line, the deletion mark and the band, in the legend.
    assert "deadline" in _legend(result, 'ch.JobProgress("slow-report"')
    assert "⊖ deleted" in _legend(result, 'ch.JobProgress("send-reminders"')
    assert "suspended" in _legend(result, 'ch.JobProgress("nightly-batch"')


def check_03(result: dict[str, Any]) -> None:
    backup = _titles(result, 'ch.CronJobTimeline("backup"')
    assert "not seen yet" not in backup, backup
    assert "deleted at" in backup and "schedule" in backup, backup
    snapshot = _text(result, "backup_timeline.snapshot()")
    assert "deleted at" in snapshot and "Complete" in snapshot, snapshot[:600]
    # concurrencyPolicy in one timeline: Forbid's held-back tick starts late, Replace
    # removes the running Job.
    policies = _legend(result, "policies = ch.CronJobTimeline([")
    assert "waited (started late)" in policies and "Removed" in policies, policies
    assert "Asia/Kathmandu (spec.timeZone)" in _titles(
        result, 'ch.CronJobTimeline("morning-report"'
    )


def check_04(result: dict[str, Any]) -> None:
    assert any("StatefulSet" in p["title"] or p["traces"] for p in _plots(result)), result["plots"]
    # podManagementPolicy side by side; minReadySeconds' "ready, not yet available".
    both = _titles(result, 'both = ch.StatefulSetOrder(["ordered", "parallel"]')
    assert "OrderedReady" in both and "Parallel" in both, both
    assert "ready, not yet available" in _legend(result, 'careful = ch.StatefulSetOrder("careful"')
    # The virtual IP beside the headless Service; each pod's revision history.
    services = _text(result, "services = ch.ServiceEndpoints(")
    assert "(virtual IP)" in services and "None (headless)" in services, services[:300]
    revisions = _text(result, 'revs = ch.StatefulSetRevisions("web"')
    assert "history (oldest first)" in revisions and "rev 2" in revisions, revisions[:300]


CHECKS = {"01-": check_01, "02-": check_02, "03-": check_03, "04-": check_04}


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_runs_and_its_views_tell_the_story(
    lab: Lab, e2e_tools: Path, notebook: str
) -> None:
    path = f"notebooks/{notebook}"
    source = json.loads((REPO / path).read_text())
    awaits = any(
        "await " in "".join(c["source"]) for c in source["cells"] if c["cell_type"] == "code"
    )
    theme = "dark" if notebook.startswith(DARK) else None
    try:
        result = run_notebook(
            lab,
            e2e_tools,
            lab.url(path, workspace=f"e2e-{notebook[:2]}"),
            f"nb-{notebook[:2]}",
            timeout=420,
            during="await " if awaits else None,
            viewport=PROJECTOR,
            theme=theme,
        )
    finally:
        lab.shutdown_sessions()
    info = describe(result)
    assert result["notebookPath"] == path, info
    assert_ran_cleanly(result)

    layout = result["layout"]
    assert layout["checkedBoxes"] > 0, layout
    if result["widgetViews"] or layout["charts"]:
        assert layout["checkedColours"] > 0, layout
    assert layout["clipped"] == [], f"chart text past its chart's edge: {layout['clipped']}"
    assert layout["unfit"] == [], f"charts not at their output area's width: {layout['unfit']}"
    assert layout["overflow"] == [], f"past the output area's edge: {layout['overflow']}"
    assert layout["wrapped"] == [], f"table headers that wrap: {layout['wrapped']}"
    # Text as dark as its background, or as light (e.g. chart text in the light theme's
    # colour on the dark theme): the check is proven to fail in test_layout_check.py.
    assert layout["lowContrast"] == [], f"text too close to its background: {layout['lowContrast']}"
    live = [c for c in layout["charts"] if c["live"]]
    assert all(abs(c["width"] - c["area"]) <= 2 for c in live), f"live charts: {live}"
    if theme == "dark":
        assert layout["theme"] == "JupyterLab Dark", layout

    stray = [
        f"cell {c['index']}: {o['text'][:80]!r}"
        for c in result["codeCells"]
        if WAITS.search(c["source"]) and "display(" not in c["source"]
        for o in c["outputs"]
        if o.get("result") and not KUBECTL_SAID.search(o["text"])
    ]
    assert stray == [], f"cells that only wait show a value: {stray}"

    if awaits:
        seen = [w for w in result["during"] if w["changed"]]
        assert seen, f"no view drew anything new while a cell awaited: {result['during']}"
        shots = [s for w in seen for s in w["screenshots"]]
        assert shots and all(Path(s["path"]).exists() for s in shots), seen
        # Each screenshot shows the view that changed, at the top, not a cell near it.
        assert all(s["inView"] for s in shots), f"screenshots off their view: {shots}"

    check = CHECKS.get(notebook[:3])
    if check is not None:
        check(result)
