"""Why a pod is not Ready, a Job not Complete, a StatefulSet stuck, a DaemonSet with no node."""

from __future__ import annotations

from ._diagnose_base import Cause, Obj, _clip, _ordinal
from ._diagnose_nodes import placement_causes
from ._diagnose_storage import _class_list, missing_template_classes
from ._objects import condition, meta, name_of, natural_key, pod_ready


def pod_causes(pod: Obj, nodes: list[Obj]) -> list[Cause]:
    """Say why a pod is not Ready (nothing when it is, or is simply starting)."""
    name = name_of(pod)
    about = ("Pod", name)
    status, spec = pod.get("status") or {}, pod.get("spec") or {}
    if meta(pod).get("deletionTimestamp"):
        if meta(pod).get("finalizers"):
            return []  # deletion_causes names what holds it
        return [Cause(f"Pod {name} is being deleted: its containers are stopping.", about=about)]
    phase = status.get("phase") or "Pending"
    if phase == "Succeeded" or (phase == "Running" and pod_ready(pod)):
        return []
    if phase == "Failed":
        return [Cause(f"Pod {name} failed: {_termination(pod)}.", about=about)]
    if not spec.get("nodeName"):
        if spec.get("schedulingGates"):
            gates = ", ".join(g.get("name", "") for g in spec["schedulingGates"])
            return [Cause(f"Pod {name} waits on scheduling gates {gates}.", about=about)]
        placement = placement_causes(spec, nodes, f"Pod {name}")
        if placement:
            return [Cause(c.text, c.final, about) for c in placement]
        scheduled = condition(pod, "PodScheduled") or {}
        if scheduled.get("status") == "False" and scheduled.get("message"):
            return [
                Cause(
                    f"Pod {name} is not scheduled: {_clip(scheduled['message'])}",
                    about=about,
                )
            ]
        return []
    waiting = [
        (c, (c.get("state") or {}).get("waiting") or {})
        for c in (status.get("initContainerStatuses") or [])
        + (status.get("containerStatuses") or [])
        if (c.get("state") or {}).get("waiting")
    ]
    stuck = [
        f"container {c.get('name')} is waiting ({w.get('reason')}"
        + (f": {_clip(w.get('message'))}" if w.get("message") else "")
        + ")"
        + _last_exit(c)
        for c, w in waiting
        if w.get("reason") not in (None, "ContainerCreating", "PodInitializing")
    ]
    if stuck:
        return [Cause(f"Pod {name} on {spec['nodeName']}: {'; '.join(stuck)}.", about=about)]
    restarts = [
        c
        for c in status.get("containerStatuses") or []
        if c.get("restartCount") and not c.get("ready")
    ]
    if restarts:
        shown = "; ".join(
            f"container {c.get('name')} restarted {c['restartCount']} times" + _last_exit(c)
            for c in restarts
        )
        return [Cause(f"Pod {name} is not Ready: {shown}.", about=about)]
    return []


def _last_exit(container: Obj) -> str:
    last = (container.get("lastState") or {}).get("terminated") or {}
    if not last:
        return ""
    return f", last exit code {last.get('exitCode')} ({last.get('reason') or 'no reason'})"


def _termination(pod: Obj) -> str:
    status = pod.get("status") or {}
    ended = [
        f"container {c.get('name')} exited with code {t.get('exitCode')}"
        + (f" ({t.get('reason')})" if t.get("reason") else "")
        for c in status.get("containerStatuses") or []
        if (t := (c.get("state") or {}).get("terminated"))
    ]
    if ended:
        return "; ".join(ended)
    return str(status.get("message") or status.get("reason") or "no reason given")


