"""Waits on the one watcher: they survive 410 Gone and dropped connections, time out saying
what they saw, and, awaited, let the event loop (and so every live view) run meanwhile."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fakes import ScriptedSource, ScriptedStream

import course_helpers as ch
from course_helpers.kube import _diagnose, _waiting
from course_helpers.kube._kubectl_wait import Condition
from course_helpers.kube._watch import stop_watchers

Obj = dict[str, Any]
GONE = {"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired"}}
DROP = {"drop": "connection reset by peer"}


@pytest.fixture
def use(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make every wait list and watch ``source``; a timeout's diagnosis finds nothing."""
    monkeypatch.setattr(_diagnose, "explain", lambda *args: [])

    def install(source: Any) -> Any:
        monkeypatch.setattr(_waiting, "source_factory", lambda: source)
        return source

    return install


def _names(objects: list[Obj]) -> set[str]:
    return {o["metadata"]["name"] for o in objects}


# -- until, on the recorded script: list, watch, 410, re-list, watch, drop, re-list, watch ---------


def test_until_sees_what_only_the_relist_after_410_gone_shows(use: Any) -> None:
    source = use(ScriptedSource.from_file())
    found = ch.until("Pod", "course-statefulsets", lambda ps: "web-3" in _names(ps), "web-3", 5)
    assert "web-3" in _names(found)
    # web-3 was never in a watch event before the 410: only the re-list could show it
    assert [c[2] for c in source.watch_calls] == ["100", "200"]


def test_until_sees_what_only_the_relist_after_a_dropped_connection_shows(use: Any) -> None:
    source = use(ScriptedSource.from_file())
    found = ch.until(
        "Pod",
        "course-statefulsets",
        lambda ps: _names(ps) == {"web-0", "web-3"},
        "web-2 gone again",
        5,
    )
    assert _names(found) == {"web-0", "web-3"}
    assert len(source.list_calls) == 3  # first list, after the 410, after the drop


def test_until_follows_the_watch_to_the_end(use: Any) -> None:
    source = use(ScriptedSource.from_file())
    found = ch.until("Pod", "course-statefulsets", lambda ps: "web-4" in _names(ps), "web-4", 5)
    assert _names(found) == {"web-0", "web-3", "web-4"}
    assert [c[2] for c in source.watch_calls] == ["100", "200", "300"]


def test_a_wait_that_times_out_says_what_it_waited_for_and_saw(use: Any) -> None:
    use(ScriptedSource.from_file())
    with pytest.raises(ch.WaitTimeout) as caught:
        ch.until("Pod", "course-statefulsets", lambda ps: False, "web-9 to appear", timeout=2)
    message = str(caught.value)
    assert "web-9 to appear in course-statefulsets" in message
    assert "web-0, web-3, web-4" in message
    assert stop_watchers() == 0, "a finished wait leaves no watcher running"


def test_a_wait_whose_watch_is_stopped_fails_at_once(use: Any) -> None:
    use(
        ScriptedSource(
            {"kind": "Pod", "lists": [{"resourceVersion": "1", "items": []}], "watches": [[]]}
        )
    )
    outcome: list[BaseException] = []

    def waiting() -> None:
        try:
            ch.until("Pod", "course-x", lambda ps: False, "nothing", timeout=10)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=waiting)
    thread.start()
    while not _wait_watchers("course-x"):
        pass
    stop_watchers("course-x")
    thread.join(5)
    assert len(outcome) == 1
    assert isinstance(outcome[0], ch.WaitFailed)


def _wait_watchers(namespace: str) -> bool:
    from course_helpers.kube._watch import active_watchers

    return any(w.state == "watching" for w in active_watchers(namespace))


# -- rollout status --------------------------------------------------------------------------------


