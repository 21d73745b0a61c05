"""The live widgets on the embedded cluster: what they show matches what the API says.

Each widget is opened before the demo starts, so it sees everything happen
through its own watchers. Tests run no event loop, so nothing is applied until
``flush()``; :func:`_converge` flushes whenever one of the widget's watchers
delivers something, until the widget shows the expected state.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any, TypeVar

import pandas as pd
import pytest
from kubernetes import client as k8s

import course_helpers as ch
from course_helpers.kube._session import api_client
from course_helpers.kube._wait import condition_true
from course_helpers.widgets import (
    CronJobTimeline,
    EventFeed,
    JobProgress,
    PodsPerNode,
    StatefulSetOrder,
)
from course_helpers.widgets._base import LiveWidget

pytestmark = pytest.mark.integration
Obj = dict[str, Any]
W = TypeVar("W", bound=LiveWidget)


class Opened:
    """Widgets a test opens; all are closed (their watchers stopped) when the test ends."""

    def __init__(self, stack: ExitStack) -> None:
        self._stack = stack

    def __call__(self, widget: W) -> W:
        self._stack.callback(widget.close)
        assert widget.wait_synced(15), f"{widget!r}: watchers did not list in time"
        return widget


@pytest.fixture
def widgets() -> Iterator[Opened]:
    with ExitStack() as stack:
        yield Opened(stack)


def _converge(
    widget: LiveWidget, check: Callable[[], bool], description: str, timeout: float = 30
) -> None:
    """Flush ``widget`` until ``check()`` holds, waking on every event its watchers deliver.

    The wait is capped at a second so that a check comparing with a fresh API
    listing asks again when the listing, not the widget, was behind.
    """
    changed = threading.Event()
    unsubscribe = [w.subscribe(lambda _e: changed.set(), replay=False) for w in widget.watchers]
    deadline = time.monotonic() + timeout
    try:
        while True:
            changed.clear()
            widget.flush()
            if check():
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"{widget!r} did not show {description} within {timeout:.0f}s; "
                    f"errors: {widget.errors}"
                )
            changed.wait(min(remaining, 1.0))
    finally:
        for stop in unsubscribe:
            stop()


# -- DaemonSet: PodsPerNode ------------------------------------------------------------------


def _api_counts(namespace: str) -> dict[str, int]:
    table = ch.pods_per_node(namespace, label_selector="app=storage-daemon")
    return dict(zip(table["node"], table["pods"].astype(int), strict=True))


def _settled(pods: list[Obj]) -> bool:
    """One Ready pod on every node that is Ready and untainted, none leaving."""
    nodes = ch.nodes()
    wanted = set(nodes[nodes["ready"] & (nodes["taints"] == "")]["node"])
    alive = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    placed = sorted(p["spec"].get("nodeName") or "" for p in alive)
    return placed == sorted(wanted) and all(condition_true(p, "Ready") for p in alive)


def test_pods_per_node_counts_match_the_api_for_a_daemonset(
    namespace: str, extra_nodes: list[str], widgets: Opened
) -> None:
    board = widgets(PodsPerNode(namespace, owner="DaemonSet/storage-daemon"))
    ch.apply("daemonset-storage-daemon", namespace)
    ch.until("Pod", namespace, _settled, "one Ready pod per node", 60, "app=storage-daemon")

    _converge(board, lambda: board.pod_counts() == _api_counts(namespace), "the API's counts")
    frame = board.to_frame()
    assert len(frame) >= 3
    assert set(frame["owner_name"]) == {"storage-daemon"}
    assert frame["ready"].all()
    assert set(frame["phase"]) == {"Running"}
    assert frame["node"].is_unique

    new = ch.add_node()
    extra_nodes.append(new)
    ch.until("Pod", namespace, _settled, f"a Ready pod on {new} too", 60, "app=storage-daemon")

    def chip_on_new_node() -> bool:
        shown = board.to_frame()
        on_new = shown[shown["node"] == new]
        return (
            len(on_new) == 1
            and bool(on_new["ready"].all())
            and board.pod_counts() == _api_counts(namespace)
        )

    _converge(board, chip_on_new_node, f"a Ready chip on {new}")
    assert board.pod_counts()[new] == 1
    assert f'data-node="{new}"' in board.board.value
    assert "not scheduled" not in board.pod_counts()
    assert not board.errors


# -- StatefulSet: StatefulSetOrder -------------------------------------------------------------


def _claims(namespace: str) -> dict[str, str]:
    core = k8s.CoreV1Api(api_client())
    items = core.list_namespaced_persistent_volume_claim(namespace, _request_timeout=10).items
    return {c.metadata.name: c.status.phase for c in items}


def _rows(order: StatefulSetOrder) -> dict[int, Any]:
    """The newest incarnation of every ordinal, as a frame row."""
    return {int(r["ordinal"]): r for r in order.to_frame().to_dict("records")}


def _known(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def test_statefulset_order_shows_ordered_start_bound_claims_and_reverse_scale_down(
    namespace: str, widgets: Opened
) -> None:
    order = widgets(StatefulSetOrder("web", namespace))
    ch.apply("statefulset-web", namespace)
    ch.pods_ready(namespace, 3, label_selector="app=web", timeout=90)

    def three_ready_and_bound() -> bool:
        rows = _rows(order)
        return (
            sorted(rows) == [0, 1, 2]
            and all(_known(r["ready"]) for r in rows.values())
            and all(r["pvc_phase"] == "Bound" for r in rows.values())
        )

    _converge(order, three_ready_and_bound, "web-0..2 Ready with Bound claims")
    rows = _rows(order)
    assert [rows[i]["pod"] for i in range(3)] == ["web-0", "web-1", "web-2"]
    # Timestamps come from the API in whole seconds; the simulated pods take at
    # least a second to get Ready, so each ordinal's Ready second is later than
    # its predecessor's, and each ordinal starts only once the previous is Ready.
    for i in (1, 2):
        assert rows[i]["created"] >= rows[i - 1]["ready"]
        assert rows[i]["ready"] > rows[i - 1]["ready"]
        assert rows[i]["ready"] > rows[i]["created"]
    # The claim column is the API's: one Bound claim per ordinal.
    claims = _claims(namespace)
    assert claims == {f"data-web-{i}": "Bound" for i in range(3)}
    assert {(rows[i]["pvc"], rows[i]["pvc_phase"]) for i in range(3)} == set(claims.items())
    assert "web-2 · data-web-2 ✓ Bound" in order.figure.layout.yaxis.ticktext

    ch.patch("StatefulSet", "web", namespace, {"spec": {"replicas": 1}})
    ch.until(
        "Pod",
        namespace,
        lambda pods: [p["metadata"]["name"] for p in pods] == ["web-0"],
        "only web-0 left",
        timeout=60,
        label_selector="app=web",
    )

    def scaled_down() -> bool:
        rows = _rows(order)
        # the StatefulSet's status catches up a moment after the pods are gone
        title = order.chart_title() == "StatefulSet web: 1/1 ready · OrderedReady"
        return title and _known(rows[1]["deleted"]) and _known(rows[2]["deleted"])

    _converge(order, scaled_down, "web-1 and web-2 deleted, 1/1 ready")
    rows = _rows(order)
    assert not _known(rows[0]["deleted"])
    # Reverse order: web-2 is gone before web-1's deletion is even asked for.
    assert rows[2]["deleted"] < rows[1]["deleted"]
    assert rows[2]["deletion"] <= rows[1]["deletion"]
    assert math.floor(rows[1]["deletion"]) <= rows[2]["deleted"] + 1
    # The claims outlive the pods, and the widget still shows them Bound.
    assert _claims(namespace) == {f"data-web-{i}": "Bound" for i in range(3)}
    assert [rows[i]["pvc_phase"] for i in range(3)] == ["Bound"] * 3
    assert not order.errors


# -- Jobs: JobProgress and EventFeed -----------------------------------------------------------

JOBS = {"render-frames-parallel": "job-parallel", "broken-task": "job-failing"}


def _job(namespace: str, name: str) -> Obj:
    job = ch.get("Job", name, namespace)
    assert job is not None, name
    return job


def _counts(status: Obj) -> tuple[int, int, int, int]:
    active, ready, succeeded, failed = (
        int(status.get(k) or 0) for k in ("active", "ready", "succeeded", "failed")
    )
    return active, ready, succeeded, failed


def _api_events(namespace: str) -> pd.DataFrame:
    """The namespace's Events as the feed groups them: per object, reason and message."""
    items = k8s.CoreV1Api(api_client()).list_namespaced_event(namespace, _request_timeout=10).items
    rows = [
        {
            "object": f"{e.involved_object.kind}/{e.involved_object.name}",
            "reason": e.reason,
            "message": e.message,
            "type": e.type,
            "count": (e.series.count if e.series else None) or e.count or 1,
        }
        for e in items
    ]
    frame = pd.DataFrame(rows, columns=["object", "reason", "message", "type", "count"])
    keys = ["object", "reason", "message", "type"]
    grouped = frame.groupby(keys, as_index=False).agg(count=("count", "sum"))
    return grouped.sort_values(["object", "reason", "message"], ignore_index=True)


