"""Each diagnosis of kube._diagnose on fake objects: the cause it names and whether it is final."""

from __future__ import annotations

import doctest
from types import ModuleType
from typing import Any

import pytest

from course_helpers.kube import (
    _diagnose,
    _diagnose_nodes,
    _diagnose_storage,
    _diagnose_workloads,
    _wait,
)
from course_helpers.kube._diagnose import Cause, Snapshot, diagnose, pod_requests
from course_helpers.lab import _check_base, _checks

Obj = dict[str, Any]


def node(name: str, disk: str = "ssd", taints: list[Obj] | None = None, cpu: str = "32") -> Obj:
    return {
        "metadata": {"name": name, "labels": {"course.dev/disk": disk}},
        "spec": {"taints": taints or []},
        "status": {"allocatable": {"cpu": cpu, "memory": "256Gi", "pods": "110"}},
    }


NODES = [node("worker-1"), node("worker-2"), node("worker-3", disk="hdd")]
STANDARD = {
    "metadata": {
        "name": "standard",
        "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
    },
    "provisioner": "course.kwok/volume",
    "volumeBindingMode": "Immediate",
}


def owner(kind: str, name: str) -> list[Obj]:
    return [{"kind": kind, "name": name, "uid": f"uid-{name}", "controller": True}]


def pod(name: str, owned: tuple[str, str] | None = None, **spec: Any) -> Obj:
    meta: Obj = {"name": name, "uid": f"uid-{name}", "labels": {"app": "x"}}
    if owned:
        meta["ownerReferences"] = owner(*owned)
    return {
        "metadata": meta,
        "spec": {"containers": [{"name": "main"}], **spec},
        "status": {"phase": "Pending"},
    }


def unschedulable(p: Obj, message: str) -> Obj:
    p["status"]["conditions"] = [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}
    ]
    return p


def claim(name: str, storage_class: str | None, phase: str = "Pending") -> Obj:
    spec = {} if storage_class is None else {"storageClassName": storage_class}
    return {
        "metadata": {"name": name, "uid": f"uid-{name}"},
        "spec": spec,
        "status": {"phase": phase},
    }


def statefulset(storage_class: str | None, replicas: int = 3) -> Obj:
    template: Obj = {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}
    if storage_class is not None:
        template["spec"]["storageClassName"] = storage_class
    return {
        "metadata": {"name": "db", "uid": "uid-db", "generation": 1},
        "spec": {
            "replicas": replicas,
            "template": {"metadata": {"labels": {"app": "db"}}, "spec": {}},
            "volumeClaimTemplates": [template],
        },
        "status": {"observedGeneration": 1},
    }


def event(on: Obj, kind: str, reason: str, message: str, at: str = "2026-01-01T00:00:01Z") -> Obj:
    return {
        "metadata": {"name": f"{on['metadata']['name']}.{reason}"},
        "type": "Warning",
        "reason": reason,
        "message": message,
        "lastTimestamp": at,
        "count": 3,
        "involvedObject": {
            "kind": kind,
            "name": on["metadata"]["name"],
            "uid": on["metadata"]["uid"],
        },
    }


def texts(found: list[Cause]) -> str:
    return "\n".join(c.text for c in found)


# -- StorageClasses ---------------------------------------------------------------------


def test_a_claim_of_a_missing_storage_class_names_it_and_the_ones_there() -> None:
    snap = Snapshot("ns", claims=[claim("data-db-0", "fast")], storage_classes=[STANDARD])
    [cause] = diagnose(snap, "PersistentVolumeClaim")
    assert cause.final
    assert "asks for StorageClass 'fast', which does not exist" in cause.text
    assert "(this cluster has only standard, the default)" in cause.text
    fast = {"metadata": {"name": "fast-ssd"}}
    [cause] = diagnose(
        Snapshot("ns", claims=[claim("d", "fast")], storage_classes=[fast, STANDARD])
    )
    assert "(this cluster has fast-ssd, standard (the default))" in cause.text


