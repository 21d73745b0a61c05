"""CronJobs on the embedded cluster: the real CronJob controller on the wall clock."""

from __future__ import annotations

import time
from typing import Any

import pytest

import course_helpers as ch

pytestmark = [pytest.mark.integration, pytest.mark.slow]
Obj = dict[str, Any]

EVERY_MINUTE = """
apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        metadata:
          annotations:
            course.kwok/run-for: 30s
        spec:
          restartPolicy: Never
          containers:
          - name: tick
            image: busybox:1.37
            command: ["sh", "-c", "date; sleep 30"]
"""


def _owned_by(obj: Obj, kind: str, name: str) -> bool:
    refs = obj["metadata"].get("ownerReferences") or []
    return any(r["kind"] == kind and r["name"] == name for r in refs)


def test_cronjob_creates_a_job_and_deleting_it_deletes_jobs_and_pods(namespace: str) -> None:
    started = time.monotonic()
    ch.apply(EVERY_MINUTE, namespace)
    jobs = ch.until(
        "Job",
        namespace,
        lambda js: any(_owned_by(j, "CronJob", "tick") for j in js),
        "a Job made by the CronJob",
        timeout=70,
    )
    assert time.monotonic() - started <= 70
    job_name = jobs[0]["metadata"]["name"]
    assert job_name.startswith("tick-")
    ch.until(
        "Pod",
        namespace,
        lambda pods: any(_owned_by(p, "Job", job_name) for p in pods),
        "the Job's pod",
        timeout=30,
    )
    ch.delete("CronJob", "tick", namespace)
    ch.until("Job", namespace, lambda js: not js, "no Jobs left", timeout=60)
    ch.until("Pod", namespace, lambda pods: not pods, "no pods left", timeout=60)
