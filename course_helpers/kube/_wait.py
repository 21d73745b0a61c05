"""Blocking waits for the cluster to reach a state, by watching rather than polling.

Each is a :class:`~course_helpers.kube._waiting.Wait` on the current cluster
(:func:`default_source`): it survives 410 Gone and dropped connections, has a
timeout, and says when it runs out what it waited for, what it saw last and
why, read from the cluster (``_diagnose``: a missing StorageClass, a
nodeSelector no node matches, a Job past its backoffLimit). In a notebook,
prefer the awaitable waits (``await ch.wait_for(...)``,
``await ch.rollout_status(...)``): they keep the live views drawing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import _waiting
from ._diagnose import because
from ._objects import Objects, condition_true, pod_ready
from ._session import api_client
from ._waiting import Wait, WaitFailed, WaitTimeout, namespace_gone, nodes_ready
from ._watch import Source
from ._watch_source import KubernetesSource

Obj = dict[str, Any]

__all__ = [
    "Objects",
    "Wait",
    "WaitFailed",
    "WaitTimeout",
    "condition_true",
    "default_source",
    "job_finished",
    "namespace_gone",
    "nodes_ready",
    "pods_ready",
    "timeout_message",
    "until",
    "why",
]


def default_source() -> Source:
    """Return where waits list and watch: the current cluster (or a test's scripted source)."""
    return _waiting.source_factory() or KubernetesSource(api_client())


def why(
    kind: str,
    namespace: str | None,
    label_selector: str | None = None,
    field_selector: str | None = None,
) -> Callable[[], str]:
    """Return what a timed-out wait on these objects appends: ``because(...)``'s "Why: ..."."""
    names = None
    if field_selector and field_selector.startswith("metadata.name="):
        names = [field_selector.removeprefix("metadata.name=").split(",")[0]]
    if namespace is None:
        return lambda: ""
    return lambda: because(namespace, kind, names, label_selector)


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
    shown = ", ".join(seen) or "none"
    return (
        f"Waited {timeout:.0f}s for {description} in {namespace}; "
        f"{kind} objects seen last: {shown}."
        + why(kind, namespace, label_selector, field_selector)()
    )


# -- the blocking waits the notebooks and tests have used from the start ------------------------


def until(
    kind: str,
    namespace: str | None,
    done: Callable[[list[Obj]], bool],
    description: str,
    timeout: float = 120,
    label_selector: str | None = None,
    field_selector: str | None = None,
) -> Objects:
    """Block until ``done(objects)`` is true for the ``kind`` objects in ``namespace``.

    ``done`` sees every matching object after each change. Returns them. For a
    notebook cell that must keep the live views drawing, use the awaitable
    waits instead (:func:`~course_helpers.wait_for`, :func:`~course_helpers.rollout_status`).

    Example:
        >>> ch.until("Pod", ns, lambda pods: len(pods) == 3, "3 pods")  # doctest: +SKIP
        <3 objects: pod/web-0, pod/web-1, pod/web-2>

    Raises:
        WaitTimeout: ``timeout`` seconds passed; the message shows the last state and
            the causes found in the cluster (see :func:`timeout_message`).
    """
    wait = Wait(
        kind,
        namespace,
        lambda objects: Objects(objects) if done(objects) else None,
        description,
        label_selector=label_selector,
        field_selector=field_selector,
        source=default_source(),
        why=why(kind, namespace, label_selector, field_selector),
    )
    return wait.result(timeout)


def _finished(job: Obj) -> str | None:
    return next((s for s in ("Complete", "Failed") if condition_true(job, s)), None)


def job_finished(namespace: str, name: str, timeout: float = 120) -> str:
    """Block until Job ``name`` is Complete or Failed and return which.

    In a notebook, ``await ch.wait_for("Job", name, ns, "condition=complete")``
    waits the same way while the live views keep drawing.

    Example:
        >>> ch.job_finished(ns, "pi")  # doctest: +SKIP
        'Complete'
    """

    def check(jobs: list[Obj]) -> str | None:
        return _finished(jobs[0]) if jobs else None

    wait = Wait(
        "Job",
        namespace,
        check,
        f"Job {name} to finish",
        field_selector=f"metadata.name={name}",
        source=default_source(),
        why=why("Job", namespace, None, f"metadata.name={name}"),
    )
    return wait.result(timeout)


def pods_ready(
    namespace: str, count: int, label_selector: str | None = None, timeout: float = 120
) -> Objects:
    """Block until exactly ``count`` pods (matching the selector) are Ready and none is leaving.

    Example:
        >>> ch.pods_ready(ns, 3, label_selector="app=web")  # doctest: +SKIP
        <3 objects: pod/web-0, pod/web-1, pod/web-2>
    """

    def ready(pods: list[Obj]) -> Objects | None:
        alive = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        done = len(pods) == count == len(alive) and all(pod_ready(p) for p in alive)
        return Objects(pods) if done else None

    wait = Wait(
        "Pod",
        namespace,
        ready,
        f"{count} Ready pods",
        label_selector=label_selector,
        source=default_source(),
        why=why("Pod", namespace, label_selector),
    )
    return wait.result(timeout)
