"""The watch layer: list, watch, resume, re-list after 410 Gone and dropped connections."""

from __future__ import annotations

import threading
import time

import pytest
from fakes import FakeApiServer, ScriptedSource, api_client

from course_helpers.kube._watch import (
    KubernetesSource,
    Watcher,
    WatchEvent,
    active_watchers,
    stop_watchers,
)


def _record(watcher: Watcher) -> list[WatchEvent]:
    seen: list[WatchEvent] = []
    watcher.subscribe(seen.append)
    return seen


def _summary(events: list[WatchEvent]) -> list[tuple[str, str, str, bool]]:
    return [(e.type, e.name, e.object["metadata"]["resourceVersion"], e.from_list) for e in events]


def _run_script(source: ScriptedSource, **kwargs: object) -> tuple[Watcher, list[WatchEvent]]:
    watcher = Watcher("Pod", "course-statefulsets", source=source, backoff=(0, 0), **kwargs)  # type: ignore[arg-type]
    seen = _record(watcher)
    watcher.start()
    assert source.exhausted.wait(5), f"script not played through: {watcher!r}"
    watcher.stop()
    return watcher, seen


def test_watcher_survives_410_gone_and_a_dropped_connection() -> None:
    source = ScriptedSource.from_file()
    watcher, seen = _run_script(source)

    assert _summary(seen) == [
        # first list
        ("ADDED", "web-0", "90", True),
        ("ADDED", "web-1", "95", True),
        # first watch, until the server says 410 Gone
        ("ADDED", "web-2", "101", False),
        ("MODIFIED", "web-0", "102", False),
        ("DELETED", "web-1", "103", False),
        # re-list: what changed while the watch was gone, as synthetic events;
        # web-2 was deleted and created again, so it leaves and comes back
        ("DELETED", "web-2", "101", True),
        ("MODIFIED", "web-0", "150", True),
        ("ADDED", "web-2", "160", True),
        ("ADDED", "web-3", "170", True),
        # second watch, until the connection drops
        ("MODIFIED", "web-3", "201", False),
        # re-list after the drop: web-2 went, web-3 changed
        ("DELETED", "web-2", "160", True),
        ("MODIFIED", "web-3", "250", True),
        # third watch
        ("ADDED", "web-4", "301", False),
    ]
    assert [p["metadata"]["name"] for p in watcher.items] == ["web-0", "web-3", "web-4"]
    assert watcher.get("web-3")["status"]["phase"] == "Running"  # type: ignore[index]
    # Each watch resumed from the version its list returned (the bookmark moved it to 110,
    # but the 410 forced a re-list).
    assert [c[2] for c in source.watch_calls] == ["100", "200", "300"]
    assert all(c[3] == watcher.timeout_seconds for c in source.watch_calls)
    assert watcher.stats.lists == 3
    assert watcher.stats.expired == 1
    assert watcher.stats.errors == 1
    assert isinstance(watcher.stats.last_error, ConnectionResetError)
    assert watcher.resource_version == "301"
    assert watcher.state == "stopped"
    assert not watcher.running


def test_bookmark_moves_the_resume_point_without_an_event() -> None:
    bookmark = {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "120"}}}
    source = ScriptedSource(
        {
            "kind": "Pod",
            "lists": [{"resourceVersion": "100", "items": []}],
            "watches": [[bookmark], []],
        }
    )
    watcher, seen = _run_script(source)
    assert seen == []
    assert [c[2] for c in source.watch_calls] == ["100", "120"]
    assert watcher.stats.lists == 1


def test_error_event_other_than_410_relists_after_backoff() -> None:
    boom = {"type": "ERROR", "object": {"kind": "Status", "code": 500, "reason": "InternalError"}}
    pod = {"metadata": {"name": "a", "namespace": "ns", "uid": "u1", "resourceVersion": "5"}}
    source = ScriptedSource(
        {
            "kind": "Pod",
            "lists": [
                {"resourceVersion": "1", "items": []},
                {"resourceVersion": "6", "items": [pod]},
            ],
            "watches": [[boom], []],
        }
    )
    watcher, seen = _run_script(source)
    assert _summary(seen) == [("ADDED", "a", "5", True)]
    assert watcher.stats.errors == 1
    assert "500 InternalError" in str(watcher.stats.last_error)
    assert [c[2] for c in source.watch_calls] == ["1", "6"]


