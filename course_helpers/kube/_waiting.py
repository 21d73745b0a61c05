"""The one wait engine: a Watcher and a check, answered to a blocked thread or an event loop.

Every wait here is a :class:`Wait`: one :class:`~course_helpers.kube._watch.Watcher`
(list, then watch; it survives 410 Gone and dropped connections) and a check
that runs on the watcher's thread after every change, against the watcher's
complete, current copy of the objects. The first answer resolves a future, so
the same wait serves two callers:

* a script or a test blocks: ``Wait(...).result(timeout)``;
* a notebook awaits: ``await Wait(...).wait(timeout)``; the watch thread hands
  the answer to the kernel's event loop (``loop.call_soon_threadsafe``, through
  :func:`asyncio.wrap_future`), and the loop keeps running meanwhile, so every
  live view keeps drawing.

Every wait has a timeout and says, when it runs out, what it was waiting for
and what it saw last, so a stuck demo explains itself.

This module does not know the session: every :class:`Wait` is given its
source (``course_helpers.kube._wait.default_source()`` is the current
cluster's), so ``ch.connect`` can wait for nodes with it without an import cycle.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable
from typing import Any, Generic, Self, TypeVar

from ..errors import CourseError
from ._kinds import KINDS
from ._objects import name_of, pod_ready
from ._watch import Source, Watcher, WatchEvent

Obj = dict[str, Any]
T = TypeVar("T")

__all__ = [
    "Wait",
    "WaitFailed",
    "WaitTimeout",
    "namespace_gone",
    "nodes_ready",
    "source_factory",
]


class WaitTimeout(CourseError):
    """The cluster did not reach the expected state in time; the message says what it saw."""


class WaitFailed(CourseError):
    """The state waited for cannot come any more (the object is gone, the Job Failed, ...)."""


#: Tests set this to make every wait list and watch a scripted source instead.
source_factory: Callable[[], Source | None] = lambda: None  # noqa: E731


def _names(objects: list[Obj]) -> str:
    return ", ".join(sorted(name_of(o) for o in objects)) or "none"


class Wait(Generic[T]):
    """Watch ``kind`` objects until ``check(objects)`` returns an answer other than None.

    Args:
        kind: what to watch, e.g. ``"Pod"`` (a key of the kinds table).
        namespace: where; None for cluster-scoped kinds.
        check: called with every matching object after each change (and once
            after the first list); returns the wait's answer, or None to go on
            waiting. It may raise (e.g. :class:`WaitFailed`) to end the wait.
        what: what the wait waits for, for messages: ``"3 Ready pods"``.
        seen: says what the objects show now, for the timeout message;
            default: their names.
        label_selector: server-side label selector.
        field_selector: server-side field selector, e.g. ``metadata.name=pi``.
        source: where to list and watch (a ``KubernetesSource`` on some client);
            :data:`source_factory` overrides it in tests.
        why: says why the state did not come, for the timeout message (e.g.
            ``_wait.why(...)``: the causes ``_diagnose`` reads from the cluster).

    Example:
        >>> wait = Wait("Pod", ns, lambda pods: pods or None, "a pod",
        ...             source=KubernetesSource(api_client()))  # doctest: +SKIP
        >>> wait.result(30)  # blocks  # doctest: +SKIP
        >>> await wait.wait(30)  # in a notebook: the views keep drawing  # doctest: +SKIP
    """

    def __init__(
        self,
        kind: str,
        namespace: str | None,
        check: Callable[[list[Obj]], T | None],
        what: str,
        *,
        seen: Callable[[list[Obj]], str] | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        source: Source,
        why: Callable[[], str] | None = None,
    ) -> None:
        if kind in KINDS and not KINDS[kind].namespaced:
            namespace = None
        self.kind = kind
        self.namespace = namespace
        self.what = what
        self._check = check
        self._why = why
        self._seen = seen or (lambda objects: f"{kind} objects seen last: {_names(objects)}")
        self._future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._last: list[Obj] = []
        self._started = 0.0
        self.watcher = Watcher(
            kind,
            namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            source=source_factory() or source,
        )
        self.watcher.subscribe(self._on_event, replay=False)
        self.watcher.on_state.append(self._on_state)

    def __repr__(self) -> str:
        state = "done" if self._future.done() else self.watcher.state
        return f"<Wait for {self.what}: {state}>"

    # -- on the watch thread ---------------------------------------------------------------

    def _on_event(self, _event: WatchEvent) -> None:
        self._evaluate()

    def _on_state(self, state: str) -> None:
        if state == "watching":  # a list has just been applied (or a watch resumed)
            self._evaluate()
        elif state == "stopped" and not self._future.done():
            self._settle(exception=WaitFailed(f"The watch for {self.what} was stopped."))

    def _evaluate(self) -> None:
        if self._future.done():
            return
        objects = self.watcher.items
        self._last = objects
        try:
            answer = self._check(objects)
        except Exception as exc:
            self._settle(exception=exc)
            return
        if answer is not None:
            self._settle(result=answer)

    def _settle(self, result: T | None = None, exception: BaseException | None = None) -> None:
        try:
            if exception is not None:
                self._future.set_exception(exception)
            else:
                self._future.set_result(result)  # type: ignore[arg-type]
        except concurrent.futures.InvalidStateError:
            pass  # the waiter gave up (timeout, interrupt) in between

    # -- for the waiter ----------------------------------------------------------------------

    def start(self) -> Self:
        """Start watching (once); the answer may come at once, from the first list."""
        if not self._started:
            self._started = time.monotonic()
            self.watcher.start()
        return self

    def stop(self, timeout: float = 0) -> None:
        """Stop the watch; wait up to ``timeout`` s for its thread (0: never block a loop)."""
        self.watcher.stop(timeout=timeout)

    def seen(self) -> str:
        """Say what the watched objects showed last."""
        return self._seen(self._last)

    def timeout_error(self, timeout: float) -> WaitTimeout:
        """Return the error for a wait that ran out after ``timeout`` seconds."""
        where = f" in {self.namespace}" if self.namespace else ""
        state = self.watcher.state
        trouble = f" (the watch is {state})" if state.startswith("retrying") else ""
        cause = self._why() if self._why is not None else ""
        return WaitTimeout(
            f"Waited {timeout:g}s for {self.what}{where}; {self.seen()}.{trouble}{cause}"
        )

    def result(self, timeout: float) -> T:
        """Block until the answer comes and return it.

        Raises:
            WaitTimeout: no answer within ``timeout`` seconds; says what it saw last.
            WaitFailed: the state cannot come any more (whatever ``check`` raised).
        """
        self.start()
        try:
            return self._future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise self.timeout_error(timeout) from None
        finally:
            self._future.cancel()
            self.stop(timeout=5)  # no watch thread outlives a blocking wait

    async def wait(self, timeout: float) -> T:
        """Wait for the answer without blocking the event loop, and return it.

        Raises:
            WaitTimeout: no answer within ``timeout`` seconds; says what it saw last.
            WaitFailed: the state cannot come any more (whatever ``check`` raised).
        """
        self.start()
        try:
            return await asyncio.wait_for(asyncio.wrap_future(self._future), timeout)
        except TimeoutError:
            # reading the causes asks the API server: not on the loop's thread
            error = await asyncio.to_thread(self.timeout_error, timeout)
            raise error from None
        finally:
            self._future.cancel()
            self.stop()


def nodes_ready(api_client: Any, names: list[str], timeout: float = 180) -> None:
    """Block until every node in ``names`` reports Ready on ``api_client``'s cluster.

    It is the ``wait_ready`` that ``course-cluster up`` and ``ch.connect`` hand
    to the cluster layer (``course_helpers.cluster._nodes.NodesWait``).

    A healthy cluster's nodes are Ready in seconds; the generous default is for
    a machine busy with other work (one CPU shared with a build or a test run),
    where a tighter bound failed starts that would have succeeded.

    Raises:
        WaitTimeout: some node was not Ready within ``timeout`` seconds.
    """
    wanted = set(names)

    def ready(nodes: list[Obj]) -> bool | None:
        return wanted <= {name_of(n) for n in nodes if pod_ready(n)} or None

    def seen(nodes: list[Obj]) -> str:
        ready_now = {name_of(n) for n in nodes if pod_ready(n)}
        return f"not Ready yet: {', '.join(sorted(wanted - ready_now))}"

    what = f"nodes {', '.join(sorted(wanted))} to be Ready"
    from ._watch_source import KubernetesSource

    source = source_factory() or KubernetesSource(api_client)
    Wait("Node", None, ready, what, seen=seen, source=source).result(timeout)


def namespace_gone(api_client: Any, name: str, timeout: float = 120) -> None:
    """Block until namespace ``name`` no longer exists on ``api_client``'s cluster.

    Raises:
        WaitTimeout: it was still there (being deleted) after ``timeout`` seconds.
    """
    from ._watch_source import KubernetesSource

    def seen(found: list[Obj]) -> str:
        phase = ((found[0].get("status") or {}).get("phase") if found else None) or "gone"
        return f"namespace {name} is {phase}"

    wait = Wait(
        "Namespace",
        None,
        lambda found: True if not found else None,
        f"namespace {name} to be deleted",
        seen=seen,
        field_selector=f"metadata.name={name}",
        source=source_factory() or KubernetesSource(api_client),
    )
    wait.result(timeout)


def service_account_exists(
    api_client: Any, namespace: str, name: str = "default", timeout: float = 60
) -> None:
    """Block until ServiceAccount ``name`` exists in ``namespace``.

    A new namespace gets its ``default`` ServiceAccount from a controller a
    moment later; a Pod created before then is refused ("serviceaccount default
    not found"), so :func:`~course_helpers.kube._namespaces.namespace` waits.

    Raises:
        WaitTimeout: it did not appear within ``timeout`` seconds.
    """
    from ._watch_source import KubernetesSource

    wait = Wait(
        "ServiceAccount",
        namespace,
        lambda found: True if found else None,
        f"ServiceAccount {name} in {namespace} (kube-controller-manager creates it)",
        seen=lambda found: "not created yet",
        field_selector=f"metadata.name={name}",
        source=source_factory() or KubernetesSource(api_client),
    )
    wait.result(timeout)
