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
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ._echo import say
from ._kinds import Kind, kind_info
from ._objects import Objects, condition, meta, name_of
from ._rollout import ROLLOUT_KINDS, RolloutError, rollout_message
from ._wait import Wait, WaitFailed, default_source, why

Obj = dict[str, Any]

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


class Outcome(str):
    """What a wait answers: kubectl's words, shown bare in a notebook.

    Attributes:
        objects: the objects the wait saw last (empty after ``delete``).
        names: the names in the order they met the condition (for waits on a
            label selector: the order pods became Ready, or went away).

    Example:
        >>> done = await ch.wait_for("Pod", None, ns, "condition=Ready",
        ...                          selector="app=web", count=3)  # doctest: +SKIP
        >>> done.names  # doctest: +SKIP
        ['web-0', 'web-1', 'web-2']
    """

    objects: Objects
    names: list[str]

    def __new__(cls, text: str, objects: Sequence[Obj] = (), names: Sequence[str] = ()) -> Outcome:
        self = super().__new__(cls, text)
        self.objects = Objects(objects)
        self.names = list(names)
        return self

    def __repr__(self) -> str:
        return str(self)


def _timeout_flag(timeout: float) -> str:
    return f"--timeout={timeout:g}s"


# -- rollout status ------------------------------------------------------------------------------


def rollout_status_wait(kind: str, name: str, namespace: str, timeout: float) -> Wait[Outcome]:
    """Print ``kubectl rollout status ...`` and return the (unstarted) wait that does it."""
    info = kind_info(kind)
    if info.kind not in ROLLOUT_KINDS:
        raise ValueError(
            f"kubectl rollout status works on {', '.join(ROLLOUT_KINDS)}, not {info.kind}."
        )
    say(f"kubectl rollout status {info.kubectl}/{name} -n {namespace} {_timeout_flag(timeout)}")
    state = _Named(info, name, namespace)

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


# -- kubectl wait ----------------------------------------------------------------------------------

_JSONPATH = re.compile(r"^jsonpath=\{?(?P<path>[^}=]*)\}?(?:=(?P<value>.*))?$", re.IGNORECASE)
_PATH_STEP = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


def _steps(path: str) -> list[str | int]:
    """Split a simple JSONPath such as ``.spec.volumes[0].name`` into keys and indexes.

    Raises:
        ValueError: the path uses more than dotted fields and ``[n]`` indexes.
    """
    steps: list[str | int] = []
    pos, path = 0, path.strip()
    while pos < len(path):
        match = _PATH_STEP.match(path, pos)
        if not match or match.end() == pos:
            raise ValueError(
                f"jsonpath {path!r}: only dotted fields and [n] indexes are understood here, "
                "e.g. {.status.phase} or {.spec.volumes[0].name}"
            )
        pos = match.end()
        steps.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
    return steps


def _jsonpath(obj: Obj, path: str) -> tuple[bool, Any]:
    """Follow a simple JSONPath; return (found, value)."""
    current: Any = obj
    for step in _steps(path):
        if isinstance(step, int):
            if not isinstance(current, list) or step >= len(current):
                return False, None
        elif not isinstance(current, dict) or step not in current:
            return False, None
        current = current[step]
    return True, current


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