def job_causes(job: Obj, pods: list[Obj]) -> list[Cause]:
    """Say why a Job is not Complete: Failed (and why), suspended, or its pods failing.

    Example:
        >>> job = {"metadata": {"name": "pi"}, "spec": {"backoffLimit": 2},
        ...        "status": {"failed": 3, "conditions": [{"type": "Failed", "status": "True",
        ...        "reason": "BackoffLimitExceeded", "message": "Job has reached the specified "
        ...        "backoff limit"}]}}
        >>> print(job_causes(job, [])[0].text)  # doctest: +NORMALIZE_WHITESPACE
        Job pi Failed (BackoffLimitExceeded: Job has reached the specified backoff limit):
        3 pods failed, and its backoffLimit 2 allows 2 retries, so it stopped at the third
        failure. Fix what makes the pods fail, then delete the Job and apply it again.
    """
    name, spec, status = name_of(job), job.get("spec") or {}, job.get("status") or {}
    about = ("Job", name)
    limit = int(spec.get("backoffLimit", 6))
    failed = int(status.get("failed") or 0)
    failed_pods = sorted(
        (p for p in pods if (p.get("status") or {}).get("phase") == "Failed"),
        key=lambda p: natural_key(name_of(p)),
    )
    why_pods = (
        f" Pod {name_of(failed_pods[-1])}: {_termination(failed_pods[-1])}." if failed_pods else ""
    )
    done = condition(job, "Complete") or {}
    if done.get("status") == "True":
        return []
    template = (spec.get("template") or {}).get("spec") or {}
    on_failure = template.get("restartPolicy") == "OnFailure"
    in_place = (
        " With restartPolicy OnFailure a failing container restarts in its pod, and the Job "
        f"fails once its pods' containers have restarted backoffLimit ({limit}) times in all."
    )
    ended = condition(job, "Failed") or condition(job, "FailureTarget") or {}
    if ended.get("status") == "True":
        reason, message = ended.get("reason"), ended.get("message")
        detail = f" ({reason}: {message})" if reason else ""
        if reason == "BackoffLimitExceeded" and on_failure:
            budget = (
                ": its containers restarted in place (restartPolicy OnFailure) until they had "
                f"restarted backoffLimit ({limit}) times in all; then the Job controller "
                "deleted its pods."
            )
        elif reason == "BackoffLimitExceeded":
            nth = _ordinal(limit + 1)
            budget = (
                f": {_pods(failed)} failed, and its backoffLimit {limit} allows {limit} "
                f"retr{'y' if limit == 1 else 'ies'}, so it stopped at the {nth} failure."
            )
        elif reason == "DeadlineExceeded":
            budget = (
                f": it ran longer than its activeDeadlineSeconds "
                f"({spec.get('activeDeadlineSeconds')})."
            )
        else:
            budget = f": {_pods(failed)} failed."
        return [
            Cause(
                f"Job {name} Failed{detail}{budget}{why_pods} Fix what makes the pods fail, "
                "then delete the Job and apply it again.",
                final=True,
                about=about,
            )
        ]
    if spec.get("suspend"):
        return [
            Cause(
                f"Job {name} is suspended (spec.suspend: true), so it starts no pods: set "
                "it to false to let it run.",
                final=True,
                about=about,
            )
        ]
    restarts = sum(
        int(c.get("restartCount") or 0)
        for p in pods
        if (p.get("status") or {}).get("phase") in ("Pending", "Running")
        for c in [
            *((p.get("status") or {}).get("initContainerStatuses") or []),
            *((p.get("status") or {}).get("containerStatuses") or []),
        ]
    )
    if on_failure and restarts:
        return [
            Cause(
                f"Job {name}'s containers have restarted {restarts} time(s) so far.{in_place}",
                about=about,
            )
        ]
    if failed:
        return [
            Cause(
                f"Job {name} has {failed} failed pod(s) so far; its backoffLimit {limit} "
                f"fails the Job at the {_ordinal(limit + 1)} failure. After each failure the "
                "Job controller waits before it makes the next pod (10 s, then doubling, at "
                f"most 10 min).{why_pods}",
                about=about,
            )
        ]
    return []