def _feed_events(feed: EventFeed) -> pd.DataFrame:
    frame = feed.to_frame()[["object", "reason", "message", "type", "count"]]
    return frame.sort_values(["object", "reason", "message"], ignore_index=True)


def test_job_progress_and_event_feed_match_the_jobs_status_and_events(
    namespace: str, widgets: Opened
) -> None:
    progress = widgets(JobProgress(list(JOBS), namespace))
    feed = widgets(EventFeed(namespace, max_rows=500))
    for manifest in JOBS.values():
        ch.apply(manifest, namespace)
    assert ch.job_finished(namespace, "render-frames-parallel", timeout=60) == "Complete"
    assert ch.job_finished(namespace, "broken-task", timeout=120) == "Failed"
    jobs = {name: _job(namespace, name) for name in JOBS}

    def final_counts_shown() -> bool:
        return all(
            progress.series[name] and progress.series[name][-1].counts() == _counts(job["status"])
            for name, job in jobs.items()
        )

    _converge(progress, final_counts_shown, "each Job's final .status")
    frame = progress.to_frame()
    last = frame.groupby("job").last()
    for name, job in jobs.items():
        status, spec = job["status"], job["spec"]
        assert last.loc[name, "succeeded"] == int(status.get("succeeded") or 0)
        assert last.loc[name, "failed"] == int(status.get("failed") or 0)
        assert last.loc[name, "active"] == 0
        mine = frame[frame["job"] == name]
        assert set(mine["parallelism"]) == {spec["parallelism"]}
        assert mine["active"].max() <= spec["parallelism"], "active above the parallelism limit"
        assert mine["t"].is_monotonic_increasing
        assert mine["succeeded"].is_monotonic_increasing
        assert mine["failed"].is_monotonic_increasing
    assert last.loc["render-frames-parallel", "succeeded"] == 6
    assert frame[frame["job"] == "render-frames-parallel"]["active"].max() == 3
    assert last.loc["broken-task", "failed"] == 3
    assert last.loc["broken-task", "succeeded"] == 0
    assert progress.panel_title("broken-task") == "broken-task: Failed, 0/1, parallelism 1"
    assert progress.run_lines("broken-task") == ["reason: BackoffLimitExceeded"]
    assert progress.panel_title("render-frames-parallel") == (
        "render-frames-parallel: Complete, 6/6, parallelism 3"
    )

    # The feed shows exactly the namespace's Events, grouped as it says.
    _converge(feed, lambda: _feed_events(feed).equals(_api_events(namespace)), "the API's Events")
    shown = feed.to_frame()
    created = shown[shown["reason"] == "SuccessfulCreate"]
    per_job = created.groupby("object")["count"].sum().to_dict()
    assert per_job == {"Job/render-frames-parallel": 6, "Job/broken-task": 3}
    pods = ch.pods(namespace)
    assert set(created["message"]) == {f"Created pod: {p}" for p in pods["pod"]}
    backoff = shown[shown["reason"] == "BackoffLimitExceeded"]
    assert list(backoff["object"]) == ["Job/broken-task"]
    assert list(backoff["type"]) == ["Warning"]
    assert "⚠ BackoffLimitExceeded" in feed.table.value
    assert shown["last_seen"].is_monotonic_decreasing
    assert not progress.errors and not feed.errors


