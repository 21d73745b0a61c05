"""Read what notebooks, checks and widgets need from raw (camelCase) Kubernetes objects.

The public ones are on the ``ch.`` facade: ``ch.condition(obj, "Ready")``,
``ch.is_ready(obj)``, ``ch.job_state(job)``; they take the dicts that
``ch.get``, ``ch.list_objects`` and the waits return.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]

POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
JOB_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
CRONJOB_SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"


def meta(obj: Obj) -> Obj:
    """Return ``obj["metadata"]`` (empty dict if absent)."""
    return obj.get("metadata") or {}


def name_of(obj: Obj) -> str:
    """Return the object's name."""
    return str(meta(obj).get("name") or "")


def uid_of(obj: Obj) -> str:
    """Return the object's uid."""
    return str(meta(obj).get("uid") or "")


def labels_of(obj: Obj) -> dict[str, str]:
    """Return the object's labels."""
    return dict(meta(obj).get("labels") or {})


def parse_time(value: Any) -> datetime | None:
    """Parse an API timestamp (RFC 3339, with or without fractions) into an aware datetime."""
    if not value:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def epoch(value: Any) -> float | None:
    """Return an API timestamp as seconds since the epoch, or None."""
    parsed = parse_time(value)
    return parsed.timestamp() if parsed else None


def controller_of(obj: Obj) -> tuple[str, str] | None:
    """Return ``(kind, name)`` of the object's controller (or first owner), or None."""
    refs = meta(obj).get("ownerReferences") or []
    for ref in refs:
        if ref.get("controller"):
            return str(ref.get("kind")), str(ref.get("name"))
    if refs:
        return str(refs[0].get("kind")), str(refs[0].get("name"))
    return None


def owned_by(obj: Obj, kind: str, name: str) -> bool:
    """Tell whether one of ``obj``'s ownerReferences is ``kind/name``."""
    return any(
        r.get("kind") == kind and r.get("name") == name
        for r in meta(obj).get("ownerReferences") or []
    )


class Objects(list[Obj]):
    """Kubernetes objects as dicts, shown in a notebook as a one-line summary."""

    def __repr__(self) -> str:
        names = ", ".join(f"{o.get('kind', 'object').lower()}/{name_of(o)}" for o in self)
        return f"<{len(self)} objects: {names}>"


def condition(obj: Obj, kind: str) -> Obj | None:
    """Return the status condition of type ``kind`` (a dict), or None if the object has none.

    Example:
        >>> job = {"status": {"conditions": [{"type": "Complete", "status": "True"}]}}
        >>> condition(job, "Complete")["status"]
        'True'
        >>> condition(job, "Failed") is None
        True
    """
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return dict(cond)
    return None


def condition_true(obj: Obj, kind: str) -> bool:
    """Tell whether ``obj`` has condition ``kind`` with status True."""
    cond = condition(obj, kind)
    return bool(cond and cond.get("status") == "True")


def job_state(job: Obj) -> str:
    """Return a Job's state as ``kubectl get jobs`` shows it.

    ``"Complete"`` or ``"Failed"`` once the Job controller has decided (its
    terminal conditions), ``"Suspended"`` while ``spec.suspend`` holds it,
    else ``"Running"``.

    Example:
        >>> ch.job_state(ch.get("Job", "pi", ns))  # doctest: +SKIP
        'Complete'
    """
    for state in ("Complete", "Failed"):
        if condition_true(job, state):
            return state
    if condition_true(job, "Suspended"):
        return "Suspended"
    return "Running"


def condition_since(obj: Obj, kind: str) -> float | None:
    """Return when condition ``kind`` last became True (epoch seconds), or None if it is not."""
    cond = condition(obj, kind)
    if cond is None or cond.get("status") != "True":
        return None
    return epoch(cond.get("lastTransitionTime"))


def pod_phase(pod: Obj) -> str:
    """Return the phase the widgets show: the pod's phase, or ``Terminating`` once deleted."""
    if meta(pod).get("deletionTimestamp"):
        return "Terminating"
    return str((pod.get("status") or {}).get("phase") or "Pending")


