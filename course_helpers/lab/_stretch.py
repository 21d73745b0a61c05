"""Lab 06's stretch exercises: a DaemonSet rollout, an Indexed Job's failure policy, a canary.

As in ``_checks``, and built from ``_check_base`` as they are: pure
``*_problem`` functions list every fault of one object (tested without a
cluster); the ``check_*`` functions read the cluster, wait a little for a
rollout in progress and raise :class:`CheckFailed` with all that is wrong, and
why, when the cluster knows.
"""

from __future__ import annotations

from typing import Any

from ..kube._diagnose import format_causes
from ..kube._wait import condition_true
from ._check_base import (
    CheckFailed,
    Obj,
    alive,
    list_objects,
    owned_by,
    require,
    settle,
    why_stuck,
)

AGENT, OLD_IMAGE, NEW_IMAGE, MAX_UNAVAILABLE = "node-agent", "busybox:1.36", "busybox:1.37", 2
SHARDS, SHARD_COMPLETIONS, SHARD_PARALLELISM, SHARD_CONTAINER = "shards", 4, 2, "shard"
FAIL_CODE, IGNORE_CODE = 42, 75
CANARY, CANARY_REPLICAS, PARTITION = "kv", 4, 2


def _joined(problems: list[str]) -> str | None:
    return " ".join(problems) if problems else None


def _images(template: Obj) -> list[str]:
    return [str(c.get("image")) for c in ((template.get("spec") or {}).get("containers") or [])]


# -- exercise 6: a DaemonSet rolling update ---------------------------------------------------


def daemonset_update_problem(spec: Obj) -> str | None:
    """Say everything wrong with DaemonSet node-agent's spec for exercise 6; None when right.

    Example:
        >>> daemonset_update_problem({"updateStrategy": {"type": "OnDelete"},
        ...     "template": {"spec": {"containers": [{"image": "busybox:1.37"}]}}})[:40]
        'DaemonSet node-agent has updateStrategy '
    """
    problems = []
    strategy = spec.get("updateStrategy") or {}
    kind = strategy.get("type", "RollingUpdate")
    if kind != "RollingUpdate":
        problems.append(
            f"DaemonSet {AGENT} has updateStrategy {kind}: its pods get the new template only "
            "when you delete them. Set spec.updateStrategy.type: RollingUpdate."
        )
    unavailable = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", 1)
    if kind == "RollingUpdate" and str(unavailable) != str(MAX_UNAVAILABLE):
        default = " (1 is the default)" if str(unavailable) == "1" else ""
        problems.append(
            f"DaemonSet {AGENT} has maxUnavailable {unavailable}{default}; set "
            f"spec.updateStrategy.rollingUpdate.maxUnavailable: {MAX_UNAVAILABLE} (a number "
            "of nodes, not a percentage)."
        )
    images = _images(spec.get("template") or {})
    if images != [NEW_IMAGE]:
        problems.append(
            f"DaemonSet {AGENT}'s pod template runs {', '.join(images) or 'no container'}; "
            f"version 2 is image {NEW_IMAGE}."
        )
    return _joined(problems)


def daemonset_rollout_problem(ds: Obj, pods: list[Obj]) -> str | None:
    """Say why the new template has not reached every node yet; None when it has.

    ``pods`` are the DaemonSet's own live pods; they name the nodes still on the old image.
    """
    status = ds.get("status") or {}
    if status.get("observedGeneration") != ds["metadata"].get("generation"):
        return f"The DaemonSet controller has not seen the latest change to {AGENT} yet."
    desired = status.get("desiredNumberScheduled", 0)
    updated = status.get("updatedNumberScheduled", 0)
    available = status.get("numberAvailable", 0)
    if desired == 0:
        return f"DaemonSet {AGENT} wants no pods: does its template allow any node?"
    if updated == desired and available == desired:
        return None
    want = _images(ds["spec"]["template"])
    stale = sorted(
        f"{p['spec'].get('nodeName')} ({', '.join(_images(p))})"
        for p in pods
        if _images(p) != want and p["spec"].get("nodeName")
    )
    waiting = sorted(
        str(p["spec"].get("nodeName"))
        for p in pods
        if _images(p) == want and not condition_true(p, "Ready")
    )
    said = (
        f"DaemonSet {AGENT}: {updated}/{desired} nodes run the new template, {available} available."
    )
    if stale:
        said += f" Still on the old template: {', '.join(stale)}."
        if (ds["spec"].get("updateStrategy") or {}).get("type") == "OnDelete":
            said += " With OnDelete, delete those pods to replace them."
    if waiting:
        said += f" New pods not Ready yet on {', '.join(waiting)}."
    return said


