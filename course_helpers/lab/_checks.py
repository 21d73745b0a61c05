"""The checks of Lab 06: each reads the cluster and raises CheckFailed saying what is wrong.

The pure ``*_problem`` functions judge one object (or a placement) and return a
sentence or None, so they can be tested without a cluster; the ``check_*``
functions fetch what they need, wait a little for things in progress, and raise.
A failure says why as well, read from the cluster (``kube._diagnose``): and a
check stops waiting at once when the cause is one that waiting cannot cure,
such as a StorageClass that does not exist.

They are built from ``_check_base`` (reading, requiring, settling).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from kubernetes import client as k8s

from ..kube._diagnose import deletion_causes, format_causes, gather
from ..kube._echo import echo
from ..kube._namespaces import is_managed
from ..kube._session import api_client
from ..kube._wait import condition_true
from ._check_base import CheckFailed as CheckFailed
from ._check_base import Obj as Obj
from ._check_base import alive, list_objects, names, owned_by, require, settle, why_stuck
from ._check_base import every_problem as every_problem

DISK_LABEL = "course.dev/disk"

DAEMONSET = "disk-check"

JOB, COMPLETIONS, PARALLELISM, BACKOFF_LIMIT = "thumbnails", 8, 4, 2

CRONJOB, SCHEDULE, KEEP_SUCCEEDED, KEEP_FAILED = "nightly-report", "30 2 * * *", 2, 3

STATEFULSET, REPLICAS = "db", 3

CLEANUP_KINDS = (
    "DaemonSet",
    "Job",
    "CronJob",
    "StatefulSet",
    "Service",
    "PersistentVolumeClaim",
    "Pod",
)


def _disk_labels() -> dict[str, str]:
    nodes = k8s.CoreV1Api(api_client()).list_node(_request_timeout=10).items
    return {n.metadata.name: (n.metadata.labels or {}).get(DISK_LABEL, "") for n in nodes}


def placement_problem(pods_by_node: dict[str, bool], disks: dict[str, str]) -> str | None:
    """Say what is wrong with where a DaemonSet's pods run (node -> Ready); None when right.

    Example:
        >>> placement_problem({"w1": True}, {"w1": "ssd", "w2": "hdd"}) is None
        True
    """
    ssd = sorted(n for n, disk in disks.items() if disk == "ssd")
    # A pod bound to a node that has gone is left to the pod garbage collector: skip it.
    problems = []
    wrong = sorted(n for n in pods_by_node if n in disks and n not in ssd)
    if wrong:
        where = ", ".join(f"{n} ({DISK_LABEL}={disks.get(n) or 'unset'})" for n in wrong)
        problems.append(
            f"DaemonSet {DAEMONSET} runs pods on {where}. Limit it to the ssd nodes: add "
            f"`nodeSelector: {{{DISK_LABEL}: ssd}}` (or node affinity) to spec.template.spec."
        )
    missing = [n for n in ssd if n not in pods_by_node]
    if missing:
        problems.append(
            f"No {DAEMONSET} pod on {', '.join(missing)}, although labelled {DISK_LABEL}=ssd. "
            "Check the spelling of the label key and value in the nodeSelector."
        )
    if problems:
        return every_problem(problems)
    waiting = [n for n in ssd if not pods_by_node[n]]
    if waiting:
        return f"The {DAEMONSET} pods on {', '.join(waiting)} are not Ready yet."
    return None


def check_daemonset_subset(namespace: str, timeout: float = 30) -> str:
    """DaemonSet disk-check keeps one Ready pod on every ssd node and none on other nodes."""
    ds = require("DaemonSet", DAEMONSET, namespace, "Apply your DaemonSet YAML first.")
    disks = _disk_labels()
    ssd = sorted(n for n, disk in disks.items() if disk == "ssd")
    if not ssd:
        raise CheckFailed(
            f"No node is labelled {DISK_LABEL}=ssd, so the DaemonSet has nowhere to run. "
            f"Label one: `kubectl label node <name> {DISK_LABEL}=ssd`."
        )
    uid = ds["metadata"]["uid"]

    def problem(pods: list[Obj]) -> str | None:
        mine = [p for p in alive(pods) if owned_by(p, uid)]
        by_node = {
            str(p["spec"].get("nodeName")): condition_true(p, "Ready")
            for p in mine
            if p["spec"].get("nodeName")
        }
        return placement_problem(by_node, disks)

    def observed(daemonsets: list[Obj]) -> str | None:
        current = [d for d in daemonsets if d["metadata"]["uid"] == uid]
        if current and (current[0].get("status") or {}).get("observedGeneration") == current[0][
            "metadata"
        ].get("generation"):
            return None
        return f"The DaemonSet controller has not looked at {DAEMONSET} yet."

    ds = next(
        d
        for d in settle("DaemonSet", namespace, observed, min(timeout, 10))
        if d["metadata"]["uid"] == uid
    )
    desired = (ds.get("status") or {}).get("desiredNumberScheduled", 0)
    if desired != len(ssd):
        # The controller has chosen other nodes than the ssd ones: once it has placed its
        # pods, say where they went, without waiting for a state that will not come.
        def placed(pods: list[Obj]) -> str | None:
            mine = [p for p in alive(pods) if owned_by(p, uid) and p["spec"].get("nodeName")]
            return None if len(mine) >= desired else "The DaemonSet's pods are being created."

        why = why_stuck(namespace, "DaemonSet", DAEMONSET)
        settle("Pod", namespace, placed, min(timeout, 10))
        settle("Pod", namespace, problem, timeout=0, why=why)
        raise CheckFailed(
            f"DaemonSet {DAEMONSET} wants pods on {desired} nodes, but {len(ssd)} nodes are "
            f"ssd ({', '.join(ssd)}): check its nodeSelector ({DISK_LABEL}: ssd)."
            + format_causes([c.text for c in why()])
        )
    settle("Pod", namespace, problem, timeout, why=why_stuck(namespace, "DaemonSet", DAEMONSET))
    others = sorted(set(disks) - set(ssd))
    return (
        f"DaemonSet {DAEMONSET} runs one Ready pod on each ssd node ({', '.join(ssd)}) "
        f"and none on {', '.join(others) or 'any other node'}."
    )


def job_spec_problem(spec: Obj) -> str | None:
    """Say everything that is wrong with a Job's spec for exercise 2; None when it is right.

    Example:
        >>> job_spec_problem({"completions": 8, "parallelism": 4, "backoffLimit": 2}) is None
        True
        >>> print(job_spec_problem({"completions": 1, "parallelism": 1}))  # doctest: +ELLIPSIS
        3 things to fix in your YAML:
        - Job thumbnails has completions: 1; ...
        - Job thumbnails runs 1 pod(s) at a time; ...
        - Job thumbnails has backoffLimit 6 (6 is the default); ...
    """
    problems = []
    completions = spec.get("completions")
    if completions != COMPLETIONS:
        now = (
            "unset (the Job is done when any pod succeeds)" if completions is None else completions
        )
        problems.append(
            f"Job {JOB} has completions: {now}; it needs {COMPLETIONS} successful pods: "
            f"set spec.completions: {COMPLETIONS}. It cannot be changed in place: "
            f"ch.delete('Job', '{JOB}', ns), then apply again."
        )
    if spec.get("parallelism", 1) != PARALLELISM:
        problems.append(
            f"Job {JOB} runs {spec.get('parallelism', 1)} pod(s) at a time; set "
            f"spec.parallelism: {PARALLELISM} to run {PARALLELISM} at once."
        )
    if spec.get("backoffLimit", 6) != BACKOFF_LIMIT:
        problems.append(
            f"Job {JOB} has backoffLimit {spec.get('backoffLimit', 6)} (6 is the default); its "
            f"failure budget should be {BACKOFF_LIMIT} retries: set spec.backoffLimit: "
            f"{BACKOFF_LIMIT}."
        )
    return every_problem(problems)


def check_parallel_job(namespace: str, timeout: float = 60) -> str:
    """Job thumbnails needs 8 completions, runs 4 pods at once, allows 2 retries, is Complete."""
    job = require("Job", JOB, namespace, "Apply your Job YAML first.")
    found = job_spec_problem(job["spec"])
    if found:
        raise CheckFailed(found)
    why = why_stuck(namespace, "Job", JOB)

    def problem(jobs: list[Obj]) -> str | None:
        current = next((j for j in jobs if j["metadata"]["name"] == JOB), None)
        if current is None:
            return f"Job {JOB} was deleted while the check waited."
        status = current.get("status") or {}
        # FailureTarget comes first; Failed follows once the Job's pods have stopped.
        if condition_true(current, "Failed") or condition_true(current, "FailureTarget"):
            raise CheckFailed(
                f"Job {JOB} Failed: {status.get('failed', 0)} pods failed, more than its "
                f"backoffLimit {BACKOFF_LIMIT} allows. Look at its pods (ch.pods(ns)) and their "
                "command; then delete the Job and apply it again."
                + format_causes([c.text for c in why()])
            )
        if not condition_true(current, "Complete"):
            return (
                f"Job {JOB} is still running: {status.get('succeeded', 0)}/{COMPLETIONS} "
                f"succeeded, {status.get('active', 0)} active. Run the check again when it is done."
            )
        return None

    settle("Job", namespace, problem, timeout, why=why)
    return (
        f"Job {JOB} is Complete: {COMPLETIONS}/{COMPLETIONS} succeeded, {PARALLELISM} at a time, "
        f"with a failure budget of {BACKOFF_LIMIT} retries."
    )


def schedule_problem(schedule: str) -> str | None:
    """Say why ``schedule`` does not fire at 02:30 every night, or None if it does.

    Equivalent spellings pass: the next firing times are compared, not the text.

    Example:
        >>> schedule_problem("30 02 * * *") is None
        True
    """
    from ..kube._cron import CronSchedule

    start = datetime(2026, 1, 1, tzinfo=UTC)
    want = CronSchedule.parse(SCHEDULE).ticks(start, count=10)
    advice = f"Use {SCHEDULE!r} (minute hour day-of-month month day-of-week)."
    try:
        got = CronSchedule.parse(schedule).ticks(start, count=10)
    except ValueError as exc:
        return f"The schedule {schedule!r} cannot be read as cron ({exc}). {advice}"
    if got == want:
        return None
    pattern = "%H:%M" if len({t.date() for t in got[:3]}) == 1 else "%a %H:%M"
    shown = ", ".join(f"{t:{pattern}}" for t in got[:3]) or "never"
    return (
        f"The schedule {schedule!r} fires at {shown}, ...; the report should run once a "
        f"night at 02:30. {advice}"
    )


def cronjob_spec_problem(spec: Obj) -> str | None:
    """Say everything that is wrong with a CronJob's spec for exercise 3; None when right."""
    problems = [schedule_problem(str(spec.get("schedule", "")))]
    for field, want, default in (
        ("successfulJobsHistoryLimit", KEEP_SUCCEEDED, 3),
        ("failedJobsHistoryLimit", KEEP_FAILED, 1),
    ):
        if spec.get(field, default) != want:
            problems.append(
                f"CronJob {CRONJOB} has {field}: {spec.get(field, default)}"
                f"{' (the default)' if spec.get(field, default) == default else ''}; "
                f"set spec.{field}: {want}."
            )
    if spec.get("suspend"):
        problems.append(f"CronJob {CRONJOB} is suspended: remove `suspend: true` so it runs.")
    return every_problem(problems)


