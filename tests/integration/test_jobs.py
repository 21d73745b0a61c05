"""Jobs on the embedded cluster, driven by the real Job controller."""

from __future__ import annotations

from typing import Any

import pytest

import course_helpers as ch
from course_helpers.kube._wait import condition_true

pytestmark = pytest.mark.integration
Obj = dict[str, Any]

PARALLEL_JOB = """
apiVersion: batch/v1
kind: Job
metadata:
  name: five-by-two
spec:
  completions: 5
  parallelism: 2
  template:
    metadata:
      annotations:
        course.kwok/run-for: 2s
    spec:
      restartPolicy: Never
      containers:
      - name: task
        image: busybox:1.37
        command: ["sh", "-c", "sleep 2"]
"""


def test_parallelism_caps_active_pods_and_completions_are_counted(namespace: str) -> None:
    ch.apply(PARALLEL_JOB, namespace)
    most_active = 0

    def watch(pods: list[Obj]) -> bool:
        nonlocal most_active
        active = [
            p
            for p in pods
            if p["status"].get("phase") in (None, "Pending", "Running")
            and not p["metadata"].get("deletionTimestamp")
        ]
        most_active = max(most_active, len(active))
        return sum(p["status"].get("phase") == "Succeeded" for p in pods) >= 5

    ch.until(
        "Pod",
        namespace,
        watch,
        "5 succeeded pods",
        timeout=90,
        label_selector="job-name=five-by-two",
    )
    assert ch.job_finished(namespace, "five-by-two", timeout=30) == "Complete"
    job = ch.get("Job", "five-by-two", namespace)
    assert job is not None
    assert job["status"]["succeeded"] == 5
    assert most_active == 2


def test_failing_job_stops_at_backoff_limit(namespace: str) -> None:
    ch.apply("job-failing", namespace)
    assert ch.job_finished(namespace, "broken-task", timeout=120) == "Failed"
    job = ch.get("Job", "broken-task", namespace)
    assert job is not None
    failed = [c for c in job["status"]["conditions"] if c["type"] == "Failed"]
    assert failed[0]["reason"] == "BackoffLimitExceeded"
    assert job["status"]["failed"] == job["spec"]["backoffLimit"] + 1 == 3
    assert set(ch.pods(namespace)["phase"]) == {"Failed"}


def test_on_failure_restarts_in_place_until_success(namespace: str) -> None:
    ch.apply("job-single", namespace)
    assert ch.job_finished(namespace, "flaky-task", timeout=60) == "Complete"
    pods = ch.pods(namespace)
    assert len(pods) == 1
    assert pods.loc[0, "restarts"] == 2
    assert pods.loc[0, "phase"] == "Succeeded"


def test_restart_policy_always_is_refused_with_the_api_message(namespace: str) -> None:
    with pytest.raises(ch.ManifestError, match=r"restartPolicy.*\"OnFailure\", \"Never\""):
        ch.apply("job-restart-always", namespace)
    assert ch.get("Job", "never-ends", namespace) is None
    message = ch.show_refusal(ch.apply, "deployment-restart-never", namespace)
    assert 'Unsupported value: "Never"' in message


def test_changing_a_jobs_pod_template_is_refused(namespace: str) -> None:
    ch.apply("job-fixed-completions", namespace)
    change = {
        "spec": {
            "template": {"spec": {"containers": [{"name": "render", "image": "busybox:1.36"}]}}
        }
    }
    with pytest.raises(ch.ManifestError, match="field is immutable"):
        ch.patch("Job", "render-frames", namespace, change)
    job = ch.get("Job", "render-frames", namespace)
    assert job is not None
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:1.37"


def test_deleting_a_job_deletes_its_pods(namespace: str) -> None:
    ch.apply("job-fixed-completions", namespace)
    ch.until("Pod", namespace, lambda pods: len(pods) >= 1, "a pod", timeout=30)
    ch.delete("Job", "render-frames", namespace)
    ch.until("Pod", namespace, lambda pods: not pods, "no pods", timeout=60)


def test_job_pods_are_ready_before_they_complete(namespace: str) -> None:
    ch.apply("job-fixed-completions", namespace)
    seen_ready: set[str] = set()

    def watch(pods: list[Obj]) -> bool:
        seen_ready.update(p["metadata"]["name"] for p in pods if condition_true(p, "Ready"))
        return any(p["status"].get("phase") == "Succeeded" for p in pods)

    done = ch.until("Pod", namespace, watch, "a completed pod", timeout=60)
    finished = [p["metadata"]["name"] for p in done if p["status"].get("phase") == "Succeeded"]
    assert set(finished) <= seen_ready


def test_work_queue_job_completes_once_one_pod_succeeded_and_all_stopped(namespace: str) -> None:
    ch.apply("job-work-queue", namespace)
    assert ch.job_finished(namespace, "drain-queue", timeout=60) == "Complete"
    job = ch.get("Job", "drain-queue", namespace)
    assert job is not None
    assert job["spec"].get("completions") is None
    assert job["status"].get("active", 0) == 0
    pods = ch.pods(namespace, label_selector="job-name=drain-queue")
    # parallelism pods started together, none after the first success, all stopped
    assert len(pods) == job["spec"]["parallelism"] == 3
    assert set(pods["phase"]) == {"Succeeded"}
    assert job["status"]["succeeded"] == 3