@dataclass
class Condition:
    """A parsed ``--for``: ``create``, ``delete``, ``condition=X[=value]`` or ``jsonpath=...``."""

    text: str
    mode: str
    name: str = ""
    value: str = "true"

    @classmethod
    def parse(cls, text: str) -> Condition:
        """Read a ``kubectl wait --for`` value.

        Raises:
            ValueError: not one of the forms kubectl accepts (the message shows them).
        """
        spec = text.strip()
        lower = spec.lower()
        if lower in ("create", "delete"):
            return cls(spec, lower)
        if lower.startswith("condition="):
            name, _, value = spec.split("=", 1)[1].partition("=")
            if name:
                return cls(spec, "condition", name, value or "true")
        match = _JSONPATH.match(spec)
        if match and match["path"]:
            _steps(match["path"])  # checks the syntax now
            return cls(spec, "jsonpath", match["path"], match["value"] or "")
        raise ValueError(
            f"cannot wait --for={text!r}: use 'create', 'delete', 'condition=Ready', "
            "'condition=Ready=false' or 'jsonpath={.status.phase}=Running'"
        )

    def met(self, obj: Obj) -> bool:
        """Tell whether ``obj`` meets the condition (kubectl's rules, e.g. case-insensitive)."""
        if self.mode == "create":
            return True
        if self.mode == "condition":
            for cond in (obj.get("status") or {}).get("conditions") or []:
                if str(cond.get("type", "")).casefold() != self.name.casefold():
                    continue
                generation = meta(obj).get("generation")
                observed = cond.get("observedGeneration")
                if observed is None:
                    observed = (obj.get("status") or {}).get("observedGeneration")
                if generation is not None and observed is not None and observed < generation:
                    return False
                return str(cond.get("status", "")).casefold() == self.value.casefold()
            return False
        if self.mode == "jsonpath":
            found, value = _jsonpath(obj, self.name)
            if not self.value:
                return found and value not in (None, "", [], {})
            return found and _format(value) == self.value
        return False


#: For a Job, the terminal condition that makes the other one impossible.
_JOB_OPPOSITE = {"complete": "Failed", "failed": "Complete"}


def _never(info: Kind, obj: Obj, want: Condition) -> str | None:
    """Say why ``obj`` can never meet ``want`` (kubectl would wait until its timeout)."""
    if info.kind != "Job" or want.mode != "condition" or want.value.casefold() != "true":
        return None
    opposite = _JOB_OPPOSITE.get(want.name.casefold())
    cond = condition(obj, opposite) if opposite else None
    if cond is None or cond.get("status") != "True":
        return None
    why = f"{cond.get('reason')}: {cond.get('message')}" if cond.get("reason") else ""
    return (
        f"Job {name_of(obj)} is {opposite} ({why or 'a terminal condition'}), so it will never "
        f"be {want.name}; kubectl wait would sit until its timeout."
    )


@dataclass
class _Named:
    """What a wait on one named object remembers between checks."""

    info: Kind
    name: str
    namespace: str
    seen: bool = False
    message: str = ""

    def current(self, found: list[Obj]) -> Obj:
        """Return the object, or fail as kubectl does when it is missing."""
        if found:
            self.seen = True
            return found[0]
        what = f"{self.info.kind} {self.name!r}"
        if self.seen:
            raise WaitFailed(f"{what} was deleted in {self.namespace} while waiting.")
        raise WaitFailed(
            f"There is no {what} in {self.namespace} (kubectl: Error from server (NotFound)). "
            "Apply it first, or wait with 'create'."
        )


@dataclass
class _Selected:
    """What a wait on a label selector remembers: the order objects met the condition."""

    info: Kind
    want: Condition
    count: int
    order: list[str] = field(default_factory=list)
    ever: set[str] = field(default_factory=set)

    def check(self, found: list[Obj]) -> Outcome | None:
        alive = [o for o in found if not meta(o).get("deletionTimestamp")]
        if self.want.mode == "delete":
            for name in sorted(self.ever - {name_of(o) for o in found}):
                if name not in self.order:
                    self.order.append(name)
            self.ever |= {name_of(o) for o in found}
            if found:
                return None
            return _outcome(self.info, [], self.order)
        newly = [o for o in alive if self.want.met(o) and name_of(o) not in self.order]
        newly.sort(key=lambda o: _met_at(self.want, o))  # by when, as for a list of names
        self.order += [name_of(o) for o in newly]
        met = [o for o in alive if self.want.met(o)]
        if len(alive) >= self.count and len(met) == len(alive):
            names = [n for n in self.order if n in {name_of(o) for o in met}]
            return _outcome(self.info, met, names)
        return None

    def seen(self, found: list[Obj]) -> str:
        alive = [o for o in found if not meta(o).get("deletionTimestamp")]
        if self.want.mode == "delete":
            return f"still there: {', '.join(sorted(name_of(o) for o in found))}"
        waiting = sorted(name_of(o) for o in alive if not self.want.met(o))
        return (
            f"{len(alive)} {self.info.plural} (wanted at least {self.count}), "
            f"not yet {self.want.text}: {', '.join(waiting) or 'none'}"
        )


