"""``kubectl scale`` for a StatefulSet, watched from before the change.

A StatefulSet scales one ordinal at a time: up in order, each pod once the one
before is Ready; down in reverse, each pod once the one above is gone. To
*show* that order, the watch on the pods must start before the change: a watch
started after it may find two pods gone already and cannot tell which went
first. :func:`scale` therefore lists the pods, then changes ``replicas``, then
records every change the watch delivers, in the order the API server made
them::

    up = await ch.scale("StatefulSet", "web", ns, 5)
    up.ready   # ['web-3', 'web-4']
    down = await ch.scale("StatefulSet", "web", ns, 2)
    down.gone  # ['web-4', 'web-3', 'web-2']
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

from ..errors import CourseError
from ._echo import echo, say
from ._kinds import kind_info
from ._kubectl_wait import Outcome
from ._manifests import get, patch
from ._namespaces import require_managed
from ._objects import meta, name_of, pod_ready
from ._wait import Wait, default_source

Obj = dict[str, Any]

__all__ = ["Scaled", "scale", "scale_blocking", "scale_steps"]


class Scaled(Outcome):
    """What :func:`scale` saw: kubectl's lines, and the pods' order.

    Attributes:
        ready: the pods that became Ready during the change, in that order.
        gone: the pods that went away during the change, in that order.
    """

    ready: list[str]
    gone: list[str]


@dataclass
class ScaleSteps:
    """Records, event by event, which pods became Ready and which went away.

    Until :meth:`arm` is called (right before the change), it only learns what
    is there already; after, every pod that becomes Ready or disappears is
    appended to :attr:`ready` or :attr:`gone`. The answer comes once exactly
    the ``wanted`` pods are there, all Ready, and no other pod is left.
    """

    kubectl_name: str
    wanted: set[str]
    ready: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    present: set[str] = field(default_factory=set)
    ready_now: set[str] = field(default_factory=set)
    armed: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def arm(self) -> None:
        """Start recording: from now on, changes are the scaling's."""
        with self._lock:
            self.armed = True

    def check(self, pods: list[Obj]) -> Scaled | None:
        """See the pods after one change; return the answer once the scaling is done."""
        with self._lock:
            names = {name_of(p) for p in pods}
            alive = {name_of(p): p for p in pods if not meta(p).get("deletionTimestamp")}
            for name in sorted(self.present - names):  # one per watch event
                self.ready_now.discard(name)
                if self.armed:
                    self.gone.append(name)
            self.present = names
            for name in sorted(alive):
                if name not in self.ready_now and pod_ready(alive[name]):
                    self.ready_now.add(name)
                    if self.armed:
                        self.ready.append(name)
            for name in self.ready_now - set(alive):  # terminating: no longer Ready
                self.ready_now.discard(name)
            if not self.armed or names != self.wanted or self.ready_now != self.wanted:
                return None
            lines = [f"{self.kubectl_name} scaled"]
            lines += [f"pod/{n} Ready" for n in self.ready]
            lines += [f"pod/{n} deleted" for n in self.gone]
            done = Scaled("\n".join(lines), pods, [*self.ready, *self.gone])
            done.ready, done.gone = list(self.ready), list(self.gone)
            return done


def scale_steps(name: str, statefulset: Obj, replicas: int) -> tuple[ScaleSteps, str]:
    """Return the recorder for scaling ``statefulset`` to ``replicas`` and its pods' selector."""
    spec = statefulset.get("spec") or {}
    labels = (spec.get("selector") or {}).get("matchLabels") or {}
    if not labels or (spec.get("selector") or {}).get("matchExpressions"):
        raise CourseError(
            f"StatefulSet {name} selects its pods with expressions; scale() needs matchLabels."
        )
    start = int((spec.get("ordinals") or {}).get("start") or 0)
    wanted = {f"{name}-{i}" for i in range(start, start + replicas)}
    steps = ScaleSteps(kind_info("StatefulSet").kubectl_name(name), wanted)
    return steps, ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _prepare(
    kind: str, name: str, namespace: str, replicas: int
) -> tuple[Wait[Scaled], ScaleSteps]:
    info = kind_info(kind)
    if info.kind != "StatefulSet":
        raise ValueError(f"scale() shows a StatefulSet's order; {info.kind} is not one.")
    if replicas < 0:
        raise ValueError(f"replicas must be 0 or more, not {replicas}.")
    require_managed(namespace)
    found = get("StatefulSet", name, namespace)
    if found is None:
        raise CourseError(f"There is no StatefulSet {name} in {namespace}: apply it first.")
    steps, selector = scale_steps(name, found, replicas)

    def seen(pods: list[Obj]) -> str:
        state = ", ".join(
            f"{name_of(p)} {'Ready' if pod_ready(p) else 'not Ready'}"
            + (" (terminating)" if meta(p).get("deletionTimestamp") else "")
            for p in sorted(pods, key=name_of)
        )
        return f"pods now: {state or 'none'}; wanted {', '.join(sorted(steps.wanted)) or 'none'}"

    wait = Wait(
        "Pod",
        namespace,
        steps.check,
        f"StatefulSet {name} to have {replicas} Ready pods and no other",
        seen=seen,
        label_selector=selector,
        source=default_source(),
    )
    say(f"kubectl scale statefulset {name} --replicas={replicas} -n {namespace}")
    say(f"kubectl get pods -l {selector} -n {namespace} --watch")
    return wait, steps


def _change(wait: Wait[Scaled], steps: ScaleSteps, name: str, ns: str, replicas: int) -> None:
    if not wait.watcher.wait_synced(30):
        raise CourseError(f"Could not list the pods of StatefulSet {name} within 30 s.")
    steps.arm()
    with echo(False):  # the kubectl scale line above says it
        patch("StatefulSet", name, ns, {"spec": {"replicas": replicas}})


async def scale(
    kind: str, name: str, namespace: str, replicas: int, timeout: float = 120
) -> Scaled:
    """Scale a StatefulSet like ``kubectl scale`` and wait until it is done, live views drawing.

    The pods are listed (and watched) before ``replicas`` changes, so the
    answer shows the real order: :attr:`Scaled.ready` the pods that became
    Ready, :attr:`Scaled.gone` those that went away, each in the order it
    happened.

    Args:
        kind: ``"StatefulSet"`` (or ``"sts"``).
        name: the StatefulSet.
        namespace: its course namespace.
        replicas: the new number of pods.
        timeout: seconds before :class:`~course_helpers.kube._waiting.WaitTimeout`.

    Example:
        >>> down = await ch.scale("StatefulSet", "web", ns, 2)  # doctest: +SKIP
        kubectl scale statefulset web --replicas=2 -n course-statefulsets
        kubectl get pods -l app=web -n course-statefulsets --watch
        >>> down.gone  # doctest: +SKIP
        ['web-4', 'web-3', 'web-2']

    Raises:
        WaitTimeout: the pods were not there, Ready, within ``timeout``; says what it saw.
    """
    wait, steps = _prepare(kind, name, namespace, replicas)
    wait.start()
    try:
        await asyncio.to_thread(_change, wait, steps, name, namespace, replicas)
    except BaseException:
        wait.stop()
        raise
    return await wait.wait(timeout)


def scale_blocking(
    kind: str, name: str, namespace: str, replicas: int, timeout: float = 120
) -> Scaled:
    """Block like :func:`scale` (for scripts and tests)."""
    wait, steps = _prepare(kind, name, namespace, replicas)
    wait.start()
    try:
        _change(wait, steps, name, namespace, replicas)
    except BaseException:
        wait.stop(timeout=5)
        raise
    return wait.result(timeout)
