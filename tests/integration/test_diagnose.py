"""Wrong setups on the embedded cluster: every wait and lab check that gives up names the cause.

Each test first waits for the state that shows the mistake (a DaemonSet the
controller has looked at, a Job that has Failed, pods that exist), so what the
message says never depends on how fast the machine is.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

import course_helpers as ch
from course_helpers.kube._wait import condition_true

pytestmark = pytest.mark.integration
Obj = dict[str, Any]


def _lab_solution(number: int, old: str, new: str) -> str:
    text = str(ch.lab.solution(number))
    assert old in text, f"{old!r} is not in solution {number}"
    return text.replace(old, new)


def test_lab_4_with_a_missing_storage_class_names_it_at_once(namespace: str) -> None:
    wrong = _lab_solution(
        4, "      accessModes:", "      storageClassName: fast\n      accessModes:"
    )
    ch.apply(wrong, namespace)
    started = time.monotonic()
    with pytest.raises(ch.lab.CheckFailed) as failed:
        ch.lab.check(4, namespace)
    elapsed = time.monotonic() - started
    message = str(failed.value)
    assert "asks for StorageClass 'fast', which does not exist" in message
    assert "this cluster has only standard, the default" in message
    assert "delete the StatefulSet and those claims" in message
    # It gave up because the cause is final, not because its 60 s ran out.
    assert "still so after" not in message
    assert elapsed < 60, elapsed


def test_a_pod_wait_names_a_node_selector_no_node_matches(namespace: str) -> None:
    ch.apply(
        """
apiVersion: apps/v1
kind: Deployment
metadata: {name: gpu}
spec:
  replicas: 2
  selector: {matchLabels: {app: gpu}}
  template:
    metadata: {labels: {app: gpu}}
    spec:
      nodeSelector: {accelerator: nvidia}
      containers: [{name: main, image: busybox}]
""",
        namespace,
    )
    with pytest.raises(ch.WaitTimeout) as failed:
        ch.pods_ready(namespace, 2, label_selector="app=gpu", timeout=3)
    message = str(failed.value)
    assert "Waited 3s for 2 Ready pods" in message
    assert "Deployment gpu can run on no node" in message
    assert (
        "nodeSelector asks for accelerator=nvidia, but no node has the label accelerator" in message
    )


def test_a_job_past_its_backoff_limit_says_how_its_pods_failed(namespace: str) -> None:
    ch.apply(
        """
apiVersion: batch/v1
kind: Job
metadata: {name: broken}
spec:
  backoffLimit: 1
  template:
    metadata:
      annotations: {course.kwok/run-for: 1s, course.kwok/exit-code: "3"}
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox, command: [sh, -c, "exit 3"]}]
""",
        namespace,
    )
    assert ch.job_finished(namespace, "broken", timeout=120) == "Failed"
    with pytest.raises(ch.WaitTimeout) as failed:
        ch.until(
            "Job",
            namespace,
            lambda jobs: all(condition_true(j, "Complete") for j in jobs),
            "Job broken to complete",
            timeout=2,
            field_selector="metadata.name=broken",
        )
    message = str(failed.value)
    assert "Job broken Failed (BackoffLimitExceeded" in message
    assert "2 pods failed, and its backoffLimit 1 allows 1 retry" in message
    assert "container main exited with code 3" in message


def test_lab_2_whose_pods_fail_says_the_exit_code(namespace: str) -> None:
    failing = _lab_solution(
        2, "course.kwok/run-for: 2s", 'course.kwok/run-for: 1s\n        course.kwok/exit-code: "1"'
    )
    ch.apply(failing, namespace)
    with pytest.raises(ch.lab.CheckFailed) as failed:
        ch.lab.check_parallel_job(namespace, timeout=120)
    message = str(failed.value)
    assert "Job thumbnails Failed" in message
    assert "its backoffLimit 2 allows 2 retries, so it stopped at the third failure" in message
    assert "exited with code 1" in message


def test_a_daemonset_no_node_matches_says_which_labels_there_are(namespace: str) -> None:
    ch.apply(
        """
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: nvme-cache}
spec:
  selector: {matchLabels: {app: nvme-cache}}
  template:
    metadata: {labels: {app: nvme-cache}}
    spec:
      nodeSelector: {course.dev/disk: nvme}
      containers: [{name: main, image: busybox}]
