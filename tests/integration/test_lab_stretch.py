"""Lab 06's stretch exercises on the embedded cluster: the real DaemonSet, Job and StatefulSet
controllers pass the reference solutions and the checks name what is wrong in wrong answers."""

from __future__ import annotations

import re

import pytest
from lab_support import solution_with

import course_helpers as ch

pytestmark = pytest.mark.integration
CheckFailed = ch.lab.CheckFailed


ROLLING = "    type: RollingUpdate\n    rollingUpdate:\n      maxUnavailable: 2\n"


# -- exercise 6 -----------------------------------------------------------------------------


def test_daemonset_rollout_solution_passes(ns: str) -> None:
    ch.lab.start(6, ns)
    with pytest.raises(CheckFailed, match=r"maxUnavailable 1 \(1 is the default\).*busybox:1.36"):
        ch.lab.check_daemonset_rollout(ns, timeout=0)
    ch.lab.apply_solution(6, ns)
    message = ch.lab.check_daemonset_rollout(ns)
    assert "runs busybox:1.37 on all 3 nodes (updatedNumberScheduled 3/3)" in message


def test_daemonset_rollout_without_its_starting_point_says_how(ns: str) -> None:
    with pytest.raises(CheckFailed, match=r"No DaemonSet named 'node-agent'.*ch.lab.start\(6"):
        ch.lab.check_daemonset_rollout(ns)


def test_daemonset_rollout_on_delete_is_wrong(ns: str) -> None:
    ch.lab.start(6, ns)
    ch.apply(solution_with(6, ROLLING, "    type: OnDelete\n"), ns)
    with pytest.raises(CheckFailed, match=r"updateStrategy OnDelete: its pods get the new"):
        ch.lab.check_daemonset_rollout(ns)


def test_daemonset_rollout_with_the_default_max_unavailable_is_wrong(ns: str) -> None:
    ch.lab.start(6, ns)
    ch.apply(solution_with(6, "maxUnavailable: 2", "maxUnavailable: 1"), ns)
    with pytest.raises(CheckFailed, match=r"maxUnavailable 1 \(1 is the default\); set .*: 2"):
        ch.lab.check_daemonset_rollout(ns)


# -- exercise 7 -----------------------------------------------------------------------------


def test_indexed_job_solution_passes(ns: str) -> None:
    ch.lab.apply_solution(7, ns)
    assert "Complete: indexes 0-3 succeeded, 2 at a time" in ch.lab.check_indexed_job(ns)


def test_indexed_job_not_indexed_is_wrong(ns: str) -> None:
    ch.apply(solution_with(7, "  completionMode: Indexed\n", ""), ns)
    with pytest.raises(CheckFailed, match=r"completionMode NonIndexed.*cannot change in place"):
        ch.lab.check_indexed_job(ns)


def test_indexed_job_fails_at_once_on_exit_code_42(ns: str) -> None:
    failing = solution_with(
        7, "course.kwok/run-for: 2s", 'course.kwok/run-for: 1s\n        course.kwok/exit-code: "42"'
    )
    ch.apply(failing, ns)
    with pytest.raises(
        CheckFailed,
        match=r"Failed by its podFailurePolicy: Container shard for pod \S+ failed with exit "
        r"code 42 matching FailJob rule at index 0",
    ):
        ch.lab.check_indexed_job(ns, timeout=60)


def test_indexed_job_ignores_exit_code_75(ns: str) -> None:
    retried = solution_with(
        7, "course.kwok/run-for: 2s", 'course.kwok/run-for: 1s\n        course.kwok/exit-code: "75"'
    )
    ch.apply(retried, ns)
    # Its pods keep failing with 75; the Ignore rule keeps replacing them, uncounted.
    with pytest.raises(
        CheckFailed,
        match=r"not Complete yet: indexes done none of 0-3.*ignored by the podFailurePolicy "
        r"\(not counted against backoffLimit: status.failed is 0\)",
    ):
        ch.lab.check_indexed_job(ns, timeout=20)


# -- exercise 8 -----------------------------------------------------------------------------


def test_statefulset_canary_solution_passes(ns: str) -> None:
    ch.lab.apply_solution(8, ns)
    message = ch.lab.check_statefulset_canary(ns)
    assert re.search(r"kv-2, kv-3 run the new revision kv-\w+, kv-0, kv-1 stay on kv-\w+", message)


def test_statefulset_canary_without_version_one_is_no_canary(ns: str) -> None:
    ch.apply(str(ch.lab.solution(8)), ns)
    with pytest.raises(CheckFailed, match=r"runs the same revision \(kv-\w+\): there is no canary"):
        ch.lab.check_statefulset_canary(ns)


def test_statefulset_canary_without_a_partition_is_wrong(ns: str) -> None:
    ch.lab.start(8, ns)
    ch.apply(solution_with(8, "partition: 2", "partition: 0"), ns)
    with pytest.raises(CheckFailed, match=r"partition 0 \(the default: every pod is updated\)"):
        ch.lab.check_statefulset_canary(ns)


def test_progress_keeps_to_the_core_unless_asked(ns: str) -> None:
    ch.lab.apply_solution(7, ns)
    ch.lab.check(7, ns)
    assert list(ch.lab.progress(ns)["exercise"]) == [1, 2, 3, 4, 5]
    table = ch.lab.progress(ns, stretch=True)
    assert list(table["exercise"]) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert list(table["result"][5:]) == ["✗ not yet", "✓ passes", "✗ not yet"]
