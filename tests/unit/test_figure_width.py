"""Live charts: plotly's widget front end, drawn at the output area's width, sending no deltas."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import plotly.graph_objects as go
import pytest
from fakes import DATA

from course_helpers.widgets import CronJobTimeline, JobProgress, NodeRequests, StatefulSetOrder
from course_helpers.widgets._figure import figure_widget, fit_width_esm, plotly_bundle

#: A stand-in for plotly's bundle: a view class exported as FigureView, as plotly's is.
FAKE_BUNDLE = """
class V {
  constructor(el) { this.el = el; }
  perform_render() { globalThis.calls.push("render"); }
  autosizeFigure() { globalThis.calls.push(`autosize ${this.el.clientWidth}`); }
  remove() { globalThis.calls.push("remove"); }
  _sendTraceDeltas() { globalThis.calls.push("trace deltas"); }
  _sendLayoutDelta() { globalThis.calls.push("layout delta"); }
}
export { V as FigureView };
"""

#: Drives the patched module in node with a fake ResizeObserver and document.
DRIVER = """
const observers = [];
globalThis.calls = [];
globalThis.ResizeObserver = class {
  constructor(fn) { this.fn = fn; observers.push(this); }
  observe(el) { this.el = el; }
  disconnect() { calls.push("disconnect"); }
};
const seen = [];
globalThis.IntersectionObserver = class {
  constructor(fn) { this.fn = fn; seen.push(this); }
  observe(el) { this.el = el; }
  disconnect() { calls.push("unsee"); }
};
const listeners = {};
globalThis.document = {
  addEventListener: (name, fn) => { listeners[name] = fn; },
  removeEventListener: (name) => { delete listeners[name]; calls.push(`unlisten ${name}`); },
};
const { FigureView } = await import(process.argv[2]);
const el = { clientWidth: 0, _fullLayout: { width: 700 }, layout: { width: 700, height: 240 } };
const view = new FigureView(el);
view.model = { get: () => ({ height: 240 }) };  // the kernel's layout: no width
view.perform_render();
observers[0].fn();                    // not in the page yet: width 0, nothing to do
el.clientWidth = 592;                 // put in a 592-pixel output area
listeners["plotlywidget-after-render"]({ detail: { element: el } });
calls.push(`pinned ${el.layout.width}`); // plotly's pinned width (a height relayout) is gone
el._fullLayout.width = 592;           // plotly redrew at 592
observers[0].fn();                    // same width: nothing to do
el.clientWidth = 1200;                // the window grew
observers[0].fn();
el._fullLayout.width = 1200;
el._fullLayout.width = 700;           // drawn while out of view, at plotly's default
seen[0].fn([{ isIntersecting: false }]);
seen[0].fn([{ isIntersecting: true }]); // scrolled into view: fit
view._sendTraceDeltas(1);             // after an update: nothing goes back to the kernel
view._sendLayoutDelta(1);
view.remove();
console.log(JSON.stringify(calls));
"""


def test_the_installed_plotly_bundle_takes_the_addition() -> None:
    bundle = plotly_bundle().read_text(encoding="utf-8")
    esm = fit_width_esm(bundle)
    assert esm is not None, "plotly's widget bundle no longer exports FigureView as expected"
    assert esm.startswith(bundle) and "new ResizeObserver(fit)" in esm


def test_a_bundle_without_the_export_is_refused() -> None:
    assert fit_width_esm("class V {}; export { V as Figure };") is None


@pytest.mark.skipif(shutil.which("node") is None, reason="node is needed to run the front end")
def test_the_chart_is_redrawn_at_its_elements_width_whenever_that_changes(tmp_path: Path) -> None:
    esm = fit_width_esm(FAKE_BUNDLE)
    assert esm is not None
    (tmp_path / "bundle.mjs").write_text(esm)
    (tmp_path / "driver.mjs").write_text(DRIVER)
    out = subprocess.run(
        ["node", str(tmp_path / "driver.mjs"), str(tmp_path / "bundle.mjs")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    calls = json.loads(out.stdout)
    assert calls == [
        "render",
        "autosize 592",
        "pinned undefined",
        "autosize 1200",
        "autosize 1200",
        "disconnect",
        "unsee",
        "unlisten plotlywidget-after-render",
        "remove",
    ]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is needed to parse the module")
def test_the_patched_plotly_bundle_is_a_valid_module(tmp_path: Path) -> None:
    esm = fit_width_esm(plotly_bundle().read_text(encoding="utf-8"))
    assert esm is not None
    (tmp_path / "bundle.mjs").write_text(esm)
    subprocess.run(["node", "--check", str(tmp_path / "bundle.mjs")], check=True, timeout=120)


def test_no_widget_builds_a_plain_figure_widget() -> None:
    """A new chart widget must take its output area's width too (see _figure)."""
    widgets_dir = Path(figure_widget.__code__.co_filename).parent
    plain = [
        f"{path.name}:{n}"
        for path in sorted(widgets_dir.glob("*.py"))
        if path.name != "_figure.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if "FigureWidget(" in line
    ]
    assert plain == [], f"use figure_widget(...) instead of go.FigureWidget(...): {plain}"


def test_every_live_chart_is_such_a_figure_with_no_fixed_width() -> None:
    charts = [
        NodeRequests("course-daemonsets", source=[]).figure,
        JobProgress("render-frames", "course-jobs", source=DATA / "jobs.jsonl").figure,
        StatefulSetOrder("web", "course-statefulsets", source=[]).figure,
        CronJobTimeline("backup", "course-cron", source=[], cluster_zone="UTC").figure,
        figure_widget(go.Figure(layout={"height": 300})),
    ]
    for chart in charts:
        assert isinstance(chart, go.FigureWidget)
        assert "new ResizeObserver(fit)" in chart._esm, type(chart)
        assert chart.layout.width is None, "a fixed width would not follow the output area"
