"""Write the recorded watch streams the unit tests replay (run: python make_fixtures.py).

The objects are shaped like the API server returns them on the embedded
cluster (camelCase, as ``api_client.sanitize_for_serialization`` gives), with
the timings kwok produces: pods Ready 1-3 s after they start, Job pods running
for a few seconds, deleted pods gone about a second later. Each scenario is a
JSON-lines recording in the format ``course_helpers.widgets.Recorder`` saves,
so the same files also exercise ``Replay`` and ``from_recording``.

The expected values the tests assert are written out by hand in the tests,
not computed from this script, so a wrong fixture makes a test fail.
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC).timestamp()
HEADER = {"format": "k8s-workloads-course/watch-recording", "version": 1}

Obj = dict[str, Any]


def stamp(offset: float) -> str:
    """RFC 3339 at whole seconds, as metadata timestamps are."""
    return datetime.fromtimestamp(T0 + int(offset), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def uid(name: str) -> str:
    h = hashlib.sha1(name.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


class Sim:
    """Collects events; in time order, each object gets the next resourceVersion."""

    def __init__(self) -> None:
        self.rv = 4100
        self.lines: list[Obj] = []

    def emit(self, at: float, kind: str, typ: str, obj: Obj, *, from_list: bool = False) -> Obj:
        line: Obj = {
            "t": round(T0 + at, 3),
            "kind": kind,
            "type": typ,
            "object": copy.deepcopy(obj),
        }
        if from_list:
            line["fromList"] = True
        self.lines.append(line)
        return obj

    def write(self, name: str) -> None:
        with (HERE / name).open("w") as out:
            out.write(json.dumps(HEADER) + "\n")
            for line in sorted(self.lines, key=lambda x: x["t"]):
                self.rv += 1
                line["object"]["metadata"]["resourceVersion"] = str(self.rv)
                out.write(json.dumps(line, separators=(",", ":")) + "\n")


def owner(kind: str, name: str, api: str = "apps/v1") -> Obj:
    return {
        "apiVersion": api,
        "kind": kind,
        "name": name,
        "uid": uid(f"{kind}/{name}"),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def node(name: str, zone: str, disk: str, at: float) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": uid(f"node/{name}"),
            "creationTimestamp": stamp(at),
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/role": "agent",
                "node-role.kubernetes.io/agent": "",
                "type": "kwok",
                "topology.kubernetes.io/zone": zone,
                "course.dev/disk": disk,
            },
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {
            "taints": [{"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}]
        },
        "status": {
            "phase": "Running",
            "allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
            "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"},
            "addresses": [
                {"address": f"10.0.0.{int(name.split('-')[-1]) + 10}", "type": "InternalIP"},
                {"address": name, "type": "Hostname"},
            ],
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": stamp(at),
                    "lastTransitionTime": stamp(at),
                }
            ],
            "nodeInfo": {
                "architecture": "amd64",
                "operatingSystem": "linux",
                "kubeletVersion": "kwok-v0.8.0",
                "osImage": "simulated by kwok",
            },
        },
    }


def pod(
    name: str,
    namespace: str,
    created: float,
    *,
    ctrl: Obj | None = None,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    image: str = "busybox:1.37",
    restart: str = "Always",
) -> Obj:
    meta: Obj = {
        "name": name,
        "namespace": namespace,
        "uid": uid(f"{namespace}/{name}@{created}"),
        "creationTimestamp": stamp(created),
        "labels": dict(labels or {}),
    }
    if annotations:
        meta["annotations"] = dict(annotations)
    if ctrl:
        meta["ownerReferences"] = [ctrl]
        meta["generateName"] = name.rsplit("-", 1)[0] + "-"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "image": image,
                    "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "imagePullPolicy": "IfNotPresent",
                }
            ],
            "restartPolicy": restart,
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "schedulerName": "default-scheduler",
            "serviceAccountName": "default",
            "tolerations": [
                {"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}
            ],
            "priority": 0,
            "enableServiceLinks": True,
        },
        "status": {"phase": "Pending", "qosClass": "Burstable"},
    }


def cond(kind: str, status: str, at: float, reason: str | None = None) -> Obj:
    found: Obj = {"type": kind, "status": status, "lastProbeTime": None}
    found["lastTransitionTime"] = stamp(at)
    if reason:
        found["reason"] = reason
    return found


def schedule(p: Obj, node_name: str, at: float) -> Obj:
    p["spec"]["nodeName"] = node_name
    p["status"]["conditions"] = [cond("PodScheduled", "True", at)]
    return p


def unschedulable(p: Obj, at: float, message: str) -> Obj:
    c = cond("PodScheduled", "False", at, "Unschedulable")
    c["message"] = message
    p["status"]["conditions"] = [c]
    return p


def start(p: Obj, at: float, ip: str) -> Obj:
    p["status"].update(
        phase="Running",
        hostIP="10.0.0.11",
        podIP=ip,
        podIPs=[{"ip": ip}],
        startTime=stamp(at),
    )
    p["status"]["conditions"] = [
        *[c for c in p["status"]["conditions"] if c["type"] == "PodScheduled"],
        cond("Initialized", "True", at),
        cond("ContainersReady", "False", at, "ContainersNotReady"),
        cond("Ready", "False", at, "ContainersNotReady"),
    ]
    p["status"]["containerStatuses"] = [
        {
            "name": "main",
            "image": p["spec"]["containers"][0]["image"],
            "imageID": "",
            "ready": False,
            "restartCount": 0,
            "started": True,
            "state": {"running": {"startedAt": stamp(at)}},
        }
    ]
    return p


def ready(p: Obj, at: float) -> Obj:
    for c in p["status"]["conditions"]:
        if c["type"] in ("Ready", "ContainersReady"):
            c.update(status="True", lastTransitionTime=stamp(at))
            c.pop("reason", None)
    p["status"]["containerStatuses"][0]["ready"] = True
    return p


def finish(p: Obj, at: float, code: int) -> Obj:
    p["status"]["phase"] = "Succeeded" if code == 0 else "Failed"
    for c in p["status"]["conditions"]:
        if c["type"] in ("Ready", "ContainersReady"):
            c.update(status="False", lastTransitionTime=stamp(at), reason="PodCompleted")
    status = p["status"]["containerStatuses"][0]
    status.update(ready=False, started=False)
    status["state"] = {
        "terminated": {
            "exitCode": code,
            "reason": "Completed" if code == 0 else "Error",
            "startedAt": p["status"].get("startTime"),
            "finishedAt": stamp(at),
        }
    }
    return p


def delete(p: Obj, at: float) -> Obj:
    p["metadata"]["deletionTimestamp"] = stamp(at + 30)
    p["metadata"]["deletionGracePeriodSeconds"] = 30
    return p


def pod_lifecycle(sim: Sim, p: Obj, node_name: str, at: float, ready_after: float) -> Obj:
    """ADDED, scheduled, started, ready: the path every kwok pod takes."""
    sim.emit(at, "Pod", "ADDED", p)
    sim.emit(at + 0.1, "Pod", "MODIFIED", schedule(p, node_name, at))
    sim.emit(at + 0.4, "Pod", "MODIFIED", start(p, at + 0.4, f"10.244.{len(sim.lines) % 250}.2"))
    sim.emit(at + ready_after, "Pod", "MODIFIED", ready(p, at + ready_after))
    return p


# -- scenarios -----------------------------------------------------------------------------


def daemonset() -> None:
    """Three nodes, a DaemonSet on each, worker-4 joins, worker-2 leaves."""
    sim = Sim()
    ns = "course-daemonsets"
    nodes = {
        "worker-1": ("zone-a", "ssd"),
        "worker-2": ("zone-b", "ssd"),
        "worker-3": ("zone-c", "hdd"),
    }
    for name, (zone, disk) in nodes.items():
        sim.emit(0.0, "Node", "ADDED", node(name, zone, disk, -600), from_list=True)
    kube_dns = pod(
        "coredns-7db6d8ff4d-x2k9p",
        "kube-system",
        -590,
        ctrl=owner("ReplicaSet", "coredns-7db6d8ff4d"),
    )
    kube_dns["metadata"]["labels"] = {"k8s-app": "kube-dns", "pod-template-hash": "7db6d8ff4d"}
    start(schedule(kube_dns, "worker-1", -590), -589, "10.244.1.3")
    sim.emit(0.0, "Pod", "ADDED", ready(kube_dns, -588), from_list=True)

    ds = owner("DaemonSet", "log-collector")
    labels = {
        "app": "log-collector",
        "controller-revision-hash": "6c9b8d7f5b",
        "pod-template-generation": "1",
    }
    agents = {}
    for i, (name, suffix) in enumerate(zip(nodes, ("4kq7x", "b8m2n", "z5r9t"), strict=True)):
        p = pod(
            f"log-collector-{suffix}", ns, 1, ctrl=ds, labels=labels, image="fluent/fluent-bit:3.2"
        )
        agents[name] = pod_lifecycle(sim, p, name, 1.0 + i * 0.05, 2.0 + i)

    sts = owner("StatefulSet", "web")
    web0 = pod(
        "web-0",
        ns,
        2,
        ctrl=sts,
        labels={"app": "web", "apps.kubernetes.io/pod-index": "0"},
        image="nginx:1.27",
    )
    pod_lifecycle(sim, web0, "worker-1", 2.0, 2.5)
    web1 = pod(
        "web-1", ns, 5, ctrl=sts, labels={"app": "web"}, image="nginx:1.27"
    )  # no index label
    pod_lifecycle(sim, web1, "worker-3", 5.0, 1.5)

    job = owner("Job", "backup-index", "batch/v1")
    idx = pod(
        "backup-index-0-kz8wq",
        ns,
        3,
        ctrl=job,
        labels={
            "batch.kubernetes.io/job-name": "backup-index",
            "batch.kubernetes.io/job-completion-index": "0",
        },
        annotations={"batch.kubernetes.io/job-completion-index": "0", "course.kwok/run-for": "3s"},
        restart="Never",
    )
    pod_lifecycle(sim, idx, "worker-3", 3.0, 1.0)
    sim.emit(7.4, "Pod", "MODIFIED", finish(idx, 7.4, 0))

    big = pod(
        "huge-cache-5d8f7-qq4lm",
        ns,
        6,
        ctrl=owner("ReplicaSet", "huge-cache-5d8f7"),
        labels={"app": "huge-cache"},
    )
    sim.emit(6.0, "Pod", "ADDED", big)
    sim.emit(
        6.2,
        "Pod",
        "MODIFIED",
        unschedulable(big, 6, "0/3 nodes are available: 3 Insufficient cpu."),
    )

    sim.emit(10.0, "Node", "ADDED", node("worker-4", "zone-a", "ssd", 10))
    p = pod("log-collector-h7w3c", ns, 10, ctrl=ds, labels=labels, image="fluent/fluent-bit:3.2")
    pod_lifecycle(sim, p, "worker-4", 10.3, 1.7)

    leaving = agents["worker-2"]
    sim.emit(20.0, "Pod", "MODIFIED", delete(leaving, 20))
    sim.emit(21.0, "Pod", "DELETED", leaving)
    sim.emit(21.5, "Node", "DELETED", node("worker-2", "zone-b", "ssd", -600))
    sim.write("daemonset.jsonl")


def job_status(job: Obj, at: float, **counts: int) -> Obj:
    status = job.setdefault("status", {})
    status.setdefault("startTime", stamp(at))
    status.update(
        active=counts.get("active", 0),
        ready=counts.get("ready", 0),
        succeeded=counts.get("succeeded", 0),
        failed=counts.get("failed", 0),
        terminating=0,
        uncountedTerminatedPods={},
    )
    for key in ("active", "succeeded", "failed"):
        if not status[key]:
            del status[key]
    return job


def job_obj(
    name: str, ns: str, at: float, completions: int, parallelism: int, backoff: int = 6
) -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": uid(f"job/{name}@{at}"),
            "creationTimestamp": stamp(at),
            "generation": 1,
            "labels": {"batch.kubernetes.io/job-name": name, "job-name": name},
        },
        "spec": {
            "completions": completions,
            "parallelism": parallelism,
            "backoffLimit": backoff,
            "completionMode": "NonIndexed",
            "suspend": False,
            "podReplacementPolicy": "TerminatingOrFailed",
            "manualSelector": False,
            "selector": {
                "matchLabels": {"batch.kubernetes.io/controller-uid": uid(f"job/{name}@{at}")}
            },
            "template": {
                "metadata": {"annotations": {"course.kwok/run-for": "3s"}},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "render", "image": "busybox:1.37"}],
                },
            },
        },
        "status": {},
    }


def complete(job: Obj, at: float) -> Obj:
    job["status"]["completionTime"] = stamp(at)
    job["status"]["conditions"] = [
        {
            **cond("SuccessCriteriaMet", "True", at, "CompletionsReached"),
            "lastProbeTime": stamp(at),
            "message": "Reached expected number of succeeded pods",
        },
        {
            **cond("Complete", "True", at, "CompletionsReached"),
            "lastProbeTime": stamp(at),
            "message": "Reached expected number of succeeded pods",
        },
    ]
    return job


def fail(job: Obj, at: float) -> Obj:
    job["status"]["conditions"] = [
        {
            **cond("FailureTarget", "True", at, "BackoffLimitExceeded"),
            "lastProbeTime": stamp(at),
            "message": "Job has reached the specified backoff limit",
        },
        {
            **cond("Failed", "True", at, "BackoffLimitExceeded"),
            "lastProbeTime": stamp(at),
            "message": "Job has reached the specified backoff limit",
        },
    ]
    return job


def jobs() -> None:
    """render-frames (6 x 1), render-frames-parallel (6 x 3), broken-task failing 3 times."""
    sim = Sim()
    ns = "course-jobs"
    serial = job_obj("render-frames", ns, 0, 6, 1)
    sim.emit(0.0, "Job", "ADDED", serial)
    sim.emit(0.1, "Job", "MODIFIED", job_status(serial, 0, active=1))
    for done in range(1, 7):
        t = done * 3.5
        sim.emit(
            t - 2.0, "Job", "MODIFIED", job_status(serial, 0, active=1, ready=1, succeeded=done - 1)
        )
        if done < 6:
            sim.emit(t, "Job", "MODIFIED", job_status(serial, 0, active=1, succeeded=done))
    sim.emit(21.0, "Job", "MODIFIED", complete(job_status(serial, 0, succeeded=6), 21))

    par = job_obj("render-frames-parallel", ns, 0.5, 6, 3)
    sim.emit(0.5, "Job", "ADDED", par)
    sim.emit(0.6, "Job", "MODIFIED", job_status(par, 0.5, active=3))
    sim.emit(2.2, "Job", "MODIFIED", job_status(par, 0.5, active=3, ready=3))
    sim.emit(4.0, "Job", "MODIFIED", job_status(par, 0.5, active=3, succeeded=3))
    sim.emit(5.6, "Job", "MODIFIED", job_status(par, 0.5, active=3, ready=3, succeeded=3))
    sim.emit(7.5, "Job", "MODIFIED", complete(job_status(par, 0.5, succeeded=6), 7))

    broken = job_obj("broken-task", ns, 1.0, 1, 1, backoff=2)
    sim.emit(1.0, "Job", "ADDED", broken)
    sim.emit(1.1, "Job", "MODIFIED", job_status(broken, 1, active=1))
    sim.emit(3.5, "Job", "MODIFIED", job_status(broken, 1, failed=1))
    sim.emit(13.6, "Job", "MODIFIED", job_status(broken, 1, active=1, failed=1))
    sim.emit(16.0, "Job", "MODIFIED", job_status(broken, 1, failed=2))
    sim.emit(36.1, "Job", "MODIFIED", job_status(broken, 1, active=1, failed=2))
    sim.emit(38.5, "Job", "MODIFIED", fail(job_status(broken, 1, failed=3), 38))

    other = job_obj("render-frames", "course-other", 2.0, 1, 1)
    sim.emit(2.0, "Job", "ADDED", other)
    sim.write("jobs.jsonl")


def cronjob() -> None:
    """report: */2 schedule, keeps 2 succeeded and 1 failed Job; the rest are pruned."""
    sim = Sim()
    ns = "course-cronjobs"
    cj: Obj = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": "report",
            "namespace": ns,
            "uid": uid("CronJob/report"),
            "creationTimestamp": stamp(30),
            "generation": 1,
        },
        "spec": {
            "schedule": "*/2 * * * *",
            "concurrencyPolicy": "Allow",
            "suspend": False,
            "successfulJobsHistoryLimit": 2,
            "failedJobsHistoryLimit": 1,
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 0,
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "report", "image": "busybox:1.37"}],
                        }
                    },
                }
            },
        },
        "status": {},
    }
    sim.emit(30.5, "CronJob", "ADDED", cj)
    runs: dict[int, Obj] = {}
    last_success: float | None = None
    plan = {120: 0, 240: 0, 360: 1, 480: 0, 600: 1}  # scheduled second -> exit code
    for at, code in plan.items():
        name = f"report-{int((T0 + at) // 60)}"
        job = job_obj(name, ns, at, 1, 1, backoff=0)
        job["metadata"]["ownerReferences"] = [owner("CronJob", "report", "batch/v1")]
        job["metadata"]["annotations"] = {
            "batch.kubernetes.io/cronjob-scheduled-timestamp": stamp(at)
        }
        job["metadata"]["labels"]["batch.kubernetes.io/controller-uid"] = job["metadata"]["uid"]
        runs[at] = job
        sim.emit(at + 0.1, "Job", "ADDED", job)
        cj["status"] = {
            "lastScheduleTime": stamp(at),
            "active": [
                {
                    "kind": "Job",
                    "namespace": ns,
                    "name": name,
                    "apiVersion": "batch/v1",
                    "uid": job["metadata"]["uid"],
                }
            ],
        }
        if last_success is not None:
            cj["status"]["lastSuccessfulTime"] = stamp(last_success)
        sim.emit(at + 0.2, "CronJob", "MODIFIED", cj)
        sim.emit(at + 0.3, "Job", "MODIFIED", job_status(job, at, active=1))
        sim.emit(at + 2.0, "Job", "MODIFIED", job_status(job, at, active=1, ready=1))
        if code == 0:
            sim.emit(
                at + 6.1, "Job", "MODIFIED", complete(job_status(job, at, succeeded=1), at + 6)
            )
            last_success = at + 6
            cj["status"]["lastSuccessfulTime"] = stamp(last_success)
        else:
            sim.emit(at + 4.1, "Job", "MODIFIED", fail(job_status(job, at, failed=1), at + 4))
        cj["status"].pop("active", None)
        sim.emit(at + 6.3, "CronJob", "MODIFIED", cj)
    sim.emit(487.0, "Job", "DELETED", runs[120])  # a third success: the oldest one goes
    sim.emit(605.0, "Job", "DELETED", runs[360])  # a second failure: the older one goes

    other = job_obj("cleanup-29513346", ns, 200, 1, 1)
    other["metadata"]["ownerReferences"] = [owner("CronJob", "cleanup", "batch/v1")]
    sim.emit(200.1, "Job", "ADDED", other)
    plain = job_obj("report-manual", ns, 300, 1, 1)
    sim.emit(300.1, "Job", "ADDED", plain)
    sim.emit(630.0, "CronJob", "MODIFIED", cj)
    sim.write("cronjob.jsonl")


def pvc(name: str, ns: str, at: float, sts: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": uid(f"pvc/{name}"),
            "creationTimestamp": stamp(at),
            "labels": {"app": sts},
            "finalizers": ["kubernetes.io/pvc-protection"],
        },
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
            "storageClassName": "standard",
            "volumeMode": "Filesystem",
        },
        "status": {"phase": "Pending"},
    }


def bind(claim: Obj) -> Obj:
    claim["spec"]["volumeName"] = f"pvc-{claim['metadata']['uid']}"
    claim["metadata"].setdefault("annotations", {})["pv.kubernetes.io/bind-completed"] = "yes"
    claim["status"] = {
        "phase": "Bound",
        "accessModes": ["ReadWriteOnce"],
        "capacity": {"storage": "1Gi"},
    }
    return claim


def statefulset() -> None:
    """web: 0 -> 3 replicas, one at a time (OrderedReady), then 3 -> 1 in reverse."""
    sim = Sim()
    ns = "course-statefulsets"
    sts: Obj = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {
            "name": "web",
            "namespace": ns,
            "uid": uid("StatefulSet/web"),
            "creationTimestamp": stamp(0),
            "generation": 1,
        },
        "spec": {
            "replicas": 3,
            "serviceName": "web",
            "podManagementPolicy": "OrderedReady",
            "selector": {"matchLabels": {"app": "web"}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "persistentVolumeClaimRetentionPolicy": {
                "whenDeleted": "Retain",
                "whenScaled": "Retain",
            },
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]},
            },
            "volumeClaimTemplates": [
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                    "status": {"phase": "Pending"},
                }
            ],
        },
        "status": {"replicas": 0, "availableReplicas": 0, "observedGeneration": 1},
    }
    sim.emit(0.05, "StatefulSet", "ADDED", sts)
    owner_ref = owner("StatefulSet", "web")
    pods = {}
    # ordinal: created, scheduled, started, ready, node
    timing = {0: (0, 0, 1, 2, "worker-1"), 1: (2, 2, 3, 5, "worker-2"), 2: (5, 6, 7, 8, "worker-3")}
    for ordinal, (created, scheduled, started, is_ready, where) in timing.items():
        claim = pvc(f"data-web-{ordinal}", ns, created, "web")
        sim.emit(created + 0.1, "PersistentVolumeClaim", "ADDED", claim)
        p = pod(
            f"web-{ordinal}",
            ns,
            created,
            ctrl=owner_ref,
            labels={
                "app": "web",
                "apps.kubernetes.io/pod-index": str(ordinal),
                "statefulset.kubernetes.io/pod-name": f"web-{ordinal}",
            },
            image="nginx:1.27",
        )
        p["spec"]["hostname"] = f"web-{ordinal}"
        p["spec"]["subdomain"] = "web"
        p["spec"]["volumes"] = [
            {"name": "data", "persistentVolumeClaim": {"claimName": f"data-web-{ordinal}"}}
        ]
        pods[ordinal] = p
        sim.emit(created + 0.15, "Pod", "ADDED", p)
        sim.emit(created + 0.3, "PersistentVolumeClaim", "MODIFIED", bind(claim))
        sim.emit(scheduled + 0.35, "Pod", "MODIFIED", schedule(p, where, scheduled))
        sim.emit(started + 0.1, "Pod", "MODIFIED", start(p, started, f"10.244.{ordinal + 1}.7"))
        sim.emit(is_ready + 0.1, "Pod", "MODIFIED", ready(p, is_ready))
        sts["status"].update(
            replicas=ordinal + 1,
            readyReplicas=ordinal + 1,
            availableReplicas=ordinal + 1,
            currentReplicas=ordinal + 1,
        )
        sim.emit(is_ready + 0.2, "StatefulSet", "MODIFIED", sts)

    sts["spec"]["replicas"] = 1
    sts["metadata"]["generation"] = 2
    sim.emit(20.0, "StatefulSet", "MODIFIED", sts)
    for ordinal, deleting in ((2, 20), (1, 22)):
        p = pods[ordinal]
        sim.emit(deleting + 0.1, "Pod", "MODIFIED", delete(p, deleting))
        sim.emit(deleting + 1.1, "Pod", "DELETED", p)
        sts["status"].update(
            replicas=ordinal,
            readyReplicas=ordinal,
            availableReplicas=ordinal,
            currentReplicas=ordinal,
        )
        sim.emit(deleting + 1.2, "StatefulSet", "MODIFIED", sts)

    db = pod(
        "db-0",
        ns,
        3,
        ctrl=owner("StatefulSet", "db"),
        labels={"app": "db", "apps.kubernetes.io/pod-index": "0"},
    )
    pod_lifecycle(sim, db, "worker-2", 3.0, 1.5)
    sim.emit(3.1, "PersistentVolumeClaim", "ADDED", pvc("data-db-0", ns, 3, "db"))
    sim.write("statefulset.jsonl")


def core_event(
    name: str,
    ns: str,
    involved: Obj,
    reason: str,
    message: str,
    at: float,
    *,
    kind: str = "Normal",
    component: str = "statefulset-controller",
    count: int = 1,
) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": uid(f"event/{name}"),
            "creationTimestamp": stamp(at),
        },
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "source": {"component": component},
        "firstTimestamp": stamp(at),
        "lastTimestamp": stamp(at),
        "count": count,
        "type": kind,
        "eventTime": None,
        "reportingComponent": "",
        "reportingInstance": "",
    }


def scheduler_event(
    name: str, ns: str, involved: Obj, reason: str, message: str, at: float, kind: str = "Normal"
) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": uid(f"event/{name}"),
            "creationTimestamp": stamp(at),
        },
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "source": {},
        "firstTimestamp": None,
        "lastTimestamp": None,
        "eventTime": datetime.fromtimestamp(T0 + at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "type": kind,
        "action": "Scheduling" if reason != "Scheduled" else "Binding",
        "reportingComponent": "default-scheduler",
        "reportingInstance": "default-scheduler-kwok-course-control-plane",
    }


def events() -> None:
    """What the web StatefulSet's scale-up and -down leave in core/v1 Events."""
    sim = Sim()
    ns = "course-statefulsets"

    def ref(kind: str, name: str, api: str = "v1") -> Obj:
        return {
            "kind": kind,
            "namespace": ns,
            "name": name,
            "uid": uid(f"{kind}/{name}"),
            "apiVersion": api,
            "resourceVersion": "4100",
        }

    sts = ref("StatefulSet", "web", "apps/v1")
    sim.emit(
        0.1,
        "Event",
        "ADDED",
        core_event(
            "web.18a1f0c2a1b2c3d4",
            ns,
            sts,
            "SuccessfulCreate",
            "create Claim data-web-0 Pod web-0 in StatefulSet web success",
            0,
        ),
    )
    sim.emit(
        0.2,
        "Event",
        "ADDED",
        core_event(
            "web.18a1f0c2a1b2c3e5",
            ns,
            sts,
            "SuccessfulCreate",
            "create Pod web-0 in StatefulSet web successful",
            0,
        ),
    )
    sim.emit(
        0.4,
        "Event",
        "ADDED",
        scheduler_event(
            "web-0.18a1f0c2b0000001",
            ns,
            ref("Pod", "web-0"),
            "Scheduled",
            "Successfully assigned course-statefulsets/web-0 to worker-1",
            0.4,
        ),
    )
    warn = scheduler_event(
        "web-2.18a1f0c3c0000001",
        ns,
        ref("Pod", "web-2"),
        "FailedScheduling",
        "0/3 nodes are available: 3 Insufficient cpu.",
        5.2,
        "Warning",
    )
    sim.emit(5.3, "Event", "ADDED", warn)
    warn["series"] = {
        "count": 2,
        "lastObservedTime": datetime.fromtimestamp(T0 + 6.1, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    sim.emit(6.2, "Event", "MODIFIED", warn)
    again = scheduler_event(
        "web-2.18a1f0c3d0000002",
        ns,
        ref("Pod", "web-2"),
        "FailedScheduling",
        "0/3 nodes are available: 3 Insufficient cpu.",
        7.3,
        "Warning",
    )
    sim.emit(7.4, "Event", "ADDED", again)
    sim.emit(
        20.1,
        "Event",
        "ADDED",
        core_event(
            "web.18a1f0c4e0000001",
            ns,
            sts,
            "SuccessfulDelete",
            "delete Pod web-2 in StatefulSet web successful",
            20,
        ),
    )
    killing = core_event(
        "web-1.18a1f0c4f0000001",
        ns,
        ref("Pod", "web-1"),
        "Killing",
        "Stopping container nginx",
        22,
        component="kubelet",
    )
    sim.emit(22.2, "Event", "ADDED", killing)
    sim.emit(30.0, "Event", "DELETED", killing)
    elsewhere = core_event(
        "pi.18a1f0c500000001",
        "course-jobs",
        {"kind": "Job", "namespace": "course-jobs", "name": "pi"},
        "SuccessfulCreate",
        "Created pod: pi-x7k2d",
        8,
        component="job-controller",
    )
    sim.emit(8.0, "Event", "ADDED", elsewhere)
    sim.write("events.jsonl")


def watch_script() -> None:
    """Lists and watch streams for the Watcher: a 410 Gone, then a dropped connection."""
    ns = "course-statefulsets"
    owner_ref = owner("StatefulSet", "web")

    def web(n: int, rv: int, incarnation: str = "", phase: str = "Pending") -> Obj:
        p = pod(f"web-{n}", ns, n, ctrl=owner_ref, labels={"app": "web"}, image="nginx:1.27")
        p["metadata"]["uid"] = uid(f"web-{n}{incarnation}")
        p["metadata"]["resourceVersion"] = str(rv)
        p["status"]["phase"] = phase
        return p

    def ev(typ: str, obj: Obj) -> Obj:
        return {"type": typ, "object": obj}

    gone = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "too old resource version: 100 (180)",
        "reason": "Expired",
        "code": 410,
    }
    bookmark = {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "resourceVersion": "110",
            "annotations": {"k8s.io/initial-events-end": "true"},
        },
    }
    script = {
        "kind": "Pod",
        "namespace": ns,
        "lists": [
            {"resourceVersion": "100", "items": [web(0, 90), web(1, 95)]},
            {
                "resourceVersion": "200",
                "items": [web(0, 150, phase="Running"), web(2, 160, "-b"), web(3, 170)],
            },
            {
                "resourceVersion": "300",
                "items": [web(0, 150, phase="Running"), web(3, 250, phase="Running")],
            },
        ],
        "watches": [
            [
                ev("ADDED", web(2, 101)),
                ev("MODIFIED", web(0, 102, phase="Running")),
                ev("DELETED", web(1, 103)),
                ev("BOOKMARK", bookmark),
                ev("ERROR", gone),
            ],
            [
                ev("MODIFIED", web(3, 201, phase="Running")),
                {"drop": "Connection broken: ConnectionResetError(104, 'Connection reset')"},
            ],
            [ev("ADDED", web(4, 301))],
        ],
    }
    (HERE / "watch_script.json").write_text(json.dumps(script, indent=1) + "\n")


if __name__ == "__main__":
    daemonset()
    jobs()
    cronjob()
    statefulset()
    events()
    watch_script()