def test_job_progress_shows_each_index_of_an_indexed_job_as_the_api_does(
    namespace: str, widgets: Opened
) -> None:
    progress = widgets(JobProgress("transcode", namespace))
    ch.apply("job-backoff-per-index", namespace)
    assert ch.job_finished(namespace, "transcode", timeout=120) == "Failed"
    job = _job(namespace, "transcode")
    pods = ch.list_objects(
        "Pod", namespace, label_selector="batch.kubernetes.io/job-name=transcode"
    )
    by_index: dict[int, list[str]] = {}
    for pod in pods:
        index = int(pod["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"])
        by_index.setdefault(index, []).append(pod["metadata"]["name"])

    def shown() -> bool:
        frame = progress.index_frame()
        return (
            (progress.job("transcode") or {}).get("status") == job["status"]
            and {i: sorted(p) for i, p in zip(frame["index"], frame["pods"], strict=True)}
            == {i: sorted(p) for i, p in by_index.items()}
            and all(s in ("succeeded", "failed") for s in frame["state"])
        )

    _converge(progress, shown, "every index's pods and final state")
    frame = progress.index_frame()
    assert frame["state"].tolist() == ["succeeded"] * 2 + ["failed"] + ["succeeded"] * 3
    assert job["status"]["failedIndexes"] == "2"
    assert "failed indexes: 2 · Failed: FailedIndexes" in progress.index_view.value
    assert progress.panel_title("transcode").startswith("transcode: Failed, 5/6")
    assert progress.run_lines("transcode") == ["reason: FailedIndexes"]