""",
        namespace,
    )

    def observed(daemonsets: list[Obj]) -> bool:
        status = daemonsets[0].get("status") or {} if daemonsets else {}
        generation = daemonsets[0]["metadata"].get("generation") if daemonsets else None
        return bool(daemonsets) and status.get("observedGeneration") == generation

    ch.until("DaemonSet", namespace, observed, "the controller to see nvme-cache", timeout=30)
    with pytest.raises(ch.WaitTimeout) as failed:
        ch.until(
            "Pod",
            namespace,
            lambda pods: len(pods) > 0,
            "a nvme-cache pod",
            timeout=2,
            label_selector="app=nvme-cache",
        )
    message = str(failed.value)
    assert "DaemonSet nvme-cache can run on no node (desired: 0 pods)" in message
    assert "course.dev/disk=nvme, but the nodes have course.dev/disk=hdd on" in message
    assert "course.dev/disk=ssd on" in message


def test_lab_1_with_a_misspelt_label_says_what_the_nodes_carry(namespace: str) -> None:
    ch.apply(_lab_solution(1, "course.dev/disk: ssd", "course.dev/disk: SSD"), namespace)
    with pytest.raises(ch.lab.CheckFailed) as failed:
        ch.lab.check(1, namespace)
    message = str(failed.value)
    assert "nodeSelector asks for course.dev/disk=SSD" in message
    assert "course.dev/disk=ssd on worker-1, worker-2" in message


def test_a_pod_too_big_for_any_node_names_the_request(namespace: str) -> None:
    ch.apply(
        """
apiVersion: v1
kind: Pod
metadata: {name: huge, labels: {app: huge}}
spec:
  containers:
  - name: main
    image: busybox
    resources: {requests: {cpu: "64", memory: 1Gi}}
""",
        namespace,
    )
    with pytest.raises(ch.WaitTimeout) as failed:
        ch.pods_ready(namespace, 1, label_selector="app=huge", timeout=2)
    message = str(failed.value)
    assert "Pod huge can run on no node: it requests cpu 64 (the largest node offers 32)" in message
    assert ch.explain(namespace, "Pod", ["huge"]) == [message.split("Why: ", 1)[1]]


def test_a_taint_no_pod_tolerates_is_named(namespace: str, extra_nodes: list[str]) -> None:
    taint = {"key": "course.dev/maintenance", "value": "yes", "effect": "NoSchedule"}
    node = ch.add_node(labels={"course.dev/pool": "maintenance"}, taints=[taint])
    extra_nodes.append(node)
    ch.apply(
        """
apiVersion: v1
kind: Pod
metadata: {name: patient, labels: {app: patient}}
spec:
  nodeSelector: {course.dev/pool: maintenance}
  containers: [{name: main, image: busybox}]
""",
        namespace,
    )
    with pytest.raises(ch.WaitTimeout) as failed:
        ch.pods_ready(namespace, 1, label_selector="app=patient", timeout=2)
    assert f"{node} has course.dev/maintenance=yes:NoSchedule" in str(failed.value)


def test_a_statefulset_stuck_at_ordinal_0_says_the_next_ones_wait(namespace: str) -> None:
    ch.apply(
        """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: cache}
spec:
  replicas: 3
  selector: {matchLabels: {app: cache}}
  template:
    metadata: {labels: {app: cache}}
    spec:
      nodeSelector: {course.dev/disk: nvme}
      containers: [{name: main, image: busybox}]
""",
        namespace,
    )
    ch.until("Pod", namespace, lambda pods: len(pods) == 1, "cache-0 to exist", timeout=30)
    with pytest.raises(ch.WaitTimeout) as failed:
        ch.pods_ready(namespace, 3, label_selector="app=cache", timeout=2)
    message = str(failed.value)
    assert (
        "StatefulSet cache can run on no node: its nodeSelector asks for course.dev/disk=nvme"
        in message
    )
    assert "cache-1, cache-2 will be created only once cache-0 is Ready, and it is not" in message


def test_lab_5_names_the_pod_that_keeps_a_deleted_claim(namespace: str) -> None:
    ch.lab.apply_solution(4, namespace)
    ch.lab.check(4, namespace)
    ch.delete("PersistentVolumeClaim", "data-db-0", namespace)
    with pytest.raises(ch.lab.CheckFailed) as failed:
        ch.lab.check(5, namespace, timeout=2)
    message = str(failed.value)
    assert (
        "PersistentVolumeClaim data-db-0 is being deleted, but it stays while pod db-0" in message
    )
    assert "(finalizer kubernetes.io/pvc-protection)" in message
