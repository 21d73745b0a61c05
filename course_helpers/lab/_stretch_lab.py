"""Lab 06's stretch exercises 6-8 as exercises (text, hints, solutions) and their version 1.

The checks themselves are in ``_stretch``; :func:`start` applies an exercise's
starting point and waits, watching, until its pods are Ready.
"""

from __future__ import annotations

from typing import Any

from ..kube._manifests import apply, parse
from ..kube._manifests import manifest as manifest_text
from ..kube._wait import until
from ._exercise import Exercise
from ._stretch import (
    AGENT,
    CANARY,
    FAIL_CODE,
    IGNORE_CODE,
    MAX_UNAVAILABLE,
    NEW_IMAGE,
    PARTITION,
    SHARD_COMPLETIONS,
    SHARD_CONTAINER,
    SHARD_PARALLELISM,
    SHARDS,
    check_daemonset_rollout,
    check_indexed_job,
    check_statefulset_canary,
)

STRETCH = (
    Exercise(
        6,
        "Stretch: DaemonSet rollout",
        f"Start from ch.lab.start(6, ns); roll DaemonSet {AGENT} out to {NEW_IMAGE} on every "
        f"node with RollingUpdate, maxUnavailable {MAX_UNAVAILABLE}",
        check_daemonset_rollout,
        "Two changes to the version you applied: the container's image, and "
        "spec.updateStrategy. Apply, then watch: `%kubectl rollout status "
        f"daemonset/{AGENT} -n {{ns}}`; `%kubectl get pods -L controller-revision-hash -o wide "
        "-n {ns}` shows which node runs which revision.",
        "lab-daemonset-rolling",
        f"In the DaemonSet's spec: `updateStrategy: {{type: RollingUpdate, rollingUpdate: "
        f"{{maxUnavailable: {MAX_UNAVAILABLE}}}}}`; in spec.template.spec.containers[0]: "
        f"`image: {NEW_IMAGE}`.",
        "A new pod template makes a new revision. With RollingUpdate the DaemonSet "
        f"controller deletes old pods on up to {MAX_UNAVAILABLE} nodes at once and creates the "
        "new one on each freed node, until updatedNumberScheduled equals "
        "desiredNumberScheduled. With OnDelete it would wait for you to delete each pod.",
        start="lab-daemonset-agent-v1",
    ),
    Exercise(
        7,
        "Stretch: Indexed Job",
        f"Indexed Job {SHARDS}: {SHARD_COMPLETIONS} completions, {SHARD_PARALLELISM} at a "
        f"time; podFailurePolicy: FailJob on exit code {FAIL_CODE}, Ignore exit code "
        f"{IGNORE_CODE}; Complete",
        check_indexed_job,
        "spec.completionMode: Indexed gives each pod an index (in its name and in "
        "JOB_COMPLETION_INDEX). spec.podFailurePolicy.rules is a list of rules; the first "
        "that matches a failed pod wins. Such a Job needs restartPolicy: Never. To see "
        "FailJob work, give the template the annotation course.kwok/exit-code: "
        f'"{FAIL_CODE}" (the simulated container then exits {FAIL_CODE}).',
        "lab-job-indexed",
        f"In the Job's spec: `completionMode: Indexed`, `completions: {SHARD_COMPLETIONS}`, "
        f"`parallelism: {SHARD_PARALLELISM}`, and `podFailurePolicy: {{rules: [{{action: "
        f"FailJob, onExitCodes: {{containerName: {SHARD_CONTAINER}, operator: In, values: "
        f"[{FAIL_CODE}]}}}}, {{action: Ignore, onExitCodes: {{containerName: "
        f"{SHARD_CONTAINER}, operator: In, values: [{IGNORE_CODE}]}}}}]}}`. Delete the Job "
        f"first (`%kubectl delete job {SHARDS} -n {{ns}}`), then apply.",
        f"Indexed: the Job is Complete when each index 0-{SHARD_COMPLETIONS - 1} has one "
        f"successful pod (status.completedIndexes). FailJob on {FAIL_CODE} ends the whole Job "
        "at the first such failure (reason PodFailurePolicy) instead of spending backoffLimit "
        f"on retries that cannot help; Ignore on {IGNORE_CODE} replaces the pod without "
        "counting it against backoffLimit.",
    ),
    Exercise(
        8,
        "Stretch: StatefulSet canary",
        f"Start from ch.lab.start(8, ns); update StatefulSet {CANARY} to {NEW_IMAGE} with "
        f"partition {PARTITION}: only {CANARY}-2 and {CANARY}-3 run the new revision",
        check_statefulset_canary,
        "spec.updateStrategy.rollingUpdate.partition: pods whose ordinal is at least the "
        "partition get the new template, the others keep the old one. Compare "
        "`%kubectl get pods -L controller-revision-hash -n {ns}` with "
        f"`%kubectl get sts {CANARY} -n {{ns}} -o jsonpath='{{.status.currentRevision}} "
        "{.status.updateRevision}'`.",
        "lab-statefulset-canary",
        f"In the StatefulSet's spec: `updateStrategy: {{type: RollingUpdate, rollingUpdate: "
        f"{{partition: {PARTITION}}}}}`; in spec.template.spec.containers[0]: "
        f"`image: {NEW_IMAGE}`. Apply it over version 1, without deleting anything.",
        f"The StatefulSet controller updates pods from the highest ordinal down, but none "
        f"below the partition: {CANARY}-3 and {CANARY}-2 get the new revision "
        f"(status.updateRevision), {CANARY}-0 and {CANARY}-1 keep the old one "
        "(status.currentRevision). Lowering the partition to 0 finishes the rollout.",
        start="lab-statefulset-canary-v1",
    ),
)


def start(number: int, namespace: str, timeout: float = 120) -> None:
    """Apply stretch exercise ``number``'s version 1 and wait until its pods are Ready.

    Example:
        >>> ch.lab.start(8, ns)  # doctest: +SKIP
        Started StatefulSet kv (version 1): 4 pods Ready.
    """
    exercise = next((e for e in STRETCH if e.number == number), None)
    if exercise is None or exercise.start is None:
        raise ValueError(f"Exercise {number} has no starting point: write its YAML yourself.")
    (doc,) = parse(manifest_text(exercise.start))
    kind, name = doc["kind"], doc["metadata"]["name"]
    apply(exercise.start, namespace)

    def rolled_out(found: list[dict[str, Any]]) -> bool:
        if not found:
            return False
        status = found[0].get("status") or {}
        if status.get("observedGeneration") != found[0]["metadata"].get("generation"):
            return False
        if kind == "DaemonSet":
            want = status.get("desiredNumberScheduled", 0)
            return bool(want) and want == status.get("numberReady") == status.get(
                "updatedNumberScheduled"
            )
        want = found[0]["spec"].get("replicas", 1)
        return bool(want == status.get("readyReplicas") == status.get("updatedReplicas"))

    found = until(
        kind,
        namespace,
        rolled_out,
        f"{kind} {name} version 1 Ready",
        timeout,
        None,
        f"metadata.name={name}",
    )
    status = found[0].get("status") or {}
    ready = status.get("numberReady", status.get("readyReplicas"))
    print(f"Started {kind} {name} (version 1): {ready} pods Ready.")