def pod_ready(pod: Obj) -> bool:
    """Tell whether the pod's (or node's) Ready condition is True."""
    return condition_true(pod, "Ready")


def is_ready(obj: Obj) -> bool:
    """Tell whether an object is ready, in the sense kubectl gives the word for its kind.

    * Pod, Node: the ``Ready`` condition is True (and a pod is not being deleted);
    * DaemonSet, StatefulSet, Deployment: ``kubectl rollout status`` would say
      the rollout is complete (:mod:`._rollout`);
    * Job: ``Complete``; PersistentVolumeClaim: ``Bound``;
    * any other kind: a ``Ready`` condition that is True.

    Example:
        >>> ch.is_ready(ch.get("Pod", "web-0", ns))  # doctest: +SKIP
        True
    """
    from ._rollout import ROLLOUT_KINDS, RolloutError, rollout_message

    kind = str(obj.get("kind") or "")
    if kind in ROLLOUT_KINDS:
        try:
            return rollout_message(kind, obj)[1]
        except RolloutError:
            return False
    if kind == "Job":
        return job_state(obj) == "Complete"
    if kind == "PersistentVolumeClaim":
        return (obj.get("status") or {}).get("phase") == "Bound"
    if kind == "Pod" and meta(obj).get("deletionTimestamp"):
        return False
    return condition_true(obj, "Ready")


def statefulset_ordinal(pod: Obj) -> int | None:
    """Return a StatefulSet pod's ordinal: the pod-index label, else the name's ``-N`` suffix."""
    label = labels_of(pod).get(POD_INDEX_LABEL)
    if label is not None and label.isdigit():
        return int(label)
    owner = controller_of(pod)
    if owner and owner[0] == "StatefulSet":
        match = re.fullmatch(re.escape(owner[1]) + r"-(\d+)", name_of(pod))
        if match:
            return int(match.group(1))
    return None


def completion_index(pod: Obj) -> int | None:
    """Return an Indexed Job pod's completion index, or None."""
    found = (meta(pod).get("annotations") or {}).get(JOB_INDEX_ANNOTATION)
    if found is None:
        found = labels_of(pod).get(JOB_INDEX_ANNOTATION)
    return int(found) if found is not None and str(found).isdigit() else None


def natural_key(text: str) -> tuple[Any, ...]:
    """Sort key that puts ``worker-2`` before ``worker-10``."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


_SELECTOR_TERM = re.compile(
    r"""\s*(?:
        (?P<not>!)\s*(?P<absent>[\w./-]+)
      | (?P<key>[\w./-]+)\s*(?:
            (?P<op>==|!=|=)\s*(?P<value>[\w.-]*)
          | \s(?P<setop>in|notin)\s*\((?P<values>[^)]*)\)
        )?
    )\s*(?:,|$)""",
    re.VERBOSE,
)


def match_selector(labels: dict[str, str], selector: str | None) -> bool:
    """Tell whether ``labels`` satisfy a label selector string (``a=b,c!=d,e in (x,y),!f``).

    Raises:
        ValueError: the selector is not one this parser understands.

    """
    if not selector or not selector.strip():
        return True
    pos = 0
    text = selector.strip()
    while pos < len(text):
        match = _SELECTOR_TERM.match(text, pos)
        if not match or match.end() == pos:
            raise ValueError(f"cannot parse label selector {selector!r} at {text[pos:]!r}")
        pos = match.end()
        if match["not"]:
            if match["absent"] in labels:
                return False
            continue
        key = match["key"]
        if match["op"]:
            equal = labels.get(key) == match["value"]
            if equal == (match["op"] == "!="):
                return False
        elif match["setop"]:
            values = {v.strip() for v in match["values"].split(",") if v.strip()}
            inside = labels.get(key) in values
            if inside != (match["setop"] == "in"):
                return False
        elif key not in labels:
            return False
    return True
