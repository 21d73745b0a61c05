"""Waits shaped like kubectl's: ``kubectl rollout status`` and ``kubectl wait --for=...``.

Each prints the kubectl command it stands for, watches (never polls) through
one :class:`~course_helpers.kube._wait.Wait`, and returns an :class:`Outcome`:
kubectl's own short answer (``daemon set "x" successfully rolled out``,
``job.batch/pi condition met``), with the objects it saw last attached.

Notebooks ``await`` them, so the kernel's event loop, and with it every live
view, keeps running while they wait::

    await ch.rollout_status("DaemonSet", "log-collector", ns)
    await ch.wait_for("Job", "pi", ns, "condition=complete")

Scripts and tests use the blocking twins in :mod:`course_helpers.blocking`,
which take the same arguments::

    ch.blocking.rollout_status("DaemonSet", "log-collector", ns)

The pieces: ``_kubectl_wait_condition`` reads and checks ``--for``,
``_kubectl_wait_targets`` keeps what each wait remembers and its
:class:`Outcome`.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._echo import say
from ._kinds import kind_info
from ._kubectl_wait_condition import Condition, meets, never_met
from ._kubectl_wait_targets import Listed, Named, Outcome, Selected, outcome
from ._objects import Obj
from ._rollout import ROLLOUT_KINDS, RolloutError, rollout_message
from ._wait import Wait, WaitFailed, default_source, why

__all__ = [
    "Condition",
    "Outcome",
    "rollout_status",
    "rollout_status_blocking",
    "rollout_status_wait",
    "wait_for",
    "wait_for_blocking",
    "wait_for_wait",
]


def _timeout_flag(timeout: float) -> str:
    return f"--timeout={timeout:g}s"


def rollout_status_wait(kind: str, name: str, namespace: str, timeout: float) -> Wait[Outcome]:
    """Print ``kubectl rollout status ...`` and return the (unstarted) wait that does it."""
    info = kind_info(kind)
    if info.kind not in ROLLOUT_KINDS:
        raise ValueError(
            f"kubectl rollout status works on {', '.join(ROLLOUT_KINDS)}, not {info.kind}."
        )
    say(f"kubectl rollout status {info.kubectl}/{name} -n {namespace} {_timeout_flag(timeout)}")
    state = Named(info, name, namespace)

    def check(found: list[Obj]) -> Outcome | None:
        obj = state.current(found)
        try:
            message, done = rollout_message(info.kind, obj)
        except RolloutError as exc:
            raise WaitFailed(f"kubectl rollout status would stop here: {exc}.") from None
        state.message = message
        return Outcome(message, [obj], [name]) if done else None

    return Wait(
        info.kind,
        namespace,
        check,
        f"{info.kind} {name} to roll out",
        seen=lambda _found: f"kubectl would say: {state.message or 'nothing yet'}",
        field_selector=f"metadata.name={name}",
        source=default_source(),
        why=why(info.kind, namespace, None, f"metadata.name={name}"),
    )


async def rollout_status(kind: str, name: str, namespace: str, timeout: float = 120) -> Outcome:
    """Wait like ``kubectl rollout status`` for a DaemonSet, StatefulSet or Deployment.

    Done when kubectl's status viewer says so: the controller has seen the
    latest spec (``observedGeneration``), and every pod it wants is updated and
    ready/available (for a StatefulSet: ready, and updated up to the partition).
    While it waits, the notebook's live views keep drawing.

    Args:
        kind: ``"DaemonSet"``, ``"StatefulSet"`` or ``"Deployment"`` (or ``ds``, ``sts``, ...).
        name: the object's name.
        namespace: its namespace.
        timeout: seconds before :class:`WaitTimeout`.

    Returns:
        kubectl's last line, e.g. ``daemon set "log-collector" successfully rolled out``.

    Example:
        >>> await ch.rollout_status("DaemonSet", "log-collector", ns)  # doctest: +SKIP
        kubectl rollout status daemonset/log-collector -n course-daemonsets --timeout=120s
        daemon set "log-collector" successfully rolled out

    Raises:
        WaitTimeout: not rolled out in time; says what kubectl would say now.
        WaitFailed: the object does not exist or was deleted, or its update
            strategy is OnDelete (kubectl stops with an error for each).
    """
    return await rollout_status_wait(kind, name, namespace, timeout).wait(timeout)


def wait_for_wait(
    kind: str,
    name: str | Sequence[str] | None,
    namespace: str,
    condition: str = "condition=Ready",
    *,
    selector: str | None = None,
    field_selector: str | None = None,
    count: int = 1,
    timeout: float = 120,
) -> Wait[Outcome]:
    """Print the ``kubectl wait`` command and return the (unstarted) wait that does it."""
    info = kind_info(kind)
    want = Condition.parse(condition)
    if (name is None) == (selector is None and field_selector is None):
        raise ValueError(
            "wait_for needs either a name or selector= (or field_selector=), e.g. "
            "selector='app=web' or field_selector='spec.nodeName=worker-1'"
        )
    names = [name] if isinstance(name, str) else list(name or [])
    if name is not None and not names:
        raise ValueError("wait_for needs at least one name")
    if name is None:
        labels = f" -l {selector}" if selector is not None else ""
        fields = f" --field-selector {field_selector}" if field_selector is not None else ""
        target = f"{info.kubectl}{labels}{fields}"
    else:
        target = " ".join(f"{info.kubectl}/{n}" for n in names)
    ns_flag = f" -n {namespace}" if info.namespaced else ""
    quote = "'" if any(c in want.text for c in "{}[]") else ""
    say(f"kubectl wait --for={quote}{want.text}{quote} {target}{ns_flag} {_timeout_flag(timeout)}")
    what = f"{target} to be {want.text}"
    if name is None:
        chosen = Selected(
            info, want, count, target=", ".join(s for s in (selector, field_selector) if s)
        )
        return Wait(
            info.kind,
            namespace,
            chosen.check,
            what,
            seen=chosen.seen,
            label_selector=selector,
            field_selector=field_selector,
            source=default_source(),
            why=why(info.kind, namespace, selector, field_selector),
        )
    if not isinstance(name, str):
        listed = Listed(info, want, names)
        return Wait(
            info.kind,
            namespace,
            listed.check,
            what,
            seen=listed.seen,
            source=default_source(),
            why=why(info.kind, namespace),
        )
    state = Named(info, name, namespace)

    def check(found: list[Obj]) -> Outcome | None:
        if want.mode == "delete":
            return None if found else outcome(info, [], [name])
        if want.mode == "create":
            return outcome(info, found, [name]) if found else None
        obj = state.current(found)
        if meets(want, obj):
            return outcome(info, [obj], [name])
        never = never_met(info, obj, want)
        if never:
            raise WaitFailed(never)
        return None

    def seen(found: list[Obj]) -> str:
        if not found:
            return f"{info.kind} {name} is not there"
        return f"{info.kind} {name}: {_describe(found[0])}"

    return Wait(
        info.kind,
        namespace,
        check,
        what,
        seen=seen,
        field_selector=f"metadata.name={name}",
        source=default_source(),
        why=why(info.kind, namespace, None, f"metadata.name={name}"),
    )


def _describe(obj: Obj) -> str:
    """Say briefly what an object's status shows: its conditions, or its phase."""
    status = obj.get("status") or {}
    conditions = [f"{c.get('type')}={c.get('status')}" for c in status.get("conditions") or [] if c]
    if conditions:
        return "conditions " + ", ".join(conditions)
    if status.get("phase"):
        return f"phase {status['phase']}"
    return "no status yet"