def check_cronjob_history(namespace: str, timeout: float = 0) -> str:
    """CronJob nightly-report runs at 02:30 nightly and keeps 2 succeeded and 3 failed Jobs."""
    cronjob = require("CronJob", CRONJOB, namespace, "Apply your CronJob YAML first.")
    found = cronjob_spec_problem(cronjob["spec"])
    if found:
        raise CheckFailed(found)
    return (
        f"CronJob {CRONJOB} runs at 02:30 every night and keeps the newest "
        f"{KEEP_SUCCEEDED} successful and {KEEP_FAILED} failed Jobs."
    )


def statefulset_spec_problem(service: Obj, sts: Obj) -> str | None:
    """Say everything that is wrong with exercise 4's Service and StatefulSet; None when right."""
    name, svc = STATEFULSET, service.get("spec") or {}
    problems = []
    if svc.get("clusterIP") != "None":
        problems.append(
            f"Service {name} has clusterIP {svc.get('clusterIP')}: it load-balances. Make it "
            "headless with spec.clusterIP: None; that field cannot change in place, so "
            f"ch.delete('Service', '{name}', ns) and apply again."
        )
    spec = sts.get("spec") or {}
    if spec.get("serviceName") != name:
        problems.append(
            f"StatefulSet {name} has serviceName {spec.get('serviceName')!r}; it must be {name!r}."
        )
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    selector = svc.get("selector") or {}
    if not selector or any(labels.get(k) != v for k, v in selector.items()):
        problems.append(
            f"Service {name} selects {selector or 'nothing'}, but the StatefulSet's pods are "
            f"labelled {labels}: make the Service's selector match the pod labels."
        )
    if spec.get("replicas", 1) != REPLICAS:
        problems.append(
            f"StatefulSet {name} has replicas: {spec.get('replicas', 1)}; set {REPLICAS}."
        )
    if not spec.get("volumeClaimTemplates"):
        problems.append(
            f"StatefulSet {name} has no volumeClaimTemplates, so its pods get no storage of "
            "their own: add one (ReadWriteOnce, 1Gi). It cannot be added in place: "
            f"ch.delete('StatefulSet', '{name}', ns), then apply again."
        )
    return every_problem(problems)


