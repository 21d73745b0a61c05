"""``kubectl logs`` on the embedded cluster prints what the course's containers echo.

Runs OUR kubectl (the pinned one connect() put first on PATH) as a subprocess with
the KUBECONFIG connect() exported, as ``!kubectl`` in a notebook does.
"""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import course_helpers as ch
from course_helpers.kube import _kubectl

pytestmark = pytest.mark.integration

TICKER = """
apiVersion: batch/v1
kind: Job
metadata:
  name: ticker
spec:
  template:
    metadata:
      annotations:
        course.kwok/run-for: 4s
    spec:
      restartPolicy: Never
      containers:
      - name: tick
        image: busybox:1.37
        command: ["sh", "-c", "for i in 1 2 3; do echo tick $i; sleep 1; done; echo done"]
"""


def kubectl(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def follow(*args: str, until: str, timeout: float = 30) -> list[str]:
    """Run ``kubectl logs -f``; return its lines once one contains ``until`` (a watch, no poll)."""
    process = subprocess.Popen(
        ["kubectl", "logs", "-f", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if not selector.select(timeout=deadline - time.monotonic()):
                    break
                line = process.stdout.readline()
                if not line:
                    break
                seen.append(line.rstrip("\n"))
                if until in seen[-1]:
                    return seen
    finally:
        process.kill()
        _, err = process.communicate()
    raise AssertionError(f"kubectl logs -f {' '.join(args)} never printed {until!r}: {seen} {err}")


@pytest.fixture(autouse=True)
def our_kubectl(cluster: ch.ClusterInfo) -> None:
    assert os.environ["KUBECONFIG"] == str(_kubectl.kubeconfig_path())
    assert Path(shutil.which("kubectl") or "").parent == _kubectl.bin_dir()
    assert "v1.36.1" in kubectl("version", "--client").stdout


def test_logs_of_a_finished_job_print_its_echoed_text(namespace: str) -> None:
    ch.apply("job-failing", namespace)
    assert ch.job_finished(namespace, "broken-task") == "Failed"
    follow("-n", namespace, "job/broken-task", until="cannot reach the database")
    out = kubectl("logs", "-n", namespace, "job/broken-task")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "cannot reach the database\n"
    # Every failed attempt is its own pod (restartPolicy Never), each with its line.
    every = kubectl("logs", "-n", namespace, "-l", "job-name=broken-task", "--prefix")
    lines = every.stdout.splitlines()
    assert len(lines) >= 2 and all(line.endswith("] cannot reach the database") for line in lines)


def test_a_restarted_container_has_its_earlier_attempt_as_previous(namespace: str) -> None:
    ch.apply("job-single", namespace)
    assert ch.job_finished(namespace, "flaky-task") == "Complete"
    follow("-n", namespace, "job/flaky-task", until="attempt 3 succeeded")
    assert kubectl("logs", "-n", namespace, "job/flaky-task").stdout == "attempt 3 succeeded\n"
    previous = kubectl("logs", "-n", namespace, "job/flaky-task", "--previous")
    assert previous.stdout == "attempt 2 failed\n", previous.stderr


def test_follow_streams_lines_as_the_container_prints_them(namespace: str) -> None:
    ch.apply(TICKER, namespace)
    ch.until("Pod", namespace, lambda pods: bool(pods), "a ticker pod", 60)
    started = time.monotonic()
    seen = follow("-n", namespace, "job/ticker", until="done")
    assert seen == ["tick 1", "tick 2", "tick 3", "done"]
    assert time.monotonic() - started >= 1.5, "the lines came one by one, not all at once"
    stamped = kubectl("logs", "-n", namespace, "job/ticker", "--timestamps", "--tail=2")
    lines = stamped.stdout.splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["tick 3", "done"]


def test_any_other_container_says_it_is_simulated(namespace: str) -> None:
    ch.apply("statefulset-web", namespace)
    ch.pods_ready(namespace, 3, "app=web")
    for ordinal in range(3):
        follow("-n", namespace, f"web-{ordinal}", until="nginx:1.27")
    out = kubectl("logs", "-n", namespace, "-l", "app=web", "--prefix")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("[kwok simulation] This container is simulated by kwok") == 3
