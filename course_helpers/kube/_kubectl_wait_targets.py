"""What a kubectl-like wait remembers between checks, for each kind of target, and what it answers.

One named object (:class:`Named`: missing or deleted is an error, as in
kubectl), a label or field selector (:class:`Selected`: at least ``count``
objects, all meeting the condition), or a list of names (:class:`Listed`).
Each records the order in which objects met the condition, or went, for
:class:`Outcome`'s ``names``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ._kinds import Kind
from ._kubectl_wait_condition import Condition, meets, met_at
from ._objects import Obj, Objects, meta, name_of
from ._wait import WaitFailed


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


@dataclass
class Named:
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
class Selected:
    """What a wait on a label selector remembers: the order objects met the condition."""

    info: Kind
    want: Condition
    count: int
    order: list[str] = field(default_factory=list)
    ever: set[str] = field(default_factory=set)
    #: The selectors (``job-name=pi``), for the answer when nothing matched.
    target: str = ""

    def check(self, found: list[Obj]) -> Outcome | None:
        alive = [o for o in found if not meta(o).get("deletionTimestamp")]
        if self.want.mode == "delete":
            for name in sorted(self.ever - {name_of(o) for o in found}):
                if name not in self.order:
                    self.order.append(name)
            self.ever |= {name_of(o) for o in found}
            if found:
                return None
            if not self.order:
                # kubectl prints nothing here; a notebook would show an empty value.
                where = f" with {self.target}" if self.target else ""
                return Outcome(f"no {self.info.plural}{where} left (none to wait for)")
            return outcome(self.info, [], self.order)
        newly = [o for o in alive if self.want.met(o) and name_of(o) not in self.order]
        newly.sort(key=lambda o: met_at(self.want, o))  # by when, as for a list of names
        self.order += [name_of(o) for o in newly]
        met = [o for o in alive if self.want.met(o)]
        if len(alive) >= self.count and len(met) == len(alive):
            names = [n for n in self.order if n in {name_of(o) for o in met}]
            return outcome(self.info, met, names)
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
class Listed:
    """What a wait on a list of names remembers: the order they met the condition (or went)."""

    info: Kind
    want: Condition
    names: list[str]
    order: list[str] = field(default_factory=list)

    def check(self, found: list[Obj]) -> Outcome | None:
        by_name = {name_of(o): o for o in found if name_of(o) in self.names}
        if self.want.mode == "delete":
            self.order += [n for n in self.names if n not in by_name and n not in self.order]
            return None if by_name else outcome(self.info, [], self.order)
        newly = [
            n
            for n in self.names
            if n in by_name and n not in self.order and meets(self.want, by_name[n])
        ]
        # Several met at once (the first list, or a late watch): order them by when
        # the cluster says they met it, not by when this wait happened to look.
        newly.sort(key=lambda n: met_at(self.want, by_name[n]))
        self.order += newly
        met = [by_name[n] for n in self.names if n in by_name and meets(self.want, by_name[n])]
        if len(met) < len(self.names):
            return None
        return outcome(self.info, met, [n for n in self.order if n in self.names])

    def seen(self, found: list[Obj]) -> str:
        by_name = {name_of(o): o for o in found if name_of(o) in self.names}
        if self.want.mode == "delete":
            return f"still there: {', '.join(n for n in self.names if n in by_name)}"
        missing = [n for n in self.names if n not in by_name]
        waiting = [n for n in self.names if n in by_name and not meets(self.want, by_name[n])]
        parts = [f"not there yet: {', '.join(missing)}"] if missing else []
        parts += [f"not yet {self.want.text}: {', '.join(waiting)}"] if waiting else []
        return "; ".join(parts) or "all there"


def outcome(info: Kind, objects: list[Obj], names: list[str]) -> Outcome:
    lines = [f"{info.kubectl_name(n)} condition met" for n in names]
    return Outcome("\n".join(lines), objects, names)