def test_the_statefulset_template_names_the_missing_class_once() -> None:
    db0 = unschedulable(
        pod(
            "db-0",
            ("StatefulSet", "db"),
            volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}}],
        ),
        "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.",
    )
    pvc = claim("data-db-0", "fast")
    snap = Snapshot(
        "ns",
        pods=[db0],
        claims=[pvc],
        events=[
            event(
                pvc,
                "PersistentVolumeClaim",
                "ProvisioningFailed",
                'storageclass.storage.k8s.io "fast" not found',
            )
        ],
        workloads={"StatefulSet": [statefulset("fast")]},
        nodes=NODES,
        storage_classes=[STANDARD],
    )
    found = diagnose(snap, "StatefulSet", ["db"])
    assert found[0].final
    assert found[0].text.startswith(
        "StatefulSet db's volumeClaimTemplate data asks for StorageClass 'fast'"
    )
    assert "data-db-0, data-db-1, data-db-2" in found[0].text
    assert "delete the StatefulSet and those claims" in found[0].text
    shown = texts(found)
    assert shown.count("fast") == 1, shown  # not again for the claim nor its event
    assert "db-1, db-2 will be created only once db-0 is Ready" in shown
    assert "Pod db-0 is not scheduled: 0/3 nodes are available: pod has unbound" in shown


def test_a_claim_waiting_for_its_provisioner_is_not_final() -> None:
    slow = {**STANDARD, "metadata": {"name": "slow"}, "provisioner": "example.com/nfs"}
    pvc = claim("data", "slow")
    waiting = {
        **event(pvc, "PersistentVolumeClaim", "ExternalProvisioning", "Waiting for a volume"),
        "type": "Normal",
    }
    [cause] = diagnose(Snapshot("ns", claims=[pvc], events=[waiting], storage_classes=[slow]))
    assert not cause.final
    assert "provisioner example.com/nfs" in cause.text
    assert "ExternalProvisioning: Waiting for a volume" in cause.text


def test_a_claim_without_class_and_no_default_is_final() -> None:
    [cause] = diagnose(Snapshot("ns", claims=[claim("data", None)]))
    assert cause.final and "no default one" in cause.text


def test_a_bound_claim_says_nothing() -> None:
    assert diagnose(Snapshot("ns", claims=[claim("data", "fast", phase="Bound")])) == []


# -- placement --------------------------------------------------------------------------


def test_a_node_selector_no_node_matches_names_the_labels_there() -> None:
    p = pod("p", nodeSelector={"course.dev/disk": "SSD"})
    [cause] = diagnose(Snapshot("ns", pods=[p], nodes=NODES), "Pod", ["p"])
    assert cause.final
    assert "nodeSelector asks for course.dev/disk=SSD" in cause.text
    assert (
        "course.dev/disk=hdd on worker-3; course.dev/disk=ssd on worker-1, worker-2" in cause.text
    )


def test_a_label_no_node_has_at_all() -> None:
    p = pod("p", nodeSelector={"gpu": "yes"})
    [cause] = diagnose(Snapshot("ns", pods=[p], nodes=NODES), "Pod", ["p"])
    assert "no node has the label gpu at all" in cause.text


def test_labels_that_no_single_node_has_together() -> None:
    nodes = [
        node("a", disk="ssd"),
        {**node("b", disk="hdd"), "metadata": {"name": "b", "labels": {"zone": "z1"}}},
    ]
    p = pod("p", nodeSelector={"course.dev/disk": "ssd", "zone": "z1"})
    [cause] = diagnose(Snapshot("ns", pods=[p], nodes=nodes), "Pod", ["p"])
    assert "no single node has all of its nodeSelector labels" in cause.text


def test_required_node_affinity_is_judged_too() -> None:
    term = {"matchExpressions": [{"key": "course.dev/disk", "operator": "In", "values": ["nvme"]}]}
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}
        }
    }
    p = pod("p", affinity=affinity)
    [cause] = diagnose(Snapshot("ns", pods=[p], nodes=NODES), "Pod", ["p"])
    assert cause.final and "required node affinity" in cause.text
    fits = {"matchExpressions": [{"key": "course.dev/disk", "operator": "In", "values": ["hdd"]}]}
    affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ] = [term, fits]
    assert diagnose(Snapshot("ns", pods=[p], nodes=NODES), "Pod", ["p"]) == []


