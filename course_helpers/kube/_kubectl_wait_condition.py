"""What ``kubectl wait --for=...`` asks, and whether an object meets it.

:class:`Condition` reads ``create``, ``delete``, ``condition=X[=value]`` and
``jsonpath={.path}[=value]`` as kubectl does (condition names in any case, a
condition of an older generation not counting); :func:`meets` adds that an
object being deleted meets nothing, :func:`met_at` when it met a condition,
and :func:`never_met` why a Job can never meet one.

Example:
    >>> want = Condition.parse("jsonpath={.status.phase}=Running")
    >>> want.met({"status": {"phase": "Running"}})
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ._kinds import Kind
from ._objects import Obj, condition, meta, name_of

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


def never_met(info: Kind, obj: Obj, want: Condition) -> str | None:
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


def meets(want: Condition, obj: Obj) -> bool:
    """Tell whether ``obj`` meets ``want``; an object being deleted meets no condition.

    (kubectl would accept a terminating pod whose Ready condition is still True;
    a lesson waiting for a pod to be Ready again after deleting it must not.)
    """
    return not meta(obj).get("deletionTimestamp") and want.met(obj)


def met_at(want: Condition, obj: Obj) -> str:
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