def check_daemonset_rollout(namespace: str, timeout: float = 60) -> str:
    """DaemonSet node-agent rolls busybox:1.37 out to every node, at most 2 unavailable at once."""
    ds = require(
        "DaemonSet",
        AGENT,
        namespace,
        "Apply the starting point first: ch.lab.start(6, ns).",
    )
    found = daemonset_update_problem(ds["spec"])
    if found:
        raise CheckFailed(found)
    uid = ds["metadata"]["uid"]
    latest: dict[str, Obj] = {}

    def settled(daemonsets: list[Obj]) -> str | None:
        current = next((d for d in daemonsets if d["metadata"]["uid"] == uid), None)
        if current is None:
            raise CheckFailed(f"DaemonSet {AGENT} was deleted while the check waited.")
        latest["ds"] = current
        mine = [p for p in alive(list_objects("Pod", namespace)) if owned_by(p, uid)]
        return daemonset_rollout_problem(current, mine)

    settle("DaemonSet", namespace, settled, timeout, why=why_stuck(namespace, "DaemonSet", AGENT))
    desired = latest["ds"]["status"].get("desiredNumberScheduled", 0)
    return (
        f"DaemonSet {AGENT} runs {NEW_IMAGE} on all {desired} nodes "
        f"(updatedNumberScheduled {desired}/{desired}), rolled out with RollingUpdate, "
        f"maxUnavailable {MAX_UNAVAILABLE}."
    )


# -- exercise 7: an Indexed Job with a pod failure policy ------------------------------------


def _rule_codes(rules: list[Obj], action: str) -> list[tuple[Any, set[int]]]:
    found = []
    for rule in rules:
        codes = rule.get("onExitCodes") or {}
        if rule.get("action") == action and codes.get("operator") == "In":
            found.append((codes.get("containerName"), {int(v) for v in codes.get("values") or []}))
    return found


def indexed_job_spec_problem(spec: Obj) -> str | None:
    """Say everything wrong with Job shards' spec for exercise 7; None when it is right.

    Example:
        >>> indexed_job_spec_problem({"completionMode": "NonIndexed"}).split(":")[0]
        'Job shards has completionMode NonIndexed'
    """
    problems = []
    mode = spec.get("completionMode", "NonIndexed")
    if mode != "Indexed":
        problems.append(
            f"Job {SHARDS} has completionMode {mode}: set spec.completionMode: Indexed, so "
            "each pod gets its own index (0, 1, ...)."
        )
    if spec.get("completions") != SHARD_COMPLETIONS:
        problems.append(
            f"Job {SHARDS} has completions: {spec.get('completions', 'unset')}; set "
            f"{SHARD_COMPLETIONS} (indexes 0-{SHARD_COMPLETIONS - 1})."
        )
    if spec.get("parallelism", 1) != SHARD_PARALLELISM:
        problems.append(
            f"Job {SHARDS} runs {spec.get('parallelism', 1)} pod(s) at a time; set "
            f"spec.parallelism: {SHARD_PARALLELISM}."
        )
    rules = (spec.get("podFailurePolicy") or {}).get("rules") or []
    for action, code, meaning in (
        ("FailJob", FAIL_CODE, "bad input: fail the whole Job at once"),
        ("Ignore", IGNORE_CODE, "try again later: replace the pod without counting it"),
    ):
        matching = [name for name, codes in _rule_codes(rules, action) if code in codes]
        if not matching:
            problems.append(
                f"No podFailurePolicy rule with action: {action} for exit code {code} ({meaning}): "
                f"add `- action: {action}` with `onExitCodes: {{containerName: {SHARD_CONTAINER}, "
                f"operator: In, values: [{code}]}}` to spec.podFailurePolicy.rules."
            )
        elif all(name not in (None, SHARD_CONTAINER) for name in matching):
            problems.append(
                f"The {action} rule for exit code {code} names container {matching[0]!r}; the "
                f"Job's container is {SHARD_CONTAINER!r}."
            )
    template_spec = (spec.get("template") or {}).get("spec") or {}
    if template_spec.get("restartPolicy") != "Never":
        problems.append(
            "A podFailurePolicy needs spec.template.spec.restartPolicy: Never (the API server "
            "refuses OnFailure with it)."
        )
    if problems:
        problems.append(
            f"A Job's completionMode, completions and template cannot change in place: "
            f"ch.delete('Job', '{SHARDS}', ns), then apply again."
        )
    return _joined(problems)


