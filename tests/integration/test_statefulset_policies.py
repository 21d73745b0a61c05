"""podManagementPolicy and minReadySeconds on the embedded cluster, and what the order chart shows.

Every comparison of times uses the cluster's own timestamps (whole seconds), or
the order in which one watch delivered the API's changes, never when the test
happened to look.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

import course_helpers as ch
from course_helpers.kube._objects import condition, meta, name_of
from course_helpers.kube._wait import Wait, default_source
from course_helpers.widgets import LiveWidget, ServiceEndpoints, StatefulSetOrder

pytestmark = pytest.mark.integration
Obj = dict[str, Any]


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _created(pod: Obj) -> datetime:
    return _time(meta(pod)["creationTimestamp"])


def _since(pod: Obj, kind: str) -> datetime:
    found = condition(pod, kind)
    assert found is not None and found.get("status") == "True", f"{name_of(pod)}: not {kind}"
    return _time(found["lastTransitionTime"])


def _pods(namespace: str, sts: str, count: int) -> list[Obj]:
    pods = [ch.get("Pod", f"{sts}-{i}", namespace) for i in range(count)]
    assert all(pods), f"{sts}: not every one of its {count} pods is there"
    return [p for p in pods if p is not None]


@pytest.fixture
def opened() -> Iterator[list[StatefulSetOrder]]:
    """Charts a test opens; their watchers stop when it ends."""
    charts: list[StatefulSetOrder] = []
    yield charts
    for chart in charts:
        chart.close()


def _open(charts: list[StatefulSetOrder], chart: StatefulSetOrder) -> StatefulSetOrder:
    charts.append(chart)
    assert chart.wait_synced(15), f"{chart!r}: watchers did not list in time"
    return chart


def _converge(chart: LiveWidget, check: Callable[[], bool], what: str) -> None:
    """Apply what the chart's watchers delivered until ``check()`` holds (30 s at most)."""
    changed = threading.Event()
    for watcher in chart.watchers:
        watcher.subscribe(lambda _e: changed.set(), replay=False)
    deadline = time.monotonic() + 30
    while True:
        changed.clear()
        chart.flush()
        if check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{chart!r} did not show {what} in 30 s; errors: {chart.errors}")
        changed.wait(1.0)


def test_parallel_creates_every_pod_at_once_ordered_one_after_another(
    namespace: str, opened: list[StatefulSetOrder]
) -> None:
    both = _open(opened, StatefulSetOrder(["ordered", "parallel"], namespace))
    ch.apply("statefulset-ordered-vs-parallel", namespace)
    ch.blocking.rollout_status("StatefulSet", "ordered", namespace, timeout=90)
    ch.blocking.rollout_status("StatefulSet", "parallel", namespace, timeout=90)

    ordered, parallel = _pods(namespace, "ordered", 3), _pods(namespace, "parallel", 3)
    for pod in ordered + parallel:
        # kwok honours the readiness probe's initialDelaySeconds: 5 after scheduling
        waited = (_since(pod, "Ready") - _since(pod, "PodScheduled")).total_seconds()
        assert waited >= 5, f"{name_of(pod)} was Ready {waited:g} s after it was scheduled"
    for i in (1, 2):  # OrderedReady: each pod only once the one before is Ready
        assert _created(ordered[i]) >= _since(ordered[i - 1], "Ready")
    # Parallel: all three exist before the first of them is Ready
    assert max(map(_created, parallel)) < min(_since(p, "Ready") for p in parallel)
    assert any(_created(parallel[i]) < _since(parallel[i - 1], "Ready") for i in (1, 2))

    def six_ready() -> bool:
        frame = both.to_frame()
        return len(frame) == 6 and not frame["ready"].isna().any()

    _converge(both, six_ready, "six Ready pods")
    frame = both.to_frame()
    assert list(zip(frame["statefulset"], frame["pod"], strict=True)) == [
        (s, f"{s}-{i}") for s in ("ordered", "parallel") for i in range(3)
    ]
    t0 = min(_created(p) for p in ordered + parallel).timestamp()
    for pod, row in zip(ordered + parallel, frame.to_dict("records"), strict=True):
        assert row["created"] == _created(pod).timestamp() - t0  # the chart's times are the API's
        assert row["ready"] == _since(pod, "Ready").timestamp() - t0
    assert both.figure.layout.yaxis.tickvals == (0, 1, 2, 4, 5, 6)
    assert both.chart_title().split("\n") == [
        "StatefulSet ordered: 3/3 ready · OrderedReady",
        "StatefulSet parallel: 3/3 ready · Parallel",
    ]