def _pods(count: int) -> str:
    return f"{count} pod{'' if count == 1 else 's'}"


def statefulset_causes(sts: Obj, pods: list[Obj], classes: list[Obj]) -> list[Cause]:
    """Say why a StatefulSet is stuck: a claim template's missing class, or an ordinal not Ready.

    Example:
        >>> sts = {"metadata": {"name": "db"}, "spec": {"replicas": 2, "volumeClaimTemplates":
        ...        [{"metadata": {"name": "data"}, "spec": {"storageClassName": "fast"}}]}}
        >>> print(statefulset_causes(sts, [], [{"metadata": {"name": "standard"}}])[0].text)
        ... # doctest: +NORMALIZE_WHITESPACE
        StatefulSet db's volumeClaimTemplate data asks for StorageClass 'fast', which does not
        exist (this cluster has only standard), so its claims data-db-0, data-db-1 stay
        Pending and its pods cannot start. Fix storageClassName in volumeClaimTemplates (or
        leave it out to get the default). The templates cannot change in place and a claim
        keeps its class: delete the StatefulSet and those claims, then apply again.
    """
    spec, name = sts.get("spec") or {}, name_of(sts)
    replicas = int(spec.get("replicas", 1))
    start = int((spec.get("ordinals") or {}).get("start", 0))
    found = [
        Cause(
            f"StatefulSet {name}'s volumeClaimTemplate {template} asks for StorageClass "
            f"{wanted!r}, which does not exist ({_class_list(classes)}), so its claims "
            f"{', '.join(f'{template}-{name}-{i}' for i in range(start, start + replicas))} "
            "stay Pending and its pods cannot start. Fix storageClassName in "
            "volumeClaimTemplates (or leave it out to get the default). The templates cannot "
            "change in place and a claim keeps its class: delete the StatefulSet and those "
            "claims, then apply again.",
            final=True,
            about=("StatefulSet", name),
        )
        for template, wanted in missing_template_classes(sts, classes).items()
    ]
    return found + _ordinal_causes(sts, pods)


def _ordinal_causes(sts: Obj, pods: list[Obj]) -> list[Cause]:
    spec, name = sts.get("spec") or {}, name_of(sts)
    if spec.get("podManagementPolicy", "OrderedReady") != "OrderedReady":
        return []
    replicas = int(spec.get("replicas", 1))
    start = int((spec.get("ordinals") or {}).get("start", 0))
    by_name = {name_of(p): p for p in pods}
    for ordinal in range(start, start + replicas):
        pod = by_name.get(f"{name}-{ordinal}")
        if pod is None or meta(pod).get("deletionTimestamp"):
            return []
        if not pod_ready(pod):
            later = [f"{name}-{i}" for i in range(ordinal + 1, start + replicas)]
            absent = [n for n in later if n not in by_name]
            if not absent:
                return []
            return [
                Cause(
                    f"StatefulSet {name} creates its pods one at a time, in order "
                    f"(podManagementPolicy OrderedReady): {', '.join(absent)} will be created "
                    f"only once {name}-{ordinal} is Ready, and it is not.",
                    about=("StatefulSet", name),
                )
            ]
    return []


def daemonset_causes(ds: Obj, nodes: list[Obj]) -> list[Cause]:
    """Say why a DaemonSet wants pods on no node (its selector, affinity or taints)."""
    status, name = ds.get("status") or {}, name_of(ds)
    if status.get("observedGeneration") != meta(ds).get("generation"):
        return []
    if status.get("desiredNumberScheduled", 0) != 0:
        return []
    template = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
    found = placement_causes(template, nodes, f"DaemonSet {name}")
    reason = (
        found[0].text
        if found
        else f"DaemonSet {name} wants a pod on 0 nodes: no node matches its pod template."
    )
    reason = reason.replace("can run on no node", "can run on no node (desired: 0 pods)", 1)
    return [Cause(reason, final=True, about=("DaemonSet", name))]
