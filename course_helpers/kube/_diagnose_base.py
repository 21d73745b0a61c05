"""What every diagnosis shares: a :class:`Cause`, the :class:`Snapshot` it reads, readers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._objects import meta

Obj = dict[str, Any]


@dataclass(frozen=True)
class Cause:
    """One reason why something is not happening.

    ``final`` means it will not resolve by waiting: the learner must change something.
    ``about`` is the ``(kind, name)`` the sentence is about.
    """

    text: str
    final: bool = False
    about: tuple[str, str] = ("", "")


@dataclass
class Snapshot:
    """What a diagnosis reads: one namespace's objects and the cluster's nodes and classes."""

    namespace: str
    pods: list[Obj] = field(default_factory=list)
    claims: list[Obj] = field(default_factory=list)
    events: list[Obj] = field(default_factory=list)
    workloads: dict[str, list[Obj]] = field(default_factory=dict)
    nodes: list[Obj] = field(default_factory=list)
    storage_classes: list[Obj] = field(default_factory=list)


def _labels(obj: Obj) -> dict[str, str]:
    return dict(meta(obj).get("labels") or {})


def _claim_names(pod: Obj) -> list[str]:
    volumes = (pod.get("spec") or {}).get("volumes") or []
    return [
        str(v["persistentVolumeClaim"]["claimName"])
        for v in volumes
        if (v.get("persistentVolumeClaim") or {}).get("claimName")
    ]


def _event_time(event: Obj) -> str:
    series = event.get("series") or {}
    return str(
        series.get("lastObservedTime")
        or event.get("lastTimestamp")
        or event.get("eventTime")
        or meta(event).get("creationTimestamp")
        or ""
    )


def _clip(text: Any, limit: int = 300) -> str:
    words = " ".join(str(text or "").split())
    return words if len(words) <= limit else words[: limit - 1] + "…"


def _ordinal(n: int) -> str:
    """Return "first", "second", ... "tenth", then "11th", "22nd"."""
    words = [
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
    ]
    if 1 <= n <= len(words):
        return words[n - 1]
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