async def wait_for(
    kind: str,
    name: str | Sequence[str] | None,
    namespace: str,
    condition: str = "condition=Ready",
    *,
    selector: str | None = None,
    field_selector: str | None = None,
    count: int = 1,
    timeout: float = 120,
) -> Outcome:
    """Wait like ``kubectl wait --for=<condition>`` while the live views keep drawing.

    Args:
        kind: e.g. ``"Job"``, ``"Pod"``, ``"pvc"`` (kubectl's names work too).
        name: the object to wait for; a list of names to wait for each of them
            (``.names`` then says in which order they met the condition, or went;
            objects not created yet are waited for, e.g. the pods a scale-up
            makes); None with ``selector=`` for every object the selector matches.
        namespace: its namespace.
        condition: what ``--for`` says: ``"condition=complete"`` (case does not
            matter), ``"condition=Ready=false"``, ``"delete"``, ``"create"`` or
            ``"jsonpath={.status.phase}=Running"`` (dotted fields and ``[n]`` only).
        selector: a label selector such as ``"app=web"`` (kubectl's ``-l``).
        field_selector: a field selector such as ``"spec.nodeName=worker-1"``
            (kubectl's ``--field-selector``), alone or with ``selector``.
        count: with a selector, how many objects must be there and meet the
            condition (kubectl has no such flag: it fails when none match yet,
            which right after an apply is often the case).
        timeout: seconds before :class:`WaitTimeout`.

    Returns:
        kubectl's lines, e.g. ``job.batch/pi condition met``; ``.names`` lists
        the objects in the order they met the condition.

    Example:
        >>> await ch.wait_for("Job", "pi", ns, "condition=complete")  # doctest: +SKIP
        kubectl wait --for=condition=complete job/pi -n course-jobs --timeout=120s
        job.batch/pi condition met
        >>> await ch.wait_for("Pod", None, ns, selector="app=web", count=3)  # doctest: +SKIP
        kubectl wait --for=condition=Ready pod -l app=web -n course-start --timeout=120s
        pod/web-0 condition met
        pod/web-1 condition met
        pod/web-2 condition met
        >>> await ch.wait_for("Pod", None, ns, "delete", selector="job-name=pi")  # doctest: +SKIP
        >>> ns = "course-sts"
        >>> gone = await ch.wait_for("Pod", ["web-4", "web-3"], ns, "delete")  # doctest: +SKIP
        kubectl wait --for=delete pod/web-4 pod/web-3 -n course-sts --timeout=120s
        pod/web-4 condition met
        pod/web-3 condition met
        >>> gone.names  # the order they went  # doctest: +SKIP
        ['web-4', 'web-3']

    Raises:
        WaitTimeout: the condition was not met in time; says what it saw last.
        WaitFailed: the (single, named) object does not exist (except with
            ``"create"``), was deleted, or can never meet the condition (a
            Failed Job will not become Complete).
        ValueError: ``condition`` is not a form kubectl accepts.

    An object being deleted never meets a condition (kubectl would count a
    terminating pod whose Ready is still True).
    """
    wait = wait_for_wait(
        kind,
        name,
        namespace,
        condition,
        selector=selector,
        field_selector=field_selector,
        count=count,
        timeout=timeout,
    )
    return await wait.wait(timeout)


# Blocking twins for scripts and tests; :mod:`course_helpers.blocking` exports them.


def rollout_status_blocking(kind: str, name: str, namespace: str, timeout: float = 120) -> Outcome:
    """Block like ``kubectl rollout status``; see :func:`rollout_status`."""
    return rollout_status_wait(kind, name, namespace, timeout).result(timeout)


def wait_for_blocking(
    kind: str,
    name: str | Sequence[str] | None,
    namespace: str,
    condition: str = "condition=Ready",
    *,
    selector: str | None = None,
    field_selector: str | None = None,
    count: int = 1,
    timeout: float = 120,
) -> Outcome:
    """Block like ``kubectl wait --for=<condition>``; see :func:`wait_for`."""
    wait = wait_for_wait(
        kind,
        name,
        namespace,
        condition,
        selector=selector,
        field_selector=field_selector,
        count=count,
        timeout=timeout,
    )
    return wait.result(timeout)
