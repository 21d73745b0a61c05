"""Lab 06's stretch exercises without a cluster: every fault named, right answers accepted."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

import course_helpers as ch
from course_helpers.lab import _stretch as rules

Obj = dict[str, Any]


def _doc(name: str) -> Obj:
    (doc,) = yaml.safe_load_all(ch.manifest(name))
    return dict(doc)


def _pod(name: str, node: str, image: str, ready: bool = True, revision: str = "") -> Obj:
    return {
        "metadata": {"name": name, "labels": {"controller-revision-hash": revision}},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": image}]},
        "status": {"conditions": [{"type": "Ready", "status": str(ready)}]},
    }


def test_stretch_exercises_are_registered_after_the_core_five() -> None:
    assert list(ch.lab.EXERCISES) == [1, 2, 3, 4, 5, 6, 7, 8]
    stretch = [n for n, e in ch.lab.EXERCISES.items() if e.stretch]
    assert stretch == [6, 7, 8]
    assert all(ch.lab.EXERCISES[n].part.startswith("Stretch: ") for n in stretch)
    assert ch.lab.EXERCISES[6].start and ch.lab.EXERCISES[8].start
    assert ch.lab.EXERCISES[7].start is None
    with pytest.raises(ValueError, match="no starting point"):
        ch.lab.start(7, "course-x")


def test_starting_points_differ_from_the_solutions_only_where_the_exercise_asks() -> None:
    for start, solution in (
        ("lab-daemonset-agent-v1", "lab-daemonset-rolling"),
        ("lab-statefulset-canary-v1", "lab-statefulset-canary"),
    ):
        old, new = _doc(start), _doc(solution)
        assert old["metadata"]["name"] == new["metadata"]["name"]
        assert old["spec"]["selector"] == new["spec"]["selector"]
        assert rules._images(old["spec"]["template"]) == [rules.OLD_IMAGE]
        assert rules._images(new["spec"]["template"]) == [rules.NEW_IMAGE]


# -- exercise 6 -----------------------------------------------------------------------------


def test_daemonset_update_accepts_the_solution_and_names_every_fault() -> None:
    spec = _doc("lab-daemonset-rolling")["spec"]
    assert rules.daemonset_update_problem(spec) is None
    assert (
        rules.daemonset_update_problem(
            {
                **spec,
                "updateStrategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": "2"},
                },
            }
        )
        is None
    )
    v1 = _doc("lab-daemonset-agent-v1")["spec"]
    found = rules.daemonset_update_problem(v1) or ""
    assert "maxUnavailable 1 (1 is the default)" in found and "runs busybox:1.36" in found
    found = rules.daemonset_update_problem({**spec, "updateStrategy": {"type": "OnDelete"}}) or ""
    assert "updateStrategy OnDelete" in found and "only when you delete them" in found
    odd = {
        **spec,
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "66%"}},
    }
    assert "maxUnavailable 66%; set" in (rules.daemonset_update_problem(odd) or "")


def _agent(updated: int, available: int, generation: int = 2, observed: int = 2) -> Obj:
    ds = _doc("lab-daemonset-rolling")
    ds["metadata"]["generation"] = generation
    ds["status"] = {
        "observedGeneration": observed,
        "desiredNumberScheduled": 3,
        "updatedNumberScheduled": updated,
        "numberAvailable": available,
    }
    return ds


def test_daemonset_rollout_names_the_nodes_left_behind() -> None:
    new, old = rules.NEW_IMAGE, rules.OLD_IMAGE
    done = [_pod(f"a{i}", f"worker-{i}", new) for i in (1, 2, 3)]
    assert rules.daemonset_rollout_problem(_agent(3, 3), done) is None
    assert "not seen the latest change" in (
        rules.daemonset_rollout_problem(_agent(3, 3, observed=1), done) or ""
    )
    half = [
        _pod("a1", "worker-1", new, ready=False),
        _pod("a2", "worker-2", old),
        _pod("a3", "worker-3", old),
    ]
    found = rules.daemonset_rollout_problem(_agent(1, 2), half) or ""
    assert "1/3 nodes run the new template, 2 available" in found
    assert "Still on the old template: worker-2 (busybox:1.36), worker-3" in found
    assert "New pods not Ready yet on worker-1" in found
    on_delete = _agent(1, 3)
    on_delete["spec"]["updateStrategy"] = {"type": "OnDelete"}
    assert "delete those pods" in (rules.daemonset_rollout_problem(on_delete, half) or "")


# -- exercise 7 -----------------------------------------------------------------------------


def test_indexed_job_spec_accepts_the_solution_and_lists_every_fault() -> None:
    spec = _doc("lab-job-indexed")["spec"]
    assert rules.indexed_job_spec_problem(spec) is None
    wrong = copy.deepcopy(spec)
    del wrong["completionMode"]
    wrong["parallelism"] = 4
    wrong["podFailurePolicy"]["rules"] = wrong["podFailurePolicy"]["rules"][:1]
    wrong["template"]["spec"]["restartPolicy"] = "OnFailure"
    found = rules.indexed_job_spec_problem(wrong) or ""
    for part in (
        "completionMode NonIndexed",
        "runs 4 pod(s) at a time",
        "action: Ignore for exit code 75",
        "restartPolicy: Never",
        "cannot change in place",
    ):
        assert part in found, part
    assert "FailJob for exit code 42" not in found
    other = copy.deepcopy(spec)
    other["podFailurePolicy"]["rules"][0]["onExitCodes"]["containerName"] = "main"
    assert "names container 'main'" in (rules.indexed_job_spec_problem(other) or "")
    anyone = copy.deepcopy(spec)
    del anyone["podFailurePolicy"]["rules"][0]["onExitCodes"]["containerName"]
    assert rules.indexed_job_spec_problem(anyone) is None  # any container is fine
    not_in = copy.deepcopy(spec)
    not_in["podFailurePolicy"]["rules"][1]["onExitCodes"]["operator"] = "NotIn"
    assert "exit code 75" in (rules.indexed_job_spec_problem(not_in) or "")


def _job(status: Obj) -> Obj:
    return {**_doc("lab-job-indexed"), "status": status}


def test_indexed_job_outcome() -> None:
    complete = {
        "conditions": [{"type": "Complete", "status": "True"}],
        "completedIndexes": "0-3",
        "succeeded": 4,
    }
    assert rules.indexed_job_outcome_problem(_job(complete), []) is None
    running = {"completedIndexes": "0,2", "active": 2, "failed": 0}
    failed_pod = {"metadata": {"name": "p"}, "status": {"phase": "Failed"}}
    found = rules.indexed_job_outcome_problem(_job(running), [failed_pod, failed_pod]) or ""
    assert "indexes done 0,2 of 0-3, 2 active" in found
    assert "2 failed pod(s) were ignored by the podFailurePolicy" in found
    by_policy = {
        "failed": 1,
        "conditions": [
            {
                "type": "FailureTarget",
                "status": "True",
                "reason": "PodFailurePolicy",
                "message": "Container shard for pod ns/shards-0-x failed with exit code 42 "
                "matching FailJob rule at index 0",
            }
        ],
    }
    with pytest.raises(ch.lab.CheckFailed, match=r"Failed by its podFailurePolicy: .*exit code 42"):
        rules.indexed_job_outcome_problem(_job(by_policy), [])
    backoff = {
        "failed": 4,
        "conditions": [
            {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "m"}
        ],
    }
    with pytest.raises(ch.lab.CheckFailed, match=r"Failed \(BackoffLimitExceeded: m\); 4 pod"):
        rules.indexed_job_outcome_problem(_job(backoff), [])


# -- exercise 8 -----------------------------------------------------------------------------


def test_canary_spec_names_every_fault() -> None:
    spec = _doc("lab-statefulset-canary")["spec"]
    assert rules.canary_spec_problem(spec) is None
    found = rules.canary_spec_problem(_doc("lab-statefulset-canary-v1")["spec"]) or ""
    assert "partition 0 (the default: every pod is updated)" in found
    assert "runs busybox:1.36" in found
    found = (
        rules.canary_spec_problem({**spec, "replicas": 3, "updateStrategy": {"type": "OnDelete"}})
        or ""
    )
    assert "replicas: 3; keep 4" in found and "updateStrategy OnDelete" in found


def _kv(update: str, current: str) -> Obj:
    sts = _doc("lab-statefulset-canary")
    sts["metadata"]["generation"] = 2
    sts["status"] = {"observedGeneration": 2, "updateRevision": update, "currentRevision": current}
    return sts


def test_canary_revisions_by_ordinal() -> None:
    img = rules.NEW_IMAGE
    right = [_pod(f"kv-{i}", "w", img, revision="new" if i >= 2 else "old") for i in range(4)]
    assert rules.canary_problem(_kv("new", "old"), right) is None
    assert "there is no canary" in (rules.canary_problem(_kv("new", "new"), right) or "")
    everyone = [_pod(f"kv-{i}", "w", img, revision="new") for i in range(4)]
    found = rules.canary_problem(_kv("new", "old"), everyone) or ""
    assert "kv-0 runs revision new, not the old (currentRevision) old." in found
    assert "kv-1 runs revision new" in found and "kv-2" not in found
    halfway = [*right[:3], _pod("kv-3", "w", img, ready=False, revision="new")]
    assert "kv-3 is not Ready yet" in (rules.canary_problem(_kv("new", "old"), halfway) or "")
    assert "kv-3 does not exist yet" in (rules.canary_problem(_kv("new", "old"), right[:3]) or "")


def test_docstring_examples() -> None:
    import doctest

    result = doctest.testmod(rules)
    assert result.attempted >= 3 and result.failed == 0