def test_failing_list_is_retried_and_state_says_so() -> None:
    source = ScriptedSource(
        {"kind": "Pod", "lists": [{"resourceVersion": "7", "items": []}], "watches": [[]]}
    )
    source.fail_lists = 2
    states: list[str] = []
    watcher = Watcher("Pod", "ns", source=source, backoff=(0, 0))
    watcher.on_state.append(states.append)
    watcher.start()
    assert source.exhausted.wait(5)
    watcher.stop()
    assert watcher.stats.errors == 2
    assert [s.split(" after")[0] for s in states] == [
        "listing",
        "retrying in 0.0s",
        "listing",
        "retrying in 0.0s",
        "listing",
        "watching",
        "stopped",
    ]
    assert "ConnectionRefusedError" in states[1]


def test_late_subscriber_gets_current_objects_first() -> None:
    source = ScriptedSource.from_file()
    watcher, _ = _run_script(source)
    late: list[WatchEvent] = []
    watcher.subscribe(late.append)
    assert [(e.type, e.name, e.from_list) for e in late] == [
        ("ADDED", "web-0", True),
        ("ADDED", "web-3", True),
        ("ADDED", "web-4", True),
    ]


def test_unsubscribe_and_a_failing_subscriber_do_not_stop_the_watch() -> None:
    source = ScriptedSource.from_file()
    watcher = Watcher("Pod", "course-statefulsets", source=source, backoff=(0, 0))

    def broken(event: WatchEvent) -> None:
        raise RuntimeError("subscriber bug")

    watcher.subscribe(broken)
    gone: list[WatchEvent] = []
    unsubscribe = watcher.subscribe(gone.append)
    unsubscribe()
    kept = _record(watcher)
    watcher.start()
    assert source.exhausted.wait(5)
    watcher.stop()
    assert gone == []
    assert len(kept) == 13


def test_events_are_stamped_by_the_clock() -> None:
    ticks = iter(range(1000, 2000))
    source = ScriptedSource.from_file()
    _, seen = _run_script(source, clock=lambda: float(next(ticks)))
    stamps = [e.timestamp for e in seen]
    assert stamps == sorted(stamps)
    assert stamps[0] == 1000.0


def test_stop_watchers_stops_a_namespace_and_its_helpers_only() -> None:
    source = ScriptedSource({"kind": "Job", "lists": [], "watches": []})
    pods = Watcher("Pod", "course-a", source=source).start()
    nodes = Watcher("Node", None, source=source, scope="course-a").start()
    other = Watcher("Pod", "course-b", source=source).start()
    try:
        assert set(active_watchers("course-a")) == {pods, nodes}
        assert stop_watchers("course-a") == 2
        assert not pods.running
        assert not nodes.running
        assert other.running
        assert active_watchers("course-a") == []
    finally:
        other.stop()
    assert other not in active_watchers()


def test_context_manager_stops_the_thread() -> None:
    source = ScriptedSource.from_file()
    with Watcher("Pod", "course-statefulsets", source=source, backoff=(0, 0)) as watcher:
        assert watcher.wait_synced(5)
        assert watcher.running
    assert not watcher.running
    assert watcher.state == "stopped"


def test_rejects_unknown_kinds_and_namespaced_nodes() -> None:
    source = ScriptedSource({"kind": "Pod", "lists": [], "watches": []})
    with pytest.raises(ValueError, match="cannot watch 'Gadget'"):
        Watcher("Gadget", "ns", source=source)
    with pytest.raises(ValueError, match="cluster-scoped"):
        Watcher("Node", "ns", source=source)


# -- the official client over HTTP ------------------------------------------------------------


def _pod(name: str, rv: str) -> dict[str, object]:
    meta = {"name": name, "namespace": "demo", "uid": f"uid-{name}", "resourceVersion": rv}
    return {"metadata": {**meta, "managedFields": [{"manager": "kubectl", "operation": "Apply"}]}}