def test_untolerated_taints_are_named() -> None:
    taint = {"key": "maintenance", "value": "yes", "effect": "NoSchedule"}
    nodes = [node("worker-1", taints=[taint]), node("worker-2", taints=[taint])]
    p = pod("p")
    [cause] = diagnose(Snapshot("ns", pods=[p], nodes=nodes), "Pod", ["p"])
    assert cause.final
    assert "worker-1 has maintenance=yes:NoSchedule" in cause.text
    tolerant = pod("q", tolerations=[{"key": "maintenance", "operator": "Exists"}])
    assert diagnose(Snapshot("ns", pods=[tolerant], nodes=nodes), "Pod", ["q"]) == []


def test_a_request_larger_than_any_node_is_final() -> None:
    p = pod(
        "big", containers=[{"name": "m", "resources": {"requests": {"cpu": "64", "memory": "1Gi"}}}]
    )
    [cause] = diagnose(Snapshot("ns", pods=[p], nodes=NODES), "Pod", ["big"])
    assert cause.final
    assert "requests cpu 64 (the largest node offers 32)" in cause.text
    assert "memory" not in cause.text


def test_a_request_that_only_others_crowd_out_quotes_the_scheduler() -> None:
    p = unschedulable(
        pod("p", containers=[{"name": "m", "resources": {"requests": {"cpu": "20"}}}]),
        "0/3 nodes are available: 3 Insufficient cpu.",
    )
    [cause] = diagnose(Snapshot("ns", pods=[p], nodes=NODES), "Pod", ["p"])
    assert not cause.final
    assert "3 Insufficient cpu" in cause.text


def test_pod_requests_sum_containers_and_take_the_largest_init() -> None:
    spec = {
        "containers": [
            {"resources": {"requests": {"cpu": "1"}}},
            {"resources": {"requests": {"cpu": "2"}}},
        ],
        "initContainers": [{"resources": {"requests": {"cpu": "4"}}}],
    }
    assert pod_requests(spec)["cpu"] == 4


def test_pods_with_one_cause_are_named_together() -> None:
    pods = [pod(f"p-{i}", nodeSelector={"gpu": "yes"}) for i in range(3)]
    [cause] = diagnose(Snapshot("ns", pods=pods, nodes=NODES), "Pod")
    assert cause.text.startswith("Pod p-0 (and likewise p-1, p-2) can run on no node")


# -- workloads ---------------------------------------------------------------------------


def test_a_job_past_its_backoff_limit_counts_failures_and_shows_the_exit_code() -> None:
    job = {
        "metadata": {"name": "thumbnails", "uid": "uid-thumbnails"},
        "spec": {"backoffLimit": 2},
        "status": {
            "failed": 3,
            "conditions": [
                {
                    "type": "FailureTarget",
                    "status": "True",
                    "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit",
                },
                {
                    "type": "Failed",
                    "status": "True",
                    "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit",
                },
            ],
        },
    }
    failed = pod("thumbnails-abc", ("Job", "thumbnails"), nodeName="worker-1")
    failed["status"] = {
        "phase": "Failed",
        "containerStatuses": [
            {"name": "main", "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}
        ],
    }
    ble = event(job, "Job", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
    snap = Snapshot("ns", pods=[failed], events=[ble], workloads={"Job": [job]})
    found = diagnose(snap, "Job", ["thumbnails"])
    assert found[0].final
    assert "3 pods failed, and its backoffLimit 2 allows 2 retries" in found[0].text
    assert "stopped at the third failure" in found[0].text
    assert "container main exited with code 1 (Error)" in found[0].text
    assert len(found) == 1, texts(found)  # neither the event nor the failed pods say more


def test_a_suspended_job_is_final() -> None:
    job = {"metadata": {"name": "j", "uid": "uid-j"}, "spec": {"suspend": True}, "status": {}}
    [cause] = diagnose(Snapshot("ns", workloads={"Job": [job]}), "Job", ["j"])
    assert cause.final and "suspend" in cause.text


def test_a_job_whose_pods_cannot_be_placed_is_final() -> None:
    job = {"metadata": {"name": "j", "uid": "uid-j"}, "spec": {}, "status": {"active": 1}}
    p = pod("j-1", ("Job", "j"), nodeSelector={"gpu": "yes"})
    [cause] = diagnose(
        Snapshot("ns", pods=[p], nodes=NODES, workloads={"Job": [job]}), "Job", ["j"]
    )
    assert cause.final and "Pod j-1 can run on no node" in cause.text


def test_a_daemonset_that_wants_no_pod_names_its_selector() -> None:
    ds = {
        "metadata": {"name": "disk-check", "uid": "uid-ds", "generation": 2},
        "spec": {"template": {"spec": {"nodeSelector": {"course.dev/disk": "nvme"}}}},
        "status": {"observedGeneration": 2, "desiredNumberScheduled": 0},
    }
    [cause] = diagnose(Snapshot("ns", nodes=NODES, workloads={"DaemonSet": [ds]}), "DaemonSet")
    assert cause.final
    assert "DaemonSet disk-check can run on no node" in cause.text
    assert "desired: 0 pods" in cause.text
    ds["status"]["observedGeneration"] = 1  # the controller has not looked yet: no verdict
    assert diagnose(Snapshot("ns", nodes=NODES, workloads={"DaemonSet": [ds]}), "DaemonSet") == []


def test_daemonset_pods_pinned_by_match_fields_are_placed() -> None:
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["worker-3"]}]}
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}
        }
    }
    p = pod("ds-x", affinity=affinity)
    assert diagnose(Snapshot("ns", pods=[p], nodes=NODES), "Pod", ["ds-x"]) == []