# -- CronJob: CronJobTimeline (waits for the wall-clock minute) --------------------------------


@pytest.mark.slow
def test_cronjob_timeline_counts_the_job_under_its_tick(namespace: str, widgets: Opened) -> None:
    timeline = widgets(CronJobTimeline("backup", namespace))
    ch.apply("cronjob-backup", namespace)
    jobs = ch.until("Job", namespace, lambda js: bool(js), "a Job made by the CronJob", 70)
    name = jobs[0]["metadata"]["name"]
    assert ch.job_finished(namespace, name, timeout=30) == "Complete"
    job = _job(namespace, name)
    cronjob = ch.get("CronJob", "backup", namespace)
    assert cronjob is not None

    def run_complete() -> bool:
        frame = timeline.to_frame()
        return name in set(frame["job"]) and bool(
            frame.set_index("job").loc[name, "outcome"] == "Complete"
        )

    _converge(timeline, run_complete, f"{name} Complete")
    row = timeline.to_frame().set_index("job").loc[name]
    scheduled = row["scheduled"].to_pydatetime()
    # The tick the Job belongs to: the controller's annotation, its name, and the CronJob.
    annotation = job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    assert scheduled == datetime.fromisoformat(annotation.replace("Z", "+00:00"))
    assert scheduled == datetime.fromtimestamp(int(name.rsplit("-", 1)[1]) * 60, UTC)
    last_scheduled = cronjob["status"]["lastScheduleTime"].replace("Z", "+00:00")
    assert scheduled <= datetime.fromisoformat(last_scheduled)
    fired, upcoming = timeline.ticks()
    assert scheduled in fired
    assert upcoming and all(t > scheduled for t in upcoming)
    assert scheduled.second == 0
    finished = datetime.fromisoformat(job["status"]["completionTime"].replace("Z", "+00:00"))
    assert row["finished"].to_pydatetime() == finished
    assert not row["removed"]
    assert not timeline.errors