def _ds(rv: str, observed: int, updated: int, available: int, generation: int = 2) -> Obj:
    return {
        "kind": "DaemonSet",
        "metadata": {
            "name": "log-collector",
            "namespace": "ns",
            "uid": "ds-1",
            "resourceVersion": rv,
            "generation": generation,
        },
        "spec": {"updateStrategy": {"type": "RollingUpdate"}},
        "status": {
            "observedGeneration": observed,
            "desiredNumberScheduled": 3,
            "updatedNumberScheduled": updated,
            "numberAvailable": available,
        },
    }


def _rollout_script() -> ScriptedSource:
    return ScriptedSource(
        {
            "kind": "DaemonSet",
            "lists": [
                {"resourceVersion": "10", "items": [_ds("9", 1, 3, 3)]},
                {"resourceVersion": "20", "items": [_ds("19", 2, 3, 1)]},
                {"resourceVersion": "30", "items": [_ds("21", 2, 3, 2)]},
            ],
            "watches": [
                [{"type": "MODIFIED", "object": _ds("11", 2, 1, 1)}, GONE],
                [{"type": "MODIFIED", "object": _ds("21", 2, 3, 2)}, DROP],
                [{"type": "MODIFIED", "object": _ds("31", 2, 3, 3)}],
            ],
        }
    )