def test_a_statefulset_with_every_pod_ready_says_nothing() -> None:
    pods = []
    for i in range(3):
        p = pod(f"db-{i}", ("StatefulSet", "db"), nodeName="worker-1")
        p["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        pods.append(p)
    snap = Snapshot(
        "ns",
        pods=pods,
        workloads={"StatefulSet": [statefulset("standard")]},
        storage_classes=[STANDARD],
    )
    assert diagnose(snap, "StatefulSet", ["db"]) == []


# -- events and selection -------------------------------------------------------------------


def test_failed_create_of_a_workload_is_quoted_for_a_pod_wait() -> None:
    rs = {
        "metadata": {"name": "web-1", "uid": "uid-rs", "generation": 1},
        "spec": {"template": {"metadata": {"labels": {"app": "web"}}}},
        "status": {},
    }
    other = {**rs, "metadata": {"name": "old", "uid": "uid-old"}}
    quota = event(rs, "ReplicaSet", "FailedCreate", 'pods "web-1-x" is forbidden: exceeded quota')
    stale = event(other, "ReplicaSet", "FailedCreate", "from an object deleted long ago")
    snap = Snapshot("ns", events=[quota, stale], workloads={"ReplicaSet": [rs]}, nodes=NODES)
    [cause] = diagnose(snap, "Pod", label_selector="app=web")
    assert cause.text == (
        "Warning event on ReplicaSet web-1: FailedCreate (3 times): "
        'pods "web-1-x" is forbidden: exceeded quota'
    )
    assert diagnose(snap, "Pod", label_selector="app=db") == []


def test_a_pod_that_failed_says_how() -> None:
    p = pod("p", nodeName="worker-1")
    p["status"] = {
        "phase": "Failed",
        "containerStatuses": [{"name": "main", "state": {"terminated": {"exitCode": 2}}}],
    }
    [cause] = diagnose(Snapshot("ns", pods=[p], nodes=NODES), "Pod", ["p"])
    assert cause.text == "Pod p failed: container main exited with code 2."


def test_a_waiting_container_names_its_reason() -> None:
    p = pod("p", nodeName="worker-1")
    p["status"]["containerStatuses"] = [
        {
            "name": "main",
            "state": {"waiting": {"reason": "ImagePullBackOff", "message": "not found"}},
        }
    ]
    [cause] = diagnose(Snapshot("ns", pods=[p], nodes=NODES), "Pod", ["p"])
    assert "container main is waiting (ImagePullBackOff: not found)" in cause.text


# -- the hooks: wait timeouts and lab checks ----------------------------------------------


def test_a_wait_timeout_message_ends_with_the_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[Any] = []

    def fake_explain(*args: Any) -> list[str]:
        asked.append(args)
        return ["StorageClass 'fast' does not exist."]

    monkeypatch.setattr(_diagnose, "explain", fake_explain)
    message = _wait.timeout_message(
        "Job", "ns", "Job pi to finish", 30, ["pi"], None, "metadata.name=pi"
    )
    assert message == (
        "Waited 30s for Job pi to finish in ns; Job objects seen last: pi.\n"
        "Why: StorageClass 'fast' does not exist."
    )
    assert asked == [("ns", "Job", ["pi"], None)]


def test_a_diagnosis_that_fails_does_not_hide_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any) -> list[str]:
        raise ConnectionError("refused")

    monkeypatch.setattr(_diagnose, "explain", broken)
    message = _wait.timeout_message("Pod", "ns", "3 Ready pods", 10, [], "app=web")
    assert message.endswith("(The cause could not be read from the cluster: refused.)")