def indexed_job_outcome_problem(job: Obj, pods: list[Obj]) -> str | None:
    """Say how far Job shards is from Complete with every index; raise if it failed for good."""
    status = job.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    for kind in ("FailureTarget", "Failed"):
        failed = conditions.get(kind)
        if failed and failed.get("status") == "True":
            reason = failed.get("reason", "")
            if reason == "PodFailurePolicy":
                raise CheckFailed(
                    f"Job {SHARDS} Failed by its podFailurePolicy: {failed.get('message')}. "
                    f"That is the FailJob rule working: exit code {FAIL_CODE} says the input "
                    "is bad. Remove the simulated exit code (course.kwok/exit-code) from the "
                    "template, delete the Job and apply it again."
                )
            raise CheckFailed(
                f"Job {SHARDS} Failed ({reason}: {failed.get('message')}); "
                f"{status.get('failed', 0)} pod(s) counted as failed."
            )
    done = status.get("completedIndexes") or ""
    want = f"0-{SHARD_COMPLETIONS - 1}"
    if condition_true(job, "Complete") and done == want:
        return None
    failed_pods = [p for p in pods if (p.get("status") or {}).get("phase") == "Failed"]
    ignored = max(0, len(failed_pods) - int(status.get("failed", 0)))
    said = (
        f"Job {SHARDS} is not Complete yet: indexes done {done or 'none'} of {want}, "
        f"{status.get('active', 0)} active."
    )
    if ignored:
        said += (
            f" {ignored} failed pod(s) were ignored by the podFailurePolicy (not counted "
            f"against backoffLimit: status.failed is {status.get('failed', 0)}) and replaced."
        )
    return said


def check_indexed_job(namespace: str, timeout: float = 60) -> str:
    """Indexed Job shards (4 completions, 2 at once) fails fast on 42, ignores 75, is Complete."""
    job = require("Job", SHARDS, namespace, "Apply your Job YAML first.")
    found = indexed_job_spec_problem(job["spec"])
    if found:
        raise CheckFailed(found)
    uid = job["metadata"]["uid"]
    why = why_stuck(namespace, "Job", SHARDS)

    def problem(jobs: list[Obj]) -> str | None:
        current = next((j for j in jobs if j["metadata"]["uid"] == uid), None)
        if current is None:
            raise CheckFailed(f"Job {SHARDS} was deleted while the check waited.")
        pods = [p for p in list_objects("Pod", namespace) if owned_by(p, uid)]
        try:
            return indexed_job_outcome_problem(current, pods)
        except CheckFailed as exc:
            raise CheckFailed(str(exc) + format_causes([c.text for c in why()])) from None

    settle("Job", namespace, problem, timeout, why=why)
    return (
        f"Job {SHARDS} is Complete: indexes 0-{SHARD_COMPLETIONS - 1} succeeded, "
        f"{SHARD_PARALLELISM} at a time; its podFailurePolicy fails the Job on exit code "
        f"{FAIL_CODE} and ignores exit code {IGNORE_CODE}."
    )


# -- exercise 8: a StatefulSet canary with a partition ----------------------------------------


