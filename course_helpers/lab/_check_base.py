"""What every lab check is built from: reading objects, requiring one, waiting for a problem to go.

A check fails with :class:`CheckFailed`, saying what is wrong and how to fix
it. :func:`settle` waits (watching, up to a timeout) until a pure problem
function finds nothing wrong; while it waits, a cause read from the cluster
(``kube._diagnose``) that waiting cannot cure stops it at once, and the other
causes join the message when the time is up.

Example:
    >>> every_problem(["Set a.", None])
    'Set a.'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..errors import CourseError
from ..kube._diagnose import Cause, causes, format_causes
from ..kube._kinds import api_version_of
from ..kube._manifests import _resource, dynamic
from ..kube._namespaces import is_managed
from ..kube._wait import WaitTimeout, until

Obj = dict[str, Any]


class CheckFailed(AssertionError, CourseError):
    """A lab check found something missing or wrong; the message says what and how to fix it."""


def every_problem(problems: Sequence[str | None]) -> str | None:
    """Join every problem a check found into one message; None when there is none.

    Example:
        >>> every_problem([None]) is None
        True
        >>> print(every_problem(["Set a.", "Set b."]))
        2 things to fix in your YAML:
        - Set a.
        - Set b.
    """
    found = [p for p in problems if p]
    if len(found) <= 1:
        return found[0] if found else None
    return f"{len(found)} things to fix in your YAML:\n" + "\n".join(f"- {p}" for p in found)


def names(items: list[Obj]) -> list[str]:
    return sorted(str(i["metadata"]["name"]) for i in items)


def list_objects(kind: str, namespace: str) -> list[Obj]:
    res = _resource({"apiVersion": api_version_of(kind), "kind": kind})
    listing = dynamic().get(res, namespace=namespace, _request_timeout=10)
    return [dict(item.to_dict()) for item in listing.items]


def require(kind: str, name: str, namespace: str, why: str) -> Obj:
    """Return object kind/name or fail, naming what is there instead."""
    if not is_managed(namespace):
        raise CheckFailed(
            f"Namespace {namespace!r} does not exist (or is not a course namespace): "
            "run `ns = ch.namespace('lab')` first and apply your YAML there."
        )
    items = list_objects(kind, namespace)
    for item in items:
        if item["metadata"]["name"] == name:
            return item
    others = names(items)
    found = f" There is {kind} {', '.join(others)}: the check looks for the name {name!r}."
    raise CheckFailed(f"No {kind} named {name!r} in {namespace}. {why}" + (found if others else ""))


Why = Callable[[], list[Cause]]


def why_stuck(namespace: str, kind: str, name: str) -> Why:
    """Return a callable reading why ``kind/name`` is stuck (for :func:`settle`)."""
    return lambda: causes(namespace, kind, [name])


def settle(
    kind: str,
    namespace: str,
    problem: Callable[[list[Obj]], str | None],
    timeout: float,
    why: Why | None = None,
) -> list[Obj]:
    """Wait up to ``timeout`` s until ``problem(objects)`` is None; else fail with the last one.

    While there is a problem, ``why()`` reads its causes from the cluster: a final
    one (waiting cannot cure it) fails the check at once; the others are added
    to the message when the time is up.
    """
    last: list[str | None] = [None]

    def done(objects: list[Obj]) -> bool:
        last[0] = problem(objects)
        if last[0] is not None and why is not None:
            found = why()
            if any(c.final for c in found):
                raise CheckFailed(last[0] + format_causes([c.text for c in found]))
        return last[0] is None

    def reasons() -> str:
        return format_causes([c.text for c in why()]) if why is not None else ""

    if timeout <= 0:
        objects = list_objects(kind, namespace)
        if not done(objects):
            raise CheckFailed(f"{last[0]}{reasons()}")
        return objects
    try:
        return until(kind, namespace, done, f"lab check on {kind}s", timeout)
    except WaitTimeout:
        raise CheckFailed(f"{last[0]} (still so after {timeout:.0f}s){reasons()}") from None


def alive(items: list[Obj]) -> list[Obj]:
    return [i for i in items if not i["metadata"].get("deletionTimestamp")]


def owned_by(item: Obj, uid: str) -> bool:
    return any(ref.get("uid") == uid for ref in item["metadata"].get("ownerReferences") or [])
