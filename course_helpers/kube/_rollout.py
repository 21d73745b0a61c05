"""``kubectl rollout status``'s verdict on one DaemonSet, StatefulSet or Deployment.

A line-by-line port of kubectl's status viewers (k8s.io/kubectl v0.36.1,
``pkg/polymorphichelpers/rollout_status.go``), reading the raw camelCase object:
the same counters, the same order of tests, the same messages. Only the
``--revision`` check of Deployments is left out (the course never pins one).
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

#: The kinds ``kubectl rollout status`` (and :func:`rollout_message`) understands.
ROLLOUT_KINDS = ("DaemonSet", "StatefulSet", "Deployment")


class RolloutError(Exception):
    """kubectl would stop with this error (e.g. an OnDelete strategy, a missed deadline)."""


def _int(value: Any) -> int:
    return int(value or 0)


def _daemonset(obj: Obj) -> tuple[str, bool]:
    name, spec = obj["metadata"]["name"], obj.get("spec") or {}
    status = obj.get("status") or {}
    strategy = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate")
    if strategy != "RollingUpdate":
        raise RolloutError("rollout status is only available for RollingUpdate strategy type")
    if _int(obj["metadata"].get("generation")) <= _int(status.get("observedGeneration")):
        desired = _int(status.get("desiredNumberScheduled"))
        updated = _int(status.get("updatedNumberScheduled"))
        available = _int(status.get("numberAvailable"))
        if updated < desired:
            return (
                f'Waiting for daemon set "{name}" rollout to finish: {updated} out of '
                f"{desired} new pods have been updated...",
                False,
            )
        if available < desired:
            return (
                f'Waiting for daemon set "{name}" rollout to finish: {available} of '
                f"{desired} updated pods are available...",
                False,
            )
        return f'daemon set "{name}" successfully rolled out', True
    return "Waiting for daemon set spec update to be observed...", False


def _statefulset(obj: Obj) -> tuple[str, bool]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        raise RolloutError("rollout status is only available for RollingUpdate strategy type")
    observed = _int(status.get("observedGeneration"))
    if observed == 0 or _int(obj["metadata"].get("generation")) > observed:
        return "Waiting for statefulset spec update to be observed...", False
    replicas = spec.get("replicas")  # the API server defaults it to 1
    ready = _int(status.get("readyReplicas"))
    if replicas is not None and ready < replicas:
        return f"Waiting for {replicas - ready} pods to be ready...", False
    updated = _int(status.get("updatedReplicas"))
    rolling = strategy.get("rollingUpdate")
    if rolling is not None:
        partition = rolling.get("partition")
        if replicas is not None and partition is not None and updated < replicas - partition:
            return (
                f"Waiting for partitioned roll out to finish: {updated} out of "
                f"{replicas - partition} new pods have been updated...",
                False,
            )
        return f"partitioned roll out complete: {updated} new pods have been updated...", True
    update_rev, current_rev = status.get("updateRevision"), status.get("currentRevision")
    if update_rev != current_rev:
        return (
            f"waiting for statefulset rolling update to complete {updated} pods at "
            f"revision {update_rev}...",
            False,
        )
    current = _int(status.get("currentReplicas"))
    return (
        f"statefulset rolling update complete {current} pods at revision {current_rev}...",
        True,
    )


def _deployment(obj: Obj) -> tuple[str, bool]:
    name, spec = obj["metadata"]["name"], obj.get("spec") or {}
    status = obj.get("status") or {}
    if _int(obj["metadata"].get("generation")) <= _int(status.get("observedGeneration")):
        for cond in status.get("conditions") or []:
            if (
                cond.get("type") == "Progressing"
                and cond.get("reason") == "ProgressDeadlineExceeded"
            ):
                raise RolloutError(f'deployment "{name}" exceeded its progress deadline')
        replicas = spec.get("replicas")
        updated = _int(status.get("updatedReplicas"))
        if replicas is not None and updated < replicas:
            return (
                f'Waiting for deployment "{name}" rollout to finish: {updated} out of '
                f"{replicas} new replicas have been updated...",
                False,
            )
        total = _int(status.get("replicas"))
        if total > updated:
            return (
                f'Waiting for deployment "{name}" rollout to finish: {total - updated} old '
                "replicas are pending termination...",
                False,
            )
        available = _int(status.get("availableReplicas"))
        if available < updated:
            return (
                f'Waiting for deployment "{name}" rollout to finish: {available} of '
                f"{updated} updated replicas are available...",
                False,
            )
        return f'deployment "{name}" successfully rolled out', True
    return "Waiting for deployment spec update to be observed...", False


_VIEWERS = {"DaemonSet": _daemonset, "StatefulSet": _statefulset, "Deployment": _deployment}


def rollout_message(kind: str, obj: Obj) -> tuple[str, bool]:
    """Return what ``kubectl rollout status`` says about ``obj`` now, and whether it is done.

    Example:
        >>> ds = {"metadata": {"name": "x", "generation": 1},
        ...       "status": {"observedGeneration": 1, "desiredNumberScheduled": 3,
        ...                  "updatedNumberScheduled": 3, "numberAvailable": 2}}
        >>> rollout_message("DaemonSet", ds)[0]
        'Waiting for daemon set "x" rollout to finish: 2 of 3 updated pods are available...'


    Raises:
        RolloutError: kubectl would fail: the strategy is OnDelete, or a
            Deployment exceeded its progress deadline.
        ValueError: ``kind`` has no rollout status.
    """
    try:
        viewer = _VIEWERS[kind]
    except KeyError:
        raise ValueError(
            f"kubectl rollout status works on {', '.join(ROLLOUT_KINDS)}, not {kind}"
        ) from None
    return viewer(obj)
