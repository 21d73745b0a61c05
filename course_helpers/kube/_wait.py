"""Wait for the cluster to reach a state, by watching rather than polling.

Every wait has a timeout and says, when it runs out, what it was waiting for,
what it saw last and why, read from the cluster (``_diagnose``: a missing
StorageClass, a nodeSelector no node matches, a Job past its backoffLimit), so a
stuck demo explains itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kubernetes.dynamic.exceptions import ApiException

from ..errors import CourseError
from ._diagnose import because
from ._manifests import Objects, _guess_version, _resource, dynamic

Obj = dict[str, Any]


class WaitTimeout(CourseError):
    """The cluster did not reach the expected state in time."""


def until(
    kind: str,
    namespace: str,
    done: Callable[[list[Obj]], bool],
    description: str,
    timeout: float = 120,
    label_selector: str | None = None,
    field_selector: str | None = None,
) -> Objects:
    """Block until ``done(objects)`` is true for the ``kind`` objects in ``namespace``.

    ``done`` sees every matching object after each change. Returns them.

    Example:
        >>> until("Pod", ns, lambda pods: len(pods) == 3, "3 pods")  # doctest: +SKIP

    Raises:
        WaitTimeout: ``timeout`` seconds passed; the message shows the last state and
            the causes found in the cluster (see :func:`timeout_message`).
    """
    res = _resource({"apiVersion": _guess_version(kind), "kind": kind})
    deadline = time.monotonic() + timeout
    selectors = {"label_selector": label_selector, "field_selector": field_selector}
    objects: dict[str, Obj] = {}
    while True:
        listing = dynamic().get(res, namespace=namespace, _request_timeout=10, **selectors)
        objects = {o["metadata"]["name"]: o for o in (i.to_dict() for i in listing.items)}
        if done(list(objects.values())):
            return Objects(objects.values())
        version = listing.metadata.resourceVersion
        remaining = deadline - time.monotonic()
        try:
            for event in dynamic().watch(
                res,
                namespace=namespace,
                resource_version=version,
                timeout=max(1, int(remaining)),
                **selectors,
            ):
                kind_of = event["type"]
                if kind_of == "ERROR":
                    break
                obj = event["raw_object"]
                name = obj["metadata"]["name"]
                if kind_of == "DELETED":
                    objects.pop(name, None)
                else:
                    objects[name] = obj
                if done(list(objects.values())):
                    return Objects(objects.values())
                if time.monotonic() >= deadline:
                    break
        except ApiException as exc:
            if exc.status != 410:
                raise
        if time.monotonic() >= deadline:
            raise WaitTimeout(
                timeout_message(
                    kind,
                    namespace,
                    description,
                    timeout,
                    sorted(objects),
                    label_selector,
                    field_selector,
                )
            )


def timeout_message(
    kind: str,
    namespace: str,
    description: str,
    timeout: float,
    seen: list[str],
    label_selector: str | None = None,
    field_selector: str | None = None,
) -> str:
    """Say what a wait waited for, what it saw last and why it did not happen.

    The why comes from :func:`course_helpers.kube._diagnose.because`: the
    objects of ``kind`` the wait was about (by ``metadata.name=`` field selector
    or label selector), their pods, claims, nodes and Warning events.
    """
    names = None
    if field_selector and field_selector.startswith("metadata.name="):
        names = [field_selector.removeprefix("metadata.name=").split(",")[0]]
    shown = ", ".join(seen) or "none"
    return (
        f"Waited {timeout:.0f}s for {description} in {namespace}; "
        f"{kind} objects seen last: {shown}." + because(namespace, kind, names, label_selector)
    )


def condition_true(obj: Obj, kind: str) -> bool:
    """Return True when ``obj`` has condition ``kind`` with status True."""
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c.get("type") == kind and c.get("status") == "True" for c in conditions)


def job_finished(namespace: str, name: str, timeout: float = 120) -> str:
    """Wait until Job ``name`` is Complete or Failed and return which.

    Example:
        >>> ch.wait_for_job(ns, "pi")  # doctest: +SKIP
        'Complete'
    """
    found = until(
        "Job",
        namespace,
        lambda jobs: any(
            condition_true(j, "Complete") or condition_true(j, "Failed") for j in jobs
        ),
        f"Job {name} to finish",
        timeout,
        field_selector=f"metadata.name={name}",
    )
    return "Complete" if condition_true(found[0], "Complete") else "Failed"


def pods_ready(
    namespace: str, count: int, label_selector: str | None = None, timeout: float = 120
) -> Objects:
    """Wait until exactly ``count`` pods (matching the selector) are Ready and none is leaving."""

    def ready(pods: list[Obj]) -> bool:
        alive = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        return (
            len(pods) == count
            and all(condition_true(p, "Ready") for p in alive)
            and len(alive) == count
        )

    return until(
        "Pod", namespace, ready, f"{count} Ready pods", timeout, label_selector=label_selector
    )
