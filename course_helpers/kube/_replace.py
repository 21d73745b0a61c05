"""Delete a StatefulSet's pod and wait for its replacement, which has the same name.

``kubectl delete pod web-1`` waits until *that* pod (by its uid) is gone;
the StatefulSet then creates a new ``web-1``. A wait that only looks at the
name cannot tell the two apart: it may see the old, still Ready pod and stop,
or list after the new one exists and never see the old one go. So
:func:`replace_pod` reads the pod's uid, watches the name from before the
delete, and answers once a pod of that name with another uid is Ready::

    replaced = await ch.replace_pod("web-1", ns)
    old, new = replaced.objects
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

from ..errors import CourseError
from ._echo import echo, say
from ._kubectl_wait import Outcome
from ._manifests import delete
from ._objects import meta, name_of, pod_ready, uid_of
from ._wait import Wait, default_source

Obj = dict[str, Any]

__all__ = ["replace_pod", "replace_pod_blocking"]


@dataclass
class Replacement:
    """Follows one pod name through delete and re-create; answers with (old, new)."""

    name: str
    old: Obj | None = None
    gone: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def arm(self, pods: list[Obj]) -> None:
        """Remember the pod about to be deleted."""
        with self._lock:
            if not pods:
                raise CourseError(f"There is no pod {self.name} to delete.")
            self.old = pods[0]

    def check(self, pods: list[Obj]) -> Outcome | None:
        """See the pods of that name after one change; answer once the new one is Ready."""
        with self._lock:
            if self.old is None:
                return None
            old_uid = uid_of(self.old)
            if not any(uid_of(p) == old_uid for p in pods):
                self.gone = True
            new = [
                p
                for p in pods
                if uid_of(p) != old_uid and pod_ready(p) and not meta(p).get("deletionTimestamp")
            ]
            if not (self.gone and new):
                return None
            lines = [f"pod/{self.name} deleted", f"pod/{name_of(new[0])} condition met"]
            return Outcome("\n".join(lines), [self.old, new[0]], [self.name])


def _prepare(name: str, namespace: str) -> tuple[Wait[Outcome], Replacement]:
    follow = Replacement(name)

    def state(pod: Obj) -> str:
        if meta(pod).get("deletionTimestamp"):
            return "terminating"
        return "Ready" if pod_ready(pod) else "not Ready"

    def seen(pods: list[Obj]) -> str:
        old_uid = uid_of(follow.old or {})
        states = [
            f"{'the old' if uid_of(p) == old_uid else 'a new'} {name} ({state(p)})" for p in pods
        ]
        return f"pods named {name}: {', '.join(states) or 'none'}"

    wait = Wait(
        "Pod",
        namespace,
        follow.check,
        f"a new pod {name}, Ready",
        seen=seen,
        field_selector=f"metadata.name={name}",
        source=default_source(),
    )
    say(f"kubectl delete pod {name} -n {namespace}")
    say(f"kubectl wait --for=condition=Ready pod/{name} -n {namespace}")
    return wait, follow


def _delete(wait: Wait[Outcome], follow: Replacement, name: str, namespace: str) -> None:
    if not wait.watcher.wait_synced(30):
        raise CourseError(f"Could not list pod {name} within 30 s.")
    follow.arm(wait.watcher.items)
    with echo(False):  # said above
        delete("Pod", name, namespace)


async def replace_pod(name: str, namespace: str, timeout: float = 120) -> Outcome:
    """Delete pod ``name`` and wait until its controller's new pod of the same name is Ready.

    For a StatefulSet's pods, whose replacement keeps the name (and the claim).
    The live views keep drawing meanwhile.

    Example:
        >>> replaced = await ch.replace_pod("web-1", ns)  # doctest: +SKIP
        kubectl delete pod web-1 -n course-statefulsets
        kubectl wait --for=condition=Ready pod/web-1 -n course-statefulsets
        >>> old, new = replaced.objects  # doctest: +SKIP

    Returns:
        kubectl's lines; ``.objects`` is ``[old pod, new pod]``.

    Raises:
        WaitTimeout: no new Ready pod of that name within ``timeout`` s; says what it saw.
        CourseError: there is no such pod.
    """
    wait, follow = _prepare(name, namespace)
    wait.start()
    try:
        await asyncio.to_thread(_delete, wait, follow, name, namespace)
    except BaseException:
        wait.stop()
        raise
    return await wait.wait(timeout)


def replace_pod_blocking(name: str, namespace: str, timeout: float = 120) -> Outcome:
    """Block like :func:`replace_pod` (for scripts and tests)."""
    wait, follow = _prepare(name, namespace)
    wait.start()
    try:
        _delete(wait, follow, name, namespace)
    except BaseException:
        wait.stop(timeout=5)
        raise
    return wait.result(timeout)