def _resolve_quietly(fqdn: str, namespace: str) -> list[str]:
    from ..kube._cluster_ops import resolve

    with echo(False):
        return resolve(fqdn, namespace)


def check_statefulset_storage(namespace: str, timeout: float = 60) -> str:
    """StatefulSet db has a headless Service, 3 Ready pods, a Bound claim each and per-pod DNS."""
    needed = "The StatefulSet needs a headless Service named in its serviceName."
    service = require("Service", STATEFULSET, namespace, needed)
    sts = require("StatefulSet", STATEFULSET, namespace, "Apply your StatefulSet YAML first.")
    found = statefulset_spec_problem(service, sts)
    if found:
        raise CheckFailed(found)
    uid, start = sts["metadata"]["uid"], time.monotonic()
    templates = [t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]]
    wanted = [f"{STATEFULSET}-{i}" for i in range(REPLICAS)]

    def mine(pods: list[Obj]) -> dict[str, Obj]:
        return {p["metadata"]["name"]: p for p in alive(pods) if owned_by(p, uid)}

    def pods_problem(pods: list[Obj]) -> str | None:
        ready = {n for n, p in mine(pods).items() if condition_true(p, "Ready")}
        missing = [n for n in wanted if n not in ready]
        return f"Pods not Ready yet: {', '.join(missing)}." if missing else None

    why = why_stuck(namespace, "StatefulSet", STATEFULSET)
    pods = settle("Pod", namespace, pods_problem, timeout, why=why)
    claims = [f"{t}-{pod}" for pod in wanted for t in templates]

    def claims_problem(pvcs: list[Obj]) -> str | None:
        bound = {c["metadata"]["name"] for c in pvcs if c["status"].get("phase") == "Bound"}
        missing = [c for c in claims if c not in bound]
        return f"Claims not Bound: {', '.join(missing)}." if missing else None

    remaining = max(0.0, timeout - (time.monotonic() - start))
    settle("PersistentVolumeClaim", namespace, claims_problem, remaining, why=why)
    first = mine(pods)[wanted[0]]
    fqdn = f"{wanted[0]}.{STATEFULSET}.{namespace}.svc.cluster.local"
    deadline = time.monotonic() + min(15.0, max(timeout, 1.0))
    while (addresses := _resolve_quietly(fqdn, namespace)) != [first["status"].get("podIP")]:
        if time.monotonic() >= deadline:
            raise CheckFailed(
                f"{fqdn} resolves to {addresses or 'nothing'}, not to {wanted[0]}'s IP "
                f"{first['status'].get('podIP')}: is Service {STATEFULSET} headless and does it "
                "select the pods?"
            )
        time.sleep(0.5)
    return (
        f"StatefulSet {STATEFULSET}: pods {', '.join(wanted)} Ready, claims {', '.join(claims)} "
        f"Bound, and {fqdn} resolves to {wanted[0]}'s own IP."
    )