def test_parallel_scale_down_removes_the_surplus_at_once_ordered_in_reverse(
    namespace: str,
) -> None:
    ch.apply("statefulset-ordered-vs-parallel", namespace)
    ch.blocking.rollout_status("StatefulSet", "ordered", namespace, timeout=90)
    ch.blocking.rollout_status("StatefulSet", "parallel", namespace, timeout=90)
    # every state one watch delivers: which pods are terminating together
    together: dict[str, int] = {"ordered": 0, "parallel": 0}
    lock = threading.Lock()

    def record(pods: list[Obj]) -> bool | None:
        with lock:
            for sts in together:
                going = [p for p in pods if name_of(p).startswith(f"{sts}-")]
                terminating = sum(1 for p in going if meta(p).get("deletionTimestamp"))
                together[sts] = max(together[sts], terminating)
        return sorted(name_of(p) for p in pods) == ["ordered-0", "parallel-0"] or None

    wait = Wait("Pod", namespace, record, "ordered-0 and parallel-0 left", source=default_source())
    listed = threading.Event()
    wait.watcher.on_state.append(lambda state: listed.set() if state == "watching" else None)
    wait.start()
    assert listed.wait(15), "the watch on the pods did not list in time"
    for sts in together:
        ch.patch("StatefulSet", sts, namespace, {"spec": {"replicas": 1}})
    assert wait.result(60)
    assert sorted(p["metadata"]["name"] for p in ch.list_objects("Pod", namespace)) == [
        "ordered-0",
        "parallel-0",
    ]
    # OrderedReady deletes ordered-1 only once ordered-2 is gone; Parallel both at once
    assert together == {"ordered": 1, "parallel": 2}


def test_min_ready_seconds_available_trails_ready_and_gates_the_next_pod(
    namespace: str, opened: list[StatefulSetOrder]
) -> None:
    careful = _open(opened, StatefulSetOrder("careful", namespace))
    seen: list[tuple[int, int]] = []  # (readyReplicas, availableReplicas), every status written

    def record(sets: list[Obj]) -> bool:
        status = sets[0].get("status") or {} if sets else {}
        pair = (int(status.get("readyReplicas") or 0), int(status.get("availableReplicas") or 0))
        if not seen or seen[-1] != pair:
            seen.append(pair)
        return pair == (2, 2)

    ch.apply("statefulset-min-ready", namespace)
    ch.until(
        "StatefulSet",
        namespace,
        record,
        "2 available",
        timeout=90,
        field_selector="metadata.name=careful",
    )
    assert (2, 1) in seen, seen  # Ready, and for minReadySeconds not yet available
    assert all(available <= ready for ready, available in seen), seen
    first, second = _pods(namespace, "careful", 2)
    waited = (_created(second) - _since(first, "Ready")).total_seconds()
    assert waited >= 8, f"careful-1 was created {waited:g} s after careful-0 was Ready"

    def both_available() -> bool:
        return careful.chart_title().startswith("StatefulSet careful: 2/2 ready, 2 available")

    _converge(careful, both_available, "2 available")
    stretches = {t.name: t for t in careful.figure.data}["ready, not yet available"]
    assert stretches.y == (0, 1)
    assert list(stretches.x) == [8.0, 8.0]  # from the Ready time, minReadySeconds long
    t0 = careful.t0 or 0.0
    assert math.isclose(stretches.base[0], _since(first, "Ready").timestamp() - t0)


def test_service_endpoints_shows_the_virtual_ip_and_the_slices_the_api_has(
    namespace: str,
) -> None:
    view = ServiceEndpoints(["web-lb", "web"], namespace)
    try:
        assert view.wait_synced(15), f"{view!r}: watchers did not list in time"
        ch.apply("statefulset-web", namespace)
        ch.apply("service-web-loadbalanced", namespace)
        ch.blocking.rollout_status("StatefulSet", "web", namespace, timeout=90)
        slices = {s: ch.endpoints(namespace, s) for s in ("web-lb", "web")}

        def as_the_api_says() -> bool:
            frame = view.to_frame()
            return all(
                sorted(frame[frame["service"] == s]["address"].dropna())
                == sorted(slices[s]["address"])
                and frame[frame["service"] == s]["ready"].all()
                for s in slices
            )

        _converge(view, as_the_api_says, "the API's endpoints")
        frame = view.to_frame()
        lb = ch.get("Service", "web-lb", namespace)
        assert lb is not None
        assert set(frame[frame["service"] == "web-lb"]["cluster_ip"]) == {lb["spec"]["clusterIP"]}
        assert set(frame[frame["service"] == "web"]["cluster_ip"]) == {"None"}
        headless = frame[frame["service"] == "web"]
        assert list(headless["pod"]) == ["web-0", "web-1", "web-2"]
        assert list(headless["hostname"]) == ["web-0", "web-1", "web-2"]
        assert list(headless["dns_name"]) == [
            f"web-{i}.web.{namespace}.svc.cluster.local" for i in range(3)
        ]
        assert set(frame[frame["service"] == "web-lb"]["hostname"]) == {""}
        assert f"{lb['spec']['clusterIP']} (virtual IP)" in view.table.value
    finally:
        view.close()