def test_a_lab_check_stops_waiting_at_a_final_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def fake_until(kind: str, namespace: str, done: Any, *args: Any, **kwargs: Any) -> list[Obj]:
        for _ in range(5):
            calls.append(1)
            done([])
        raise AssertionError("the check should have stopped at the first final cause")

    monkeypatch.setattr(_check_base, "until", fake_until)
    final = [Cause("StorageClass 'fast' does not exist.", final=True), Cause("db-0 waits.")]
    with pytest.raises(_checks.CheckFailed) as failed:
        _check_base.settle(
            "Pod", "ns", lambda _: "Pods not Ready yet: db-0.", 60, why=lambda: final
        )
    assert calls == [1]
    assert str(failed.value) == (
        "Pods not Ready yet: db-0.\nWhy:\n  - StorageClass 'fast' does not exist.\n  - db-0 waits."
    )


def test_a_lab_check_keeps_waiting_while_the_cause_may_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from course_helpers.kube._wait import WaitTimeout

    def fake_until(kind: str, namespace: str, done: Any, *args: Any, **kwargs: Any) -> list[Obj]:
        assert not done([])
        raise WaitTimeout("time is up")

    monkeypatch.setattr(_check_base, "until", fake_until)
    passing = [Cause("Pod db-0 is not scheduled: 0/3 nodes are available: 3 Insufficient cpu.")]
    with pytest.raises(_checks.CheckFailed, match=r"\(still so after 60s\)\nWhy: Pod db-0 is not"):
        _check_base.settle(
            "Pod", "ns", lambda _: "Pods not Ready yet: db-0.", 60, why=lambda: passing
        )


def test_a_workload_whose_template_fits_no_node_says_so_before_any_pod_exists() -> None:
    deployment = {
        "metadata": {"name": "gpu", "uid": "uid-gpu"},
        "spec": {"replicas": 2, "template": {"spec": {"nodeSelector": {"gpu": "yes"}}}},
    }
    snap = Snapshot("ns", workloads={"Deployment": [deployment], "ReplicaSet": []}, nodes=NODES)
    [cause] = diagnose(snap, "Deployment", ["gpu"])
    assert cause.final
    assert cause.text.startswith(
        "Deployment gpu can run on no node: its nodeSelector asks for gpu=yes"
    )
    rs = {
        "metadata": {
            "name": "gpu-1",
            "uid": "uid-gpu-1",
            "ownerReferences": owner("Deployment", "gpu"),
        }
    }
    pods = [
        pod(f"gpu-1-{i}", ("ReplicaSet", "gpu-1"), nodeSelector={"gpu": "yes"}) for i in range(2)
    ]
    snap = Snapshot(
        "ns", pods=pods, workloads={"Deployment": [deployment], "ReplicaSet": [rs]}, nodes=NODES
    )
    assert [c.text for c in diagnose(snap, "Deployment", ["gpu"])] == [cause.text]  # not per pod