def test_kubernetes_source_pages_lists_and_streams_watches() -> None:
    pages = {
        "": {"kind": "PodList", "metadata": {"continue": "page2"}, "items": [_pod("a", "40")]},
        "page2": {
            "kind": "PodList",
            "metadata": {"resourceVersion": "42"},
            "items": [_pod("b", "41")],
        },
    }
    events = [
        {"type": "ADDED", "object": {"kind": "Pod", **_pod("c", "43")}},
        {"type": "MODIFIED", "object": {"kind": "Pod", **_pod("a", "44")}},
    ]
    with FakeApiServer(pages, events) as server:
        source = KubernetesSource(api_client(server.url), read_timeout=5)
        watcher = Watcher(
            "Pod", "demo", label_selector="app=web", source=source, timeout_seconds=30
        )
        seen = _record(watcher)
        watcher.start()
        deadline = time.monotonic() + 5
        while len(seen) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        watcher.stop(timeout=5)
        assert time.monotonic() - started < 2, "stop() must abort the open watch at once"
        assert server.watch_closed.wait(5)

    assert _summary(seen) == [
        ("ADDED", "a", "40", True),
        ("ADDED", "b", "41", True),
        ("ADDED", "c", "43", False),
        ("MODIFIED", "a", "44", False),
    ]
    assert all("managedFields" not in e.object["metadata"] for e in seen)
    assert all(e.object["kind"] == "Pod" for e in seen)  # list items get the kind watches have
    assert all(e.object["apiVersion"] == "v1" for e in seen if e.from_list)
    paths = [path for path, _ in server.requests]
    assert paths == ["/api/v1/namespaces/demo/pods"] * 3
    first, second, watch = (query for _, query in server.requests)
    assert first["labelSelector"] == ["app=web"]
    assert first["limit"] == ["500"]
    assert second["continue"] == ["page2"]
    assert watch["watch"] == ["true"]
    assert watch["resourceVersion"] == ["42"]
    assert watch["timeoutSeconds"] == ["30"]
    assert watch["allowWatchBookmarks"] == ["true"]
    assert watch["labelSelector"] == ["app=web"]
    assert watcher.resource_version == "44"


def test_kubernetes_source_http_410_on_watch_means_relist() -> None:
    pages = {
        "": {"kind": "PodList", "metadata": {"resourceVersion": "9"}, "items": [_pod("a", "9")]}
    }
    with FakeApiServer(pages, [], watch_status=410) as server:
        source = KubernetesSource(api_client(server.url), read_timeout=5)
        watcher = Watcher("Pod", "demo", source=source, backoff=(0.01, 0.01))
        watcher.start()
        deadline = time.monotonic() + 5
        while watcher.stats.lists < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        watcher.stop()
    assert watcher.stats.expired >= 2
    assert watcher.stats.errors == 0
    assert [p["metadata"]["name"] for p in watcher.items] == ["a"]


def test_kubernetes_source_uses_cluster_scoped_and_all_namespace_calls() -> None:
    pages = {"": {"kind": "List", "metadata": {"resourceVersion": "3"}, "items": []}}
    with FakeApiServer(pages, []) as server:
        source = KubernetesSource(api_client(server.url), read_timeout=5)
        assert source.list("Node", None) == ([], "3")
        assert source.list("Pod", None) == ([], "3")
        assert source.list("CronJob", "demo", field_selector="metadata.name=report") == ([], "3")
        assert source.list("PersistentVolumeClaim", "demo") == ([], "3")
        assert source.list("StatefulSet", "demo") == ([], "3")
        assert source.list("Event", "demo") == ([], "3")
    assert [path for path, _ in server.requests] == [
        "/api/v1/nodes",
        "/api/v1/pods",
        "/apis/batch/v1/namespaces/demo/cronjobs",
        "/api/v1/namespaces/demo/persistentvolumeclaims",
        "/apis/apps/v1/namespaces/demo/statefulsets",
        "/api/v1/namespaces/demo/events",
    ]
    assert server.requests[2][1]["fieldSelector"] == ["metadata.name=report"]


def test_watch_thread_is_a_daemon() -> None:
    source = ScriptedSource({"kind": "Job", "lists": [], "watches": []})
    watcher = Watcher("Pod", "ns", source=source).start()
    try:
        thread = next(t for t in threading.enumerate() if t.name == "watch-Pod-ns")
        assert thread.daemon
    finally:
        watcher.stop()
