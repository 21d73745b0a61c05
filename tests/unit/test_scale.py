"""ch.scale records a StatefulSet's scaling in the order the watch delivered it."""

from __future__ import annotations

from typing import Any

import pytest

from course_helpers.errors import CourseError
from course_helpers.kube._replace import Replacement
from course_helpers.kube._scale import scale_steps

Obj = dict[str, Any]
WEB: Obj = {"spec": {"selector": {"matchLabels": {"app": "web"}}, "replicas": 3}}


def pod(name: str, ready: bool = True, leaving: bool = False) -> Obj:
    meta: Obj = {"name": name, "labels": {"app": "web"}}
    if leaving:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    status = {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    return {"metadata": meta, "status": status}


def pods(*names: str, **states: str) -> list[Obj]:
    """Pods by name; ``states`` marks some ``starting`` (not Ready) or ``leaving``."""
    return [
        pod(
            n,
            ready=states.get(n.replace("-", "_")) != "starting",
            leaving=states.get(n.replace("-", "_")) == "leaving",
        )
        for n in names
    ]


def test_scale_down_records_each_pod_as_it_goes_highest_first() -> None:
    steps, selector = scale_steps("web", WEB, 2)
    assert selector == "app=web"
    assert steps.check(pods("web-0", "web-1", "web-2", "web-3", "web-4")) is None
    steps.arm()
    script = [
        pods("web-0", "web-1", "web-2", "web-3", "web-4", web_4="leaving"),
        pods("web-0", "web-1", "web-2", "web-3"),
        pods("web-0", "web-1", "web-2", "web-3", web_3="leaving"),
        pods("web-0", "web-1", "web-2"),
        pods("web-0", "web-1", "web-2", web_2="leaving"),
    ]
    assert all(steps.check(state) is None for state in script)
    done = steps.check(pods("web-0", "web-1"))
    assert done is not None
    assert done.gone == ["web-4", "web-3", "web-2"] and done.ready == []
    assert str(done).splitlines() == [
        "statefulset.apps/web scaled",
        "pod/web-4 deleted",
        "pod/web-3 deleted",
        "pod/web-2 deleted",
    ]


def test_scale_up_records_the_pods_that_became_ready_in_order() -> None:
    steps, _ = scale_steps("web", WEB, 5)
    steps.check(pods("web-0", "web-1", "web-2"))
    steps.arm()
    assert steps.check(pods("web-0", "web-1", "web-2", "web-3", web_3="starting")) is None
    assert steps.check(pods("web-0", "web-1", "web-2", "web-3")) is None
    assert steps.check(pods("web-0", "web-1", "web-2", "web-3", "web-4", web_4="starting")) is None
    done = steps.check(pods("web-0", "web-1", "web-2", "web-3", "web-4"))
    assert done is not None and done.ready == ["web-3", "web-4"] and done.gone == []


def test_what_happened_before_the_change_is_not_recorded() -> None:
    steps, _ = scale_steps("web", WEB, 3)
    assert steps.check(pods("web-0", "web-1", "web-2", web_2="starting")) is None
    assert steps.check(pods("web-0", "web-1", "web-2")) is None  # not armed: not the scaling's
    steps.arm()
    done = steps.check(pods("web-0", "web-1", "web-2"))
    assert done is not None and done.ready == [] and done.gone == []


def test_a_pod_that_is_still_terminating_keeps_the_wait_going() -> None:
    steps, _ = scale_steps("web", WEB, 1)
    steps.check(pods("web-0", "web-1"))
    steps.arm()
    assert steps.check(pods("web-0", "web-1", web_1="leaving")) is None
    done = steps.check(pods("web-0"))
    assert done is not None and done.gone == ["web-1"]


def test_ordinals_start_and_selector_expressions() -> None:
    shifted = {"spec": {**WEB["spec"], "ordinals": {"start": 5}}}
    steps, _ = scale_steps("web", shifted, 2)
    assert steps.wanted == {"web-5", "web-6"}
    expressions = {"spec": {"selector": {"matchExpressions": [{"key": "app"}]}}}
    with pytest.raises(CourseError, match="matchLabels"):
        scale_steps("web", expressions, 1)


def test_replace_pod_waits_for_a_new_uid_not_the_old_ready_pod() -> None:
    follow = Replacement("web-1")
    old = {**pod("web-1"), "metadata": {"name": "web-1", "uid": "old"}}
    assert follow.check([old]) is None  # not armed yet
    follow.arm([old])
    assert follow.check([old]) is None  # the old pod is still Ready: not the answer
    leaving = {**old, "metadata": {**old["metadata"], "deletionTimestamp": "2026-01-01T00:00:00Z"}}
    assert follow.check([leaving]) is None
    starting = {**pod("web-1", ready=False), "metadata": {"name": "web-1", "uid": "new"}}
    assert follow.check([starting]) is None
    new = {**pod("web-1"), "metadata": {"name": "web-1", "uid": "new"}}
    done = follow.check([new])
    assert done is not None and [o["metadata"]["uid"] for o in done.objects] == ["old", "new"]
    assert str(done) == "pod/web-1 deleted\npod/web-1 condition met"


def test_replace_pod_of_a_missing_pod_says_so() -> None:
    with pytest.raises(CourseError, match="no pod web-9"):
        Replacement("web-9").arm([])