@dataclass
class _Listed:
    """What a wait on a list of names remembers: the order they met the condition (or went)."""

    info: Kind
    want: Condition
    names: list[str]
    order: list[str] = field(default_factory=list)

    def check(self, found: list[Obj]) -> Outcome | None:
        by_name = {name_of(o): o for o in found if name_of(o) in self.names}
        if self.want.mode == "delete":
            self.order += [n for n in self.names if n not in by_name and n not in self.order]
            return None if by_name else _outcome(self.info, [], self.order)
        newly = [
            n
            for n in self.names
            if n in by_name and n not in self.order and _meets(self.want, by_name[n])
        ]
        # Several met at once (the first list, or a late watch): order them by when
        # the cluster says they met it, not by when this wait happened to look.
        newly.sort(key=lambda n: _met_at(self.want, by_name[n]))
        self.order += newly
        met = [by_name[n] for n in self.names if n in by_name and _meets(self.want, by_name[n])]
        if len(met) < len(self.names):
            return None
        return _outcome(self.info, met, [n for n in self.order if n in self.names])

    def seen(self, found: list[Obj]) -> str:
        by_name = {name_of(o): o for o in found if name_of(o) in self.names}
        if self.want.mode == "delete":
            return f"still there: {', '.join(n for n in self.names if n in by_name)}"
        missing = [n for n in self.names if n not in by_name]
        waiting = [n for n in self.names if n in by_name and not _meets(self.want, by_name[n])]
        parts = [f"not there yet: {', '.join(missing)}"] if missing else []
        parts += [f"not yet {self.want.text}: {', '.join(waiting)}"] if waiting else []
        return "; ".join(parts) or "all there"


def _meets(want: Condition, obj: Obj) -> bool:
    """Tell whether ``obj`` meets ``want``; an object being deleted meets no condition.

    (kubectl would accept a terminating pod whose Ready condition is still True;
    a lesson waiting for a pod to be Ready again after deleting it must not.)
    """
    return not meta(obj).get("deletionTimestamp") and want.met(obj)


def _met_at(want: Condition, obj: Obj) -> str:
    """When ``obj`` met a ``condition=`` wait, from the condition's lastTransitionTime.

    RFC 3339 times in UTC sort as text; "" (unknown, or not a condition wait)
    sorts first and, the sort being stable, keeps the order the names were given.
    """
    if want.mode != "condition" or not want.name:
        return ""
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if str(cond.get("type", "")).lower() == want.name.lower():  # kubectl ignores case
            return str(cond.get("lastTransitionTime") or "")
    return ""


def _outcome(info: Kind, objects: list[Obj], names: list[str]) -> Outcome:
    lines = [f"{info.kubectl_name(n)} condition met" for n in names]
    return Outcome("\n".join(lines), objects, names)


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
        chosen = _Selected(info, want, count)
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
        listed = _Listed(info, want, names)
        return Wait(
            info.kind,
            namespace,
            listed.check,
            what,
            seen=listed.seen,
            source=default_source(),
            why=why(info.kind, namespace),
        )
    state = _Named(info, name, namespace)

    def check(found: list[Obj]) -> Outcome | None:
        if want.mode == "delete":
            return None if found else _outcome(info, [], [name])
        if want.mode == "create":
            return _outcome(info, found, [name]) if found else None
        obj = state.current(found)
        if _meets(want, obj):
            return _outcome(info, [obj], [name])
        never = _never(info, obj, want)
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

    An object being deleted never meets a condition (kubectl would count a
    terminating pod whose Ready is still True).
        ValueError: ``condition`` is not a form kubectl accepts.
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