def test_a_job_between_retries_says_when_it_fails_and_that_it_backs_off() -> None:
    job = {"metadata": {"name": "j", "uid": "uid-j"}, "spec": {}, "status": {"failed": 2}}
    [cause] = diagnose(Snapshot("ns", workloads={"Job": [job]}, nodes=NODES), "Job", ["j"])
    assert not cause.final
    assert "2 failed pod(s) so far; its backoffLimit 6 fails the Job at the seventh failure" in (
        cause.text
    )
    assert "10 s, then doubling" in cause.text


def test_a_crash_looping_container_shows_its_last_exit() -> None:
    p = pod("p", nodeName="worker-1")
    p["status"]["phase"] = "Running"
    p["status"]["containerStatuses"] = [
        {
            "name": "main",
            "restartCount": 4,
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
            "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}},
        }
    ]
    [cause] = diagnose(Snapshot("ns", pods=[p], nodes=NODES), "Pod", ["p"])
    assert cause.text == (
        "Pod p on worker-1: container main is waiting (CrashLoopBackOff: back-off 40s), "
        "last exit code 137 (OOMKilled)."
    )


def test_a_claim_being_deleted_names_the_pod_that_keeps_it() -> None:
    deleting = claim("data-db-0", "standard", phase="Bound")
    deleting["metadata"] |= {
        "deletionTimestamp": "2026-01-01T00:00:00Z",
        "finalizers": ["kubernetes.io/pvc-protection"],
    }
    user = pod(
        "db-0",
        nodeName="worker-1",
        volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}}],
    )
    user["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    snap = Snapshot("ns", pods=[user], claims=[deleting], nodes=NODES)
    [cause] = diagnose(snap, "PersistentVolumeClaim", ["data-db-0"])
    assert "stays while pod db-0 uses it (finalizer kubernetes.io/pvc-protection)" in cause.text
    held = pod("other")
    held["metadata"] |= {"deletionTimestamp": "2026-01-01T00:00:00Z", "finalizers": ["x.dev/hold"]}
    [cause] = diagnose(Snapshot("ns", pods=[held], nodes=NODES), "Pod", ["other"])
    assert (
        cause.text
        == "Pod other is being deleted; it goes once its finalizers (x.dev/hold) are done."
    )


def test_a_wait_on_one_pod_hears_its_statefulset_about_the_claim_template() -> None:
    db0 = pod(
        "db-0",
        ("StatefulSet", "db"),
        volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}}],
    )
    snap = Snapshot(
        "ns",
        pods=[db0],
        claims=[claim("data-db-0", "fast")],
        workloads={"StatefulSet": [statefulset("fast")]},
        nodes=NODES,
        storage_classes=[STANDARD],
    )
    found = diagnose(snap, "Pod", ["db-0"])
    assert found[0].text.startswith("StatefulSet db's volumeClaimTemplate data asks for")
    assert "PersistentVolumeClaim data-db-0 asks" not in texts(found)


@pytest.mark.parametrize(
    "module",
    [_diagnose, _diagnose_nodes, _diagnose_storage, _diagnose_workloads],
)
def test_docstring_examples_hold(module: ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_a_job_with_restart_on_failure_counts_restarts_not_pods() -> None:
    job = {
        "metadata": {"name": "flaky", "uid": "uid-flaky"},
        "spec": {"backoffLimit": 3, "template": {"spec": {"restartPolicy": "OnFailure"}}},
        "status": {"active": 1},
    }
    running = pod("flaky-x", ("Job", "flaky"), nodeName="worker-1")
    running["status"] = {
        "phase": "Running",
        "containerStatuses": [{"name": "main", "restartCount": 2, "ready": False}],
    }
    snap = Snapshot("ns", pods=[running], workloads={"Job": [job]}, nodes=NODES)
    found = diagnose(snap, "Job", ["flaky"])
    assert found[0].text.startswith("Job flaky's containers have restarted 2 time(s) so far.")
    assert "restarted backoffLimit (3) times in all" in found[0].text
    job["status"] = {
        "failed": 1,
        "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}],
    }
    [cause] = diagnose(Snapshot("ns", workloads={"Job": [job]}, nodes=NODES), "Job", ["flaky"])
    assert cause.final
    assert "1 pods" not in cause.text and "restarted backoffLimit (3) times" in cause.text
