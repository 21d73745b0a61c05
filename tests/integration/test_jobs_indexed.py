"""Indexed Jobs, pod failure policies, retries per index and success policies, live.

The course's manifests run on the embedded cluster under the real Job controller
(v1.36); kwok plays each index's exit code and run time from the pod's
``course.kwok/*-index-<i>`` annotations, as the containers' commands would.
"""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest

import course_helpers as ch

pytestmark = pytest.mark.integration
Obj = dict[str, Any]
INDEX = "batch.kubernetes.io/job-completion-index"


def kubectl(*args: str) -> str:
    done = subprocess.run(["kubectl", *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


def conditions(job: Obj) -> list[tuple[str, str, str]]:
    """Return the Job's True conditions as (type, reason, message)."""
    return [
        (c["type"], c.get("reason", ""), c.get("message", ""))
        for c in job["status"].get("conditions", [])
        if c["status"] == "True"
    ]


def finished(namespace: str, name: str) -> tuple[str, Obj, list[Obj]]:
    state = ch.job_finished(namespace, name, timeout=120)
    job = ch.get("Job", name, namespace)
    assert job is not None
    pods = ch.list_objects("Pod", namespace, label_selector=f"batch.kubernetes.io/job-name={name}")
    return state, job, pods


def by_index(pods: list[Obj]) -> dict[int, list[str]]:
    """Return each index's pods' phases, oldest pod first."""
    out: dict[int, list[str]] = {}
    for pod in sorted(pods, key=lambda p: p["metadata"]["creationTimestamp"]):
        out.setdefault(int(pod["metadata"]["annotations"][INDEX]), []).append(
            pod["status"]["phase"]
        )
    return out


def test_an_indexed_job_names_pods_and_sets_their_environment_by_index(namespace: str) -> None:
    ch.apply("job-indexed", namespace)
    state, job, pods = finished(namespace, "render-scenes")
    assert state == "Complete"
    assert job["status"]["completedIndexes"] == "0-4"
    assert [c[:2] for c in conditions(job)] == [
        ("SuccessCriteriaMet", "CompletionsReached"),
        ("Complete", "CompletionsReached"),
    ]
    for pod in pods:
        index = pod["metadata"]["labels"][INDEX]
        assert pod["metadata"]["annotations"][INDEX] == index
        assert re.fullmatch(rf"render-scenes-{index}-[a-z0-9]{{5}}", pod["metadata"]["name"])
        env = pod["spec"]["containers"][0]["env"]
        assert env == [
            {
                "name": "JOB_COMPLETION_INDEX",
                "valueFrom": {
                    "fieldRef": {"apiVersion": "v1", "fieldPath": f"metadata.labels['{INDEX}']"}
                },
            }
        ]
    assert sorted(by_index(pods)) == [0, 1, 2, 3, 4]
    selector = f"batch.kubernetes.io/job-name=render-scenes,{INDEX}=3"
    assert kubectl("logs", "-n", namespace, "-l", selector) == "rendering scene 3\n"


def test_fail_job_ends_the_job_at_the_first_matching_exit_code(namespace: str) -> None:
    ch.apply("job-pod-failure-policy", namespace)
    state, job, pods = finished(namespace, "import-shards")
    assert state == "Failed"
    (target, reason, message), (failed, failed_reason, _) = conditions(job)
    assert (target, reason, failed, failed_reason) == (
        "FailureTarget",
        "PodFailurePolicy",
        "Failed",
        "PodFailurePolicy",
    )
    assert re.fullmatch(
        rf"Container import for pod {namespace}/import-shards-2-[a-z0-9]{{5}} failed with exit "
        "code 42 matching FailJob rule at index 0",
        message,
    )
    # parallelism 1: 0 and 1 succeeded, 2 failed once (not backoffLimit + 1 times), 3 never ran
    assert by_index(pods) == {0: ["Succeeded"], 1: ["Succeeded"], 2: ["Failed"]}
    assert (job["status"]["succeeded"], job["status"]["failed"]) == (2, 1)
    table = ch.job_pods(namespace, "import-shards")
    assert table[["index", "phase", "exit_code"]].values.tolist() == [
        [0, "Succeeded", 0],
        [1, "Succeeded", 0],
        [2, "Failed", 42],
    ]
    assert table["index_failures"].isna().all(), "counted per index only with backoffLimitPerIndex"
    assert job["status"]["completedIndexes"] == "0,1"
    selector = f"batch.kubernetes.io/job-name=import-shards,{INDEX}=2"
    assert kubectl("logs", "-n", namespace, "-l", selector).splitlines() == [
        "importing shard 2",
        "invalid record on line 7",
    ]


def test_a_failed_index_lets_the_others_finish_and_ignored_failures_do_not_count(
    namespace: str,
) -> None:
    ch.apply("job-backoff-per-index", namespace)
    state, job, pods = finished(namespace, "transcode")
    assert state == "Failed"
    assert [c[:2] for c in conditions(job)] == [
        ("FailureTarget", "FailedIndexes"),
        ("Failed", "FailedIndexes"),
    ]
    status = job["status"]
    assert (status["completedIndexes"], status["failedIndexes"]) == ("0,1,3-5", "2")
    # index 2's two failures count; index 1's first (exit 75) was ignored
    assert (status["succeeded"], status["failed"]) == (5, 2)
    assert by_index(pods) == {
        0: ["Succeeded"],
        1: ["Failed", "Succeeded"],
        2: ["Failed", "Failed"],
        3: ["Succeeded"],
        4: ["Succeeded"],
        5: ["Succeeded"],
    }
    counts = sorted(
        (
            int(p["metadata"]["annotations"][INDEX]),
            p["metadata"]["annotations"].get("batch.kubernetes.io/job-index-failure-count"),
            p["metadata"]["annotations"].get(
                "batch.kubernetes.io/job-index-ignored-failure-count", "-"
            ),
        )
        for p in pods
        if p["metadata"]["annotations"][INDEX] in ("1", "2")
    )
    assert counts == [(1, "0", "-"), (1, "0", "1"), (2, "0", "-"), (2, "1", "-")]
    table = ch.job_pods(namespace, "transcode")
    assert table.drop(columns="pod").values.tolist() == [
        [0, "Succeeded", 0, 0, 0],
        [1, "Failed", 75, 0, 0],
        [1, "Succeeded", 0, 0, 1],
        [2, "Failed", 1, 0, 0],
        [2, "Failed", 1, 1, 0],
        [3, "Succeeded", 0, 0, 0],
        [4, "Succeeded", 0, 0, 0],
        [5, "Succeeded", 0, 0, 0],
    ]
    assert all(
        re.fullmatch(rf"transcode-{i}-\w{{5}}", p)
        for i, p in zip(table["index"], table["pod"], strict=True)
    )
    selector = f"batch.kubernetes.io/job-name=transcode,{INDEX}=1"
    logs = kubectl("logs", "-n", namespace, "-l", selector, "--prefix").splitlines()
    assert sorted(line.split("] ", 1)[1] for line in logs) == [
        "storage busy, try again later",
        "transcoding video 1",
        "transcoding video 1",
        "video 1 transcoded",
    ]


MAX_FAILED = """
apiVersion: batch/v1
kind: Job
metadata:
  name: two-bad
spec:
  completionMode: Indexed
  completions: 4
  parallelism: 4
  backoffLimitPerIndex: 0
  maxFailedIndexes: 1
  template:
    metadata:
      annotations:
        course.kwok/run-for: 3600s
        course.kwok/run-for-index-0: 1s
        course.kwok/exit-code-index-0: "1"
        course.kwok/run-for-index-1: 1s
        course.kwok/exit-code-index-1: "1"
    spec:
      restartPolicy: Never
      containers:
      - name: task
        image: busybox:1.37
        command: ["sh", "-c", "sleep 3600"]
"""


def test_more_failed_indexes_than_allowed_fail_the_job_at_once(namespace: str) -> None:
    ch.apply(MAX_FAILED, namespace)
    state, job, _pods = finished(namespace, "two-bad")
    assert state == "Failed"
    assert conditions(job)[-1][:2] == ("Failed", "MaxFailedIndexesExceeded")
    assert job["status"]["failedIndexes"] == "0,1"
    assert job["status"].get("succeeded", 0) == 0, "indexes 2 and 3 were stopped, not waited for"


def test_a_success_policy_completes_the_job_when_the_leader_succeeds(namespace: str) -> None:
    ch.apply("job-success-policy", namespace)
    state, job, _pods = finished(namespace, "leader-workers")
    assert state == "Complete"
    assert conditions(job) == [
        ("SuccessCriteriaMet", "SuccessPolicy", "Matched rules at index 0"),
        ("Complete", "SuccessPolicy", "Matched rules at index 0"),
    ]
    assert job["status"]["completedIndexes"] == "0"
    assert job["status"]["succeeded"] == 1
    assert not job["status"].get("failed"), "the workers were stopped, not failed"
    ch.until(
        "Pod",
        namespace,
        lambda pods: len(pods) == 1,
        "only the leader's pod left",
        timeout=30,
        label_selector="batch.kubernetes.io/job-name=leader-workers",
    )


def test_a_pod_failure_policy_needs_restart_policy_never(namespace: str) -> None:
    text = ch.manifest("job-pod-failure-policy").replace(
        "restartPolicy: Never", "restartPolicy: OnFailure"
    )
    with pytest.raises(ch.CourseError, match='only "Never" is supported when podFailurePolicy'):
        ch.apply(text, namespace)