def test_rollout_status_waits_through_410_and_a_drop_like_kubectl(
    use: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    source = use(_rollout_script())
    # generation 2 not yet observed at first: "done" counters of generation 1 must not count
    done = asyncio.run(ch.rollout_status("DaemonSet", "log-collector", "ns", timeout=5))
    assert done == 'daemon set "log-collector" successfully rolled out'
    assert repr(done) == 'daemon set "log-collector" successfully rolled out'
    assert done.objects[0]["metadata"]["resourceVersion"] == "31"
    assert [c[2] for c in source.watch_calls] == ["10", "20", "30"]
    assert capsys.readouterr().out == (
        "kubectl rollout status daemonset/log-collector -n ns --timeout=5s\n"
    )


def test_rollout_status_timeout_says_what_kubectl_would_say(use: Any) -> None:
    use(
        ScriptedSource(
            {
                "kind": "DaemonSet",
                "lists": [{"resourceVersion": "10", "items": [_ds("9", 2, 3, 2)]}],
                "watches": [[]],
            }
        )
    )
    with ch.echo(False), pytest.raises(ch.WaitTimeout) as caught:
        ch.blocking.rollout_status("ds", "log-collector", "ns", timeout=0.5)
    assert "DaemonSet log-collector to roll out" in str(caught.value)
    assert "2 of 3 updated pods are available" in str(caught.value)


def test_rollout_status_of_a_missing_object_fails_like_kubectl(use: Any) -> None:
    use(
        ScriptedSource(
            {
                "kind": "StatefulSet",
                "lists": [{"resourceVersion": "1", "items": []}],
                "watches": [[]],
            }
        )
    )
    with ch.echo(False), pytest.raises(ch.WaitFailed, match=r"no StatefulSet 'web'.*NotFound"):
        ch.blocking.rollout_status("StatefulSet", "web", "ns", timeout=5)


def test_rollout_status_refuses_kinds_kubectl_has_no_viewer_for() -> None:
    with pytest.raises(ValueError, match="not Job"):
        asyncio.run(ch.rollout_status("Job", "pi", "ns"))


# -- kubectl wait ----------------------------------------------------------------------------------


def _job(rv: str, *conditions: tuple[str, str]) -> Obj:
    return {
        "kind": "Job",
        "metadata": {"name": "pi", "namespace": "ns", "uid": "j1", "resourceVersion": rv},
        "status": {
            "conditions": [
                {"type": t, "status": s, "reason": "BackoffLimitExceeded", "message": "too many"}
                for t, s in conditions
            ]
        },
    }


def _jobs(*events: Obj) -> ScriptedSource:
    return ScriptedSource(
        {
            "kind": "Job",
            "lists": [{"resourceVersion": "1", "items": [_job("1")]}],
            "watches": [[{"type": "MODIFIED", "object": e} for e in events]],
        }
    )


def test_wait_for_job_complete_prints_kubectl_wait(
    use: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    use(_jobs(_job("2", ("SuccessCriteriaMet", "True")), _job("3", ("Complete", "True"))))
    done = asyncio.run(ch.wait_for("Job", "pi", "ns", "condition=complete", timeout=30))
    assert done == "job.batch/pi condition met"
    assert done.names == ["pi"]
    assert capsys.readouterr().out == (
        "kubectl wait --for=condition=complete job/pi -n ns --timeout=30s\n"
    )


def test_waiting_for_complete_on_a_failed_job_fails_at_once(use: Any) -> None:
    use(_jobs(_job("2", ("Failed", "True"))))
    with ch.echo(False), pytest.raises(ch.WaitFailed, match=r"Job pi is Failed.*BackoffLimit"):
        ch.blocking.wait_for("Job", "pi", "ns", "condition=Complete", timeout=5)


def test_wait_for_condition_failed(use: Any) -> None:
    use(_jobs(_job("2", ("Failed", "True"))))
    with ch.echo(False):
        assert ch.blocking.wait_for("jobs", "pi", "ns", "condition=failed", timeout=5) == (
            "job.batch/pi condition met"
        )


def _pod(name: str, rv: str, ready: bool = False, deleting: bool = False) -> Obj:
    meta: Obj = {"name": name, "namespace": "ns", "uid": f"u-{name}", "resourceVersion": rv}
    meta["labels"] = {"app": "web"}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    status = "True" if ready else "False"
    return {
        "kind": "Pod",
        "metadata": meta,
        "status": {"conditions": [{"type": "Ready", "status": status}]},
    }


def test_wait_for_pods_ready_by_selector_reports_the_order(
    use: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    use(
        ScriptedSource(
            {
                "kind": "Pod",
                "lists": [
                    {"resourceVersion": "1", "items": [_pod("web-0", "1")]},
                    {
                        "resourceVersion": "9",
                        "items": [_pod("web-0", "2", True), _pod("web-1", "8")],
                    },
                ],
                "watches": [
                    [{"type": "MODIFIED", "object": _pod("web-0", "2", True)}, GONE],
                    [
                        {"type": "MODIFIED", "object": _pod("web-1", "10", True)},
                        {"type": "ADDED", "object": _pod("web-2", "11")},
                        {"type": "MODIFIED", "object": _pod("web-2", "12", True)},
                    ],
                ],
            }
        )
    )
    done = asyncio.run(
        ch.wait_for("Pod", None, "ns", "condition=Ready", selector="app=web", count=3, timeout=5)
    )
    assert done.names == ["web-0", "web-1", "web-2"]
    assert str(done).splitlines() == [f"pod/web-{i} condition met" for i in range(3)]
    assert capsys.readouterr().out.startswith(
        "kubectl wait --for=condition=Ready pod -l app=web -n ns --timeout=5s"
    )


def test_wait_for_delete_by_selector_reports_the_order_they_went(use: Any) -> None:
    use(
        ScriptedSource(
            {
                "kind": "Pod",
                "lists": [
                    {"resourceVersion": "1", "items": [_pod(f"web-{i}", "1") for i in range(3)]},
                    {"resourceVersion": "5", "items": [_pod("web-0", "1")]},
                ],
                "watches": [
                    [{"type": "DELETED", "object": _pod("web-2", "2")}, DROP],
                    [{"type": "DELETED", "object": _pod("web-0", "6")}],
                ],
            }
        )
    )
    with ch.echo(False):
        done = ch.blocking.wait_for("pod", None, "ns", "delete", selector="app=web", timeout=5)
    # web-1 went while the connection was down: the re-list tells
    assert done.names == ["web-2", "web-1", "web-0"]
    assert done.objects == []


def test_wait_for_delete_by_selector_with_nothing_left_says_so(use: Any) -> None:
    # kubectl prints nothing here; a notebook cell ending in this wait would show an
    # empty value, so the answer says that nothing matched.
    use(
        ScriptedSource(
            {"kind": "Pod", "lists": [{"resourceVersion": "1", "items": []}], "watches": [[]]}
        )
    )
    with ch.echo(False):
        done = ch.blocking.wait_for(
            "Pod", None, "ns", "delete", selector="job-name=render-frames", timeout=5
        )
    assert done == "no pods with job-name=render-frames left (none to wait for)"
    assert done.names == []
    assert repr(done) == str(done)


def test_wait_for_delete_of_a_named_object(use: Any) -> None:
    use(
        ScriptedSource(
            {
                "kind": "Pod",
                "lists": [{"resourceVersion": "1", "items": [_pod("web-0", "1")]}],
                "watches": [[{"type": "DELETED", "object": _pod("web-0", "2")}]],
            }
        )
    )
    with ch.echo(False):
        assert ch.blocking.wait_for("Pod", "web-0", "ns", "delete", timeout=5) == (
            "pod/web-0 condition met"
        )


def test_wait_for_needs_a_name_or_a_selector() -> None:
    with pytest.raises(ValueError, match="either a name or selector"):
        ch.blocking.wait_for("Pod", None, "ns")


class _GatedSource:
    """Lists nothing; its watch sends a Ready pod only once ``gate`` is set, then idles."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.streams: list[ScriptedStream] = []

    def list(self, kind: str, namespace: str | None, **_: Any) -> tuple[list[Obj], str]:
        return [], "1"

    def watch(self, kind: str, namespace: str | None, **_: Any) -> Any:
        source = self

        class Stream(ScriptedStream):
            def __iter__(self) -> Iterator[Obj]:
                if source.gate.wait(5) and not self.closed.is_set():
                    yield {"type": "ADDED", "object": _pod("web-0", "2", ready=True)}
                self.closed.wait(5)

        stream = Stream([], block=True, on_idle=threading.Event())
        self.streams.append(stream)
        return stream


def test_an_awaited_wait_lets_other_tasks_run_meanwhile(use: Any) -> None:
    """The property the live views need: while a cell awaits, the loop runs their tasks.

    The condition is only met after another task on the same loop has run five
    times (it opens the gate), so a wait that blocked the loop would time out.
    """
    source = use(_GatedSource())

    async def lesson() -> tuple[int, str]:
        ticks = 0

        async def view() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1
                if ticks == 5:
                    source.gate.set()

        drawing = asyncio.create_task(view())
        try:
            with ch.echo(False):
                done = await ch.wait_for("Pod", None, "ns", selector="app=web", timeout=5)
        finally:
            drawing.cancel()
        return ticks, str(done)

    ticks, done = asyncio.run(lesson())
    assert ticks >= 5
    assert done == "pod/web-0 condition met"


# -- the older blocking waits ---------------------------------------------------------------


def test_job_finished_and_pods_ready_ride_the_same_watcher(use: Any) -> None:
    use(_jobs(_job("2", ("Complete", "True"))))
    assert ch.job_finished("ns", "pi", timeout=5) == "Complete"
    use(
        ScriptedSource(
            {
                "kind": "Pod",
                "lists": [{"resourceVersion": "1", "items": [_pod("a", "1", True)]}],
                "watches": [[{"type": "ADDED", "object": _pod("b", "2", True)}]],
            }
        )
    )
    assert _names(ch.pods_ready("ns", 2, timeout=5)) == {"a", "b"}


def test_namespace_gone_and_nodes_ready(use: Any) -> None:
    namespace = {
        "metadata": {"name": "course-x", "uid": "n", "resourceVersion": "1"},
        "status": {"phase": "Terminating"},
    }
    use(
        ScriptedSource(
            {
                "kind": "Namespace",
                "lists": [
                    {"resourceVersion": "1", "items": [namespace]},
                    {"resourceVersion": "2", "items": [namespace]},
                ],
                "watches": [[GONE], [{"type": "DELETED", "object": namespace}]],
            }
        )
    )
    _waiting.namespace_gone(None, "course-x", timeout=5)
    node = {"metadata": {"name": "worker-4", "uid": "w", "resourceVersion": "1"}}
    ready = {**node, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    use(
        ScriptedSource(
            {
                "kind": "Node",
                "lists": [
                    {"resourceVersion": "1", "items": [node]},
                    {"resourceVersion": "3", "items": [ready]},
                ],
                "watches": [[DROP], []],
            }
        )
    )
    _waiting.nodes_ready(None, ["worker-4"], timeout=5)


# -- --for values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "obj", "met"),
    [
        ("condition=Ready", _pod("a", "1", True), True),
        ("condition=ready=FALSE", _pod("a", "1", False), True),
        ("jsonpath={.status.conditions[0].status}=True", _pod("a", "1", True), True),
        ("jsonpath={.metadata.labels.app}", _pod("a", "1"), True),
        ("jsonpath={.status.phase}=Running", _pod("a", "1"), False),
        ("create", _pod("a", "1"), True),
    ],
)
def test_condition_forms(text: str, obj: Obj, met: bool) -> None:
    assert Condition.parse(text).met(obj) is met


def test_a_condition_of_an_older_generation_does_not_count() -> None:
    obj = {
        "metadata": {"generation": 3},
        "status": {"conditions": [{"type": "Ready", "status": "True", "observedGeneration": 2}]},
    }
    assert not Condition.parse("condition=Ready").met(obj)


def test_bad_for_values_say_what_works() -> None:
    with pytest.raises(ValueError, match="condition=Ready"):
        Condition.parse("ready")
    with pytest.raises(ValueError, match="dotted fields"):
        Condition.parse('jsonpath={.status.conditions[?(@.type=="Ready")].status}=True')


# -- lists of names ------------------------------------------------------------------------------


def test_wait_for_a_list_of_names_waits_for_those_not_created_yet(use: Any) -> None:
    use(
        ScriptedSource(
            {
                "kind": "Pod",
                "lists": [
                    {
                        "resourceVersion": "1",
                        "items": [_pod(f"web-{i}", "1", True) for i in range(3)],
                    }
                ],
                "watches": [
                    [
                        {"type": "ADDED", "object": _pod("web-3", "2")},
                        {"type": "MODIFIED", "object": _pod("web-3", "3", True)},
                        {"type": "ADDED", "object": _pod("web-4", "4")},
                        {"type": "MODIFIED", "object": _pod("web-4", "5", True)},
                    ]
                ],
            }
        )
    )
    with ch.echo(False):
        done = ch.blocking.wait_for("Pod", ["web-4", "web-3"], "ns", timeout=5)
    assert done.names == ["web-3", "web-4"]
    assert str(done) == "pod/web-3 condition met\npod/web-4 condition met"


def test_wait_for_delete_of_a_list_says_the_order_they_went(
    use: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    use(
        ScriptedSource(
            {
                "kind": "Pod",
                "lists": [
                    {"resourceVersion": "1", "items": [_pod(f"web-{i}", "1") for i in range(5)]},
                    {"resourceVersion": "9", "items": [_pod(f"web-{i}", "1") for i in range(2)]},
                ],
                "watches": [
                    [
                        {"type": "MODIFIED", "object": _pod("web-4", "2", deleting=True)},
                        {"type": "DELETED", "object": _pod("web-4", "3", deleting=True)},
                        GONE,
                    ],
                    [],
                ],
            }
        )
    )
    done = asyncio.run(ch.wait_for("Pod", ["web-4", "web-3", "web-2"], "ns", "delete", timeout=5))
    # web-3 and web-2 went while the watch was expired: the re-list tells, in the list's order
    assert done.names == ["web-4", "web-3", "web-2"]
    assert (
        "kubectl wait --for=delete pod/web-4 pod/web-3 pod/web-2 -n ns" in capsys.readouterr().out
    )


def test_a_pod_being_deleted_is_not_ready_again(use: Any) -> None:
    use(
        ScriptedSource(
            {
                "kind": "Pod",
                "lists": [
                    {"resourceVersion": "1", "items": [_pod("web-1", "1", True, deleting=True)]}
                ],
                "watches": [
                    [
                        {"type": "DELETED", "object": _pod("web-1", "2", True, deleting=True)},
                        {"type": "ADDED", "object": _pod("web-1", "3")},
                        {"type": "MODIFIED", "object": _pod("web-1", "4", True)},
                    ]
                ],
            }
        )
    )
    with ch.echo(False):
        done = ch.blocking.wait_for("Pod", ["web-1"], "ns", timeout=5)
    assert done.objects[0]["metadata"]["resourceVersion"] == "4"


class _FieldRecordingSource(ScriptedSource):
    """A scripted source that remembers the field selectors it was asked for."""

    def __init__(self, script: Obj) -> None:
        super().__init__(script)
        self.field_selectors: list[str | None] = []

    def list(
        self,
        kind: str,
        namespace: str | None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> tuple[list[Obj], str]:
        self.field_selectors.append(field_selector)
        return super().list(
            kind, namespace, label_selector=label_selector, field_selector=field_selector
        )


def test_wait_for_by_field_selector_lists_with_it_and_prints_it(
    use: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    source = use(
        _FieldRecordingSource(
            {
                "kind": "Pod",
                "lists": [{"resourceVersion": "1", "items": [_pod("web-0", "1")]}],
                "watches": [[{"type": "DELETED", "object": _pod("web-0", "2")}]],
            }
        )
    )
    done = ch.blocking.wait_for(
        "Pod", None, "ns", "delete", field_selector="spec.nodeName=worker-new", timeout=5
    )
    assert done.names == ["web-0"]
    assert "spec.nodeName=worker-new" in source.field_selectors
    assert capsys.readouterr().out.startswith(
        "kubectl wait --for=delete pod --field-selector spec.nodeName=worker-new -n ns"
    )


def _ready_pod(name: str, since: str) -> Obj:
    pod = _pod(name, "5", True)
    pod["status"]["conditions"][0]["lastTransitionTime"] = since
    return pod


@pytest.mark.parametrize("by", ["list", "selector"])
def test_pods_already_ready_when_the_wait_looks_are_ordered_by_when_they_got_ready(
    use: Any, by: str
) -> None:
    # The wait starts late (a busy machine): all three are Ready at its first list.
    # The order comes from the cluster's Ready times, not from the list's order.
    items = [
        _ready_pod("web-2", "2026-01-01T00:00:07Z"),
        _ready_pod("web-0", "2026-01-01T00:00:03Z"),
        _ready_pod("web-1", "2026-01-01T00:00:05Z"),
    ]
    use(
        ScriptedSource(
            {"kind": "Pod", "lists": [{"resourceVersion": "5", "items": items}], "watches": []}
        )
    )
    if by == "list":
        done = asyncio.run(ch.wait_for("Pod", ["web-2", "web-1", "web-0"], "ns", timeout=5))
    else:
        done = asyncio.run(ch.wait_for("Pod", None, "ns", selector="app=web", count=3, timeout=5))
    assert done.names == ["web-0", "web-1", "web-2"]


def test_service_account_exists_waits_for_the_controller_to_make_it(use: Any) -> None:
    account = {"metadata": {"name": "default", "uid": "s", "resourceVersion": "2"}}
    use(
        ScriptedSource(
            {
                "kind": "ServiceAccount",
                "lists": [{"resourceVersion": "1", "items": []}],
                "watches": [[{"type": "ADDED", "object": account}]],
            }
        )
    )
    _waiting.service_account_exists(None, "course-x", timeout=5)
    use(
        ScriptedSource(
            {
                "kind": "ServiceAccount",
                "lists": [{"resourceVersion": "1", "items": []}],
                "watches": [[]],
            }
        )
    )
    with pytest.raises(_waiting.WaitTimeout, match="ServiceAccount default in course-x"):
        _waiting.service_account_exists(None, "course-x", timeout=0.5)