def check_cleanup(namespace: str, timeout: float = 30) -> str:
    """Nothing of the lab is left in the namespace: no workloads, Services, pods or claims."""
    deadline = time.monotonic() + max(timeout, 0)
    while True:
        if not is_managed(namespace):
            return f"Namespace {namespace} is gone, and everything in it."
        everything = {kind: list_objects(kind, namespace) for kind in CLEANUP_KINDS}
        # Pods of a node that has gone are the pod garbage collector's (after ~40-60 s).
        nodes = set(_disk_labels())
        everything["Pod"] = [
            p for p in everything["Pod"] if p["spec"].get("nodeName", "") in nodes | {""}
        ]
        left = [f"{kind}/{n}" for kind, items in everything.items() for n in names(items)]
        if not left:
            return f"Nothing of the lab is left in {namespace}."
        alive_uids = {i["metadata"]["uid"] for items in everything.values() for i in alive(items)}
        stuck = [
            f"{kind}/{i['metadata']['name']}"
            for kind, items in everything.items()
            for i in alive(items)
            if not i["metadata"].get("ownerReferences")
            or any(r.get("uid") in alive_uids for r in i["metadata"]["ownerReferences"])
        ]
        if stuck or time.monotonic() >= deadline:
            claims = [s for s in stuck if s.startswith("PersistentVolumeClaim/")]
            note = (
                " A StatefulSet's claims are kept when it is deleted (the default retention "
                "policy): delete them too, e.g. ch.delete('PersistentVolumeClaim', "
                f"'{claims[0].split('/')[1]}', ns)."
                if claims
                else ""
            )
            shown = ", ".join(stuck or left)
            state = "still there" if stuck else "still being deleted"
            held = [c.text for c in deletion_causes(gather(namespace))]
            raise CheckFailed(f"Left in {namespace} ({state}): {shown}.{note}{format_causes(held)}")
        time.sleep(0.5)
