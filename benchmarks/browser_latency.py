"""Latency a learner sees: from an API change to the widget's DOM in Chromium.

Starts JupyterLab (headless, on the running embedded cluster), opens a notebook
with a PodsPerNode and a JobProgress in Chromium at 1024 x 768, runs it, and
watches the page's DOM with a MutationObserver (``browser_latency.mjs``). Then,
from this process, beside a bare ``Watcher`` of the same kinds:

- cordons and uncordons a node, one change every ``--interval`` seconds: the
  API change is the patch we send, so both the watch's latency (patch -> event
  here) and the DOM's (patch -> the card or tile says "cordoned") are measured;
- creates pods that kwok makes Ready, and a Job whose succeeded count climbs:
  those changes are made by kwok and the Job controller, so the DOM is timed
  from the moment the same change reached the bare watcher here.

Prints median and p95 of each. With ``--nodes N`` the cluster is scaled to N
nodes first (``ch.scale_nodes``; PodsPerNode then shows its compact tiles) and
back to 3 at the end. Goals: p95 < 250 ms at 3 nodes, < 1 s at 500.

Run (cluster up, ``bash tests/e2e/setup.sh`` done):
``COURSE_CLUSTER=embedded .venv/bin/python benchmarks/browser_latency.py [--nodes 500]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
E2E = REPO / "tests" / "e2e"
sys.path.insert(0, str(Path(__file__).parent))

from memory import _start_lab  # noqa: E402

from course_helpers.widgets._pods import COMPACT_ABOVE  # noqa: E402

NS_NAME = "bench-latency"
JOB = "bench-job"
CELLS = [
    "import course_helpers as ch\ninfo = ch.connect()\nch.echo(False)\n"
    f'ns = ch.namespace("{NS_NAME}")',
    "board = ch.PodsPerNode(ns)\nboard",
    f'progress = ch.JobProgress("{JOB}", ns)\nprogress',
]


def _notebook(path: Path, setup: str = "") -> None:
    sources = [CELLS[0] + (f"\n{setup}" if setup else ""), *CELLS[1:]]
    cells = [
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": c}
        for c in sources
    ]
    nb = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


#: Why a pod's readiness has no samples at scale (said where it is missing).
NO_READY = (
    f"no samples (above {COMPACT_ABOVE} nodes PodsPerNode draws tiles: phases, not readiness)"
)


def _line(label: str, values: list[float], absent: str = "no samples") -> str:
    if not values:
        return f"  {label:<44} {absent}"
    med, p95 = _pct(values, 0.5) * 1e3, _pct(values, 0.95) * 1e3
    return f"  {label:<44} median {med:7.1f} ms   p95 {p95:7.1f} ms   n={len(values)}"


class RawWatch:
    """A bare Watcher per kind, noting when each change of interest arrives (epoch s)."""

    def __init__(self, ns: str) -> None:
        from course_helpers.kube._objects import pod_ready
        from course_helpers.kube._session import api_client
        from course_helpers.kube._watch import Watcher, WatchEvent
        from course_helpers.kube._watch_source import KubernetesSource

        self.seen: dict[str, float] = {}
        self.ns = ns

        def note(key: str) -> None:
            self.seen.setdefault(key, time.time())

        def on_node(event: WatchEvent) -> None:
            cordoned = bool((event.object.get("spec") or {}).get("unschedulable"))
            note(f"cordon:{event.name}={'on' if cordoned else 'off'}#{self.toggles}")

        def on_pod(event: WatchEvent) -> None:
            if pod_ready(event.object):
                note(f"ready:{ns}/{event.name}=yes")

        def on_job(event: WatchEvent) -> None:
            done = int((event.object.get("status") or {}).get("succeeded") or 0)
            note(f"job:{event.name}={done}")

        self.toggles = 0
        source = KubernetesSource(api_client())
        self.watchers = [
            Watcher(k, n, source=source) for k, n in (("Node", None), ("Pod", ns), ("Job", ns))
        ]
        for watcher, fn in zip(self.watchers, (on_node, on_pod, on_job), strict=True):
            watcher.subscribe(fn, replay=False)
            watcher.start()
        for watcher in self.watchers:
            watcher.wait_synced(30)

    def stop(self) -> None:
        for watcher in self.watchers:
            watcher.stop()


def _dom_times(log: list[list[Any]]) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for t, key in log:
        found.setdefault(key, []).append(t / 1e3)
    return found


def run(
    toggles: int, interval: float, pods: int, completions: int, parallelism: int, setup: str
) -> None:
    from kubernetes import client as k8s

    import course_helpers as ch
    from course_helpers.kube._session import api_client

    ch.connect(log=lambda _m: None)
    ch.echo(False)
    ns = ch.reset(NS_NAME)
    node = "worker-1"
    core = k8s.CoreV1Api(api_client())
    core.patch_node(node, {"spec": {"unschedulable": False}})
    work = Path(tempfile.mkdtemp(prefix="latency-"))
    notebook = REPO / "test-artifacts" / "latency.ipynb"  # the server's root is the repo
    notebook.parent.mkdir(exist_ok=True)
    _notebook(notebook, setup)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server, base, token = _start_lab(env, work)
    driver = None
    try:
        rel = notebook.relative_to(REPO)
        url = f"{base}/lab/workspaces/latency/tree/{rel}?token={token}"
        driver = subprocess.Popen(
            [
                shutil.which("node") or "node",
                str(REPO / "benchmarks" / "browser_latency.mjs"),
                *("--url", url),
            ],
            cwd=E2E,
            env={**os.environ, "E2E_DIR": str(E2E)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert driver.stdout is not None and driver.stdin is not None
        ready = driver.stdout.readline().strip()
        assert ready == "READY", f"the browser driver said {ready!r}"
        raw = RawWatch(ns)
        time.sleep(2)
        sent: list[tuple[str, float]] = []
        for i in range(toggles):
            on = i % 2 == 0
            raw.toggles = i
            key = f"cordon:{node}={'on' if on else 'off'}"
            sent.append((key, time.time()))
            core.patch_node(node, {"spec": {"unschedulable": on}})
            time.sleep(interval)
        core.patch_node(node, {"spec": {"unschedulable": False}})
        for i in range(pods):
            body = {
                "metadata": {"name": f"bench-{i:02d}", "labels": {"app": "bench"}},
                "spec": {"containers": [{"name": "c", "image": "busybox:1.37"}]},
            }
            core.create_namespaced_pod(ns, body)
            time.sleep(interval)
        job = (
            ch.manifest("job-parallel")
            .replace("render-frames-parallel", JOB)
            .replace("completions: 6", f"completions: {completions}")
            .replace("parallelism: 3", f"parallelism: {parallelism}")
        )
        ch.apply(job, ns)
        ch.job_finished(ns, JOB, timeout=180)
        ch.pods_ready(ns, pods, label_selector="app=bench", timeout=120)
        time.sleep(3)
        driver.stdin.write("DONE\n")
        driver.stdin.flush()
        answer = json.loads(driver.stdout.readline())
        log, wire = answer["log"], answer["wire"]
        raw.stop()
    finally:
        if driver is not None and driver.poll() is None:
            driver.kill()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        core.patch_node(node, {"spec": {"unschedulable": False}})
        ch.cleanup(NS_NAME, wait=False)
    dom = _dom_times(log)
    watch_lat, dom_lat = [], []
    counts: dict[str, int] = {}
    for i, (key, t) in enumerate(sent):
        arrived = raw.seen.get(f"{key}#{i}")
        n = counts[key] = counts.get(key, 0) + 1
        shown = dom.get(key, [])
        # the n-th time the DOM turned to this state (the first "off" was the start)
        index = n if key.endswith("=off") else n - 1
        if arrived is not None:
            watch_lat.append(arrived - t)
        if index < len(shown):
            dom_lat.append(shown[index] - t)
    _count_superseded(dom)
    after_watch: dict[str, list[float]] = {"ready": [], "job": []}
    for key, t in raw.seen.items():
        kind = key.split(":")[0]
        if kind in after_watch and key in dom:
            after_watch[kind].append(dom[key][0] - t)
    print(_line("cordon: patch -> bare watch event", watch_lat))
    print(_line("cordon: patch -> widget DOM", dom_lat))
    print(_line("pod Ready: bare watch event -> widget DOM", after_watch["ready"], NO_READY))
    print(_line("Job succeeded count: bare watch -> widget DOM", after_watch["job"]))
    _print_split(raw.seen, dom, wire)


def _count_superseded(dom: dict[str, list[float]]) -> None:
    """Count a Job count the page never showed as shown when a higher one first was.

    Two pods finishing together reach the page in one redraw (N+1 without N): N was
    then shown at once by N+1, not never (leaving it out would flatter the figures).
    """
    counts: dict[str, dict[int, float]] = {}
    for key, times in dom.items():
        if key.startswith("job:"):
            name, _, n = key.partition("=")
            counts.setdefault(name, {})[int(n)] = times[0]
    for name, shown in counts.items():
        for n in range(max(shown) + 1):
            later = [t for m, t in shown.items() if m >= n]
            dom.setdefault(f"{name}={n}", [min(later)])


def _print_split(seen: dict[str, float], dom: dict[str, list[float]], wire: list[Any]) -> None:
    """Print where the time goes between the bare watch and the DOM, per kind of change.

    kernel: the bare watch's event -> the kernel sent the comm message showing it
    (watch thread, pump, redraw, serialisation); wire: sent -> the page received it
    (kernel -> server -> websocket); page: received -> the DOM shows it (widget
    manager, plotly). The kernel's send time has millisecond precision.
    """
    first: dict[str, tuple[float, float | None]] = {}
    for received, sent, key in wire:
        first.setdefault(key, (received / 1e3, None if sent is None else sent / 1e3))
    for kind, label in (("ready", "pod Ready"), ("job", "Job succeeded count")):
        split: dict[str, list[float]] = {"kernel": [], "wire": [], "page": []}
        for key, t in seen.items():
            if not key.startswith(f"{kind}:") or key not in dom or key not in first:
                continue
            received, sent = first[key]
            if sent is not None:
                split["kernel"].append(sent - t)
                split["wire"].append(received - sent)
            split["page"].append(dom[key][0] - received)
        absent = NO_READY if kind == "ready" else "no samples"
        print(_line(f"{label}: bare watch -> kernel sent it", split["kernel"], absent))
        print(_line(f"{label}: kernel sent -> page received", split["wire"]))
        print(_line(f"{label}: page received -> DOM", split["page"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--toggles", type=int, default=40)
    parser.add_argument("--interval", type=float, default=0.4)
    parser.add_argument("--pods", type=int, default=10)
    # The Job's succeeded count: one change per pod that finishes (3 s each in kwok).
    parser.add_argument("--completions", type=int, default=24)
    parser.add_argument("--parallelism", type=int, default=2)
    parser.add_argument(
        "--setup", default="", help="Python run in the notebook before the views (a variant)"
    )
    args = parser.parse_args()
    import course_helpers as ch

    ch.connect(log=lambda _m: None)
    ch.echo(False)
    if args.nodes != 3:
        ch.scale_nodes(args.nodes, timeout=600)
    try:
        print(f"browser latency at {args.nodes} nodes (Chromium, JupyterLab, 1024 x 768)")
        print(f"Job: {args.completions} completions, parallelism {args.parallelism}")
        if args.setup:
            print(f"variant: {args.setup}")
        run(
            args.toggles,
            args.interval,
            args.pods,
            args.completions,
            args.parallelism,
            args.setup,
        )
    finally:
        if args.nodes != 3:
            ch.scale_nodes(3, timeout=600)
    print(f"threads left: {threading.active_count()}")


if __name__ == "__main__":
    main()