def canary_spec_problem(spec: Obj) -> str | None:
    """Say everything wrong with StatefulSet kv's spec for exercise 8; None when right.

    Example:
        >>> canary_spec_problem({"replicas": 4, "updateStrategy": {"rollingUpdate":
        ...     {"partition": 2}}, "template": {"spec": {"containers": [{"image":
        ...     "busybox:1.37"}]}}}) is None
        True
    """
    problems = []
    if spec.get("replicas", 1) != CANARY_REPLICAS:
        problems.append(
            f"StatefulSet {CANARY} has replicas: {spec.get('replicas', 1)}; keep {CANARY_REPLICAS}."
        )
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        problems.append(
            f"StatefulSet {CANARY} has updateStrategy {strategy.get('type')}: a partition "
            "belongs to RollingUpdate; set spec.updateStrategy.type: RollingUpdate."
        )
    partition = (strategy.get("rollingUpdate") or {}).get("partition", 0)
    if partition != PARTITION:
        default = " (the default: every pod is updated)" if partition == 0 else ""
        problems.append(
            f"StatefulSet {CANARY} has partition {partition}{default}; set "
            f"spec.updateStrategy.rollingUpdate.partition: {PARTITION} so only kv-2 and kv-3 "
            "get the new version."
        )
    images = _images(spec.get("template") or {})
    if images != [NEW_IMAGE]:
        problems.append(
            f"StatefulSet {CANARY}'s template runs {', '.join(images) or 'no container'}; the "
            f"new version is {NEW_IMAGE}."
        )
    return _joined(problems)


def canary_problem(sts: Obj, pods: list[Obj]) -> str | None:
    """Say how the pods' revisions differ from a canary at the partition; None when right.

    ``pods`` are the StatefulSet's live pods; each one's ``controller-revision-hash``
    label is compared with status.updateRevision and status.currentRevision.
    """
    status = sts.get("status") or {}
    if status.get("observedGeneration") != sts["metadata"].get("generation"):
        return f"The StatefulSet controller has not seen the latest change to {CANARY} yet."
    update, current = status.get("updateRevision"), status.get("currentRevision")
    if update and update == current:
        return (
            f"Every pod of {CANARY} runs the same revision ({update}): there is no canary. "
            "Apply the starting point (ch.lab.start(8, ns), which waits "
            "until its pods are Ready), then apply the new template with the partition. "
            "(A partition set before the change still holds it back; one lowered to 0 "
            "has updated every pod.)"
        )
    by_name = {p["metadata"]["name"]: p for p in pods}
    problems = []
    for ordinal in range(CANARY_REPLICAS):
        name = f"{CANARY}-{ordinal}"
        pod = by_name.get(name)
        want = update if ordinal >= PARTITION else current
        which = "new (updateRevision)" if ordinal >= PARTITION else "old (currentRevision)"
        if pod is None:
            problems.append(f"{name} does not exist yet.")
            continue
        revision = (pod["metadata"].get("labels") or {}).get("controller-revision-hash")
        if revision != want:
            problems.append(f"{name} runs revision {revision}, not the {which} {want}.")
        elif not condition_true(pod, "Ready"):
            problems.append(f"{name} is not Ready yet.")
    if problems:
        return f"StatefulSet {CANARY}: " + " ".join(problems)
    return None


def check_statefulset_canary(namespace: str, timeout: float = 60) -> str:
    """StatefulSet kv is a canary: kv-2 and kv-3 run the new revision, kv-0 and kv-1 the old."""
    sts = require(
        "StatefulSet",
        CANARY,
        namespace,
        "Apply the starting point first: ch.lab.start(8, ns).",
    )
    found = canary_spec_problem(sts["spec"])
    if found:
        raise CheckFailed(found)
    uid = sts["metadata"]["uid"]
    latest: dict[str, Obj] = {}

    def problem(sets: list[Obj]) -> str | None:
        current = next((s for s in sets if s["metadata"]["uid"] == uid), None)
        if current is None:
            raise CheckFailed(f"StatefulSet {CANARY} was deleted while the check waited.")
        latest["sts"] = current
        pods = [p for p in alive(list_objects("Pod", namespace)) if owned_by(p, uid)]
        return canary_problem(current, pods)

    settle(
        "StatefulSet", namespace, problem, timeout, why=why_stuck(namespace, "StatefulSet", CANARY)
    )
    status = latest["sts"]["status"]
    return (
        f"StatefulSet {CANARY} is a canary: kv-2, kv-3 run the new revision "
        f"{status.get('updateRevision')}, kv-0, kv-1 stay on {status.get('currentRevision')} "
        f"(partition {PARTITION})."
    )
