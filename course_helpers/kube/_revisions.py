"""Which revision of its template each pod of a StatefulSet or DaemonSet runs.

Both controllers keep every pod template they have run as a ControllerRevision
(``kubectl get controllerrevisions``): its name is ``<workload>-<hash>``, its
``revision`` a number that grows with every new template. Each pod carries the
``controller-revision-hash`` label: the revision's name for a StatefulSet pod,
the hash alone for a DaemonSet pod. :func:`revisions` joins the two, as
``kubectl get pods -L controller-revision-hash`` beside
``kubectl get controllerrevisions`` would::

    print(ch.revisions("StatefulSet", "web", ns).to_string(index=False))
    #   pod  revision      image  ready             created
    # web-0         2 nginx:1.28   True 2026-03-02 09:00:07+00:00
    # ...

:class:`Revisions` does the same join for the live views (``PodsPerNode(revisions=True)``),
per owner, and knows each owner's newest revision.

``kubectl rollout undo`` makes no new ControllerRevision: the controller finds
the old one with the same template and gives it the next number (revision 3
becomes revision 5), so a pod's revision number can change while its hash stays.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from ._echo import say
from ._kinds import kind_info
from ._manifests import get, list_objects
from ._objects import (
    condition,
    condition_true,
    controller_of,
    labels_of,
    meta,
    name_of,
    parse_time,
    statefulset_ordinal,
)
from ._wait import WaitFailed

Obj = dict[str, Any]

#: The pod label that names the revision a pod was made from.
REVISION_LABEL = "controller-revision-hash"
#: The ControllerRevision label holding the template's hash.
HASH_LABEL = "controller.kubernetes.io/hash"
#: The kinds whose pods carry a revision label.
REVISION_KINDS = ("StatefulSet", "DaemonSet")
FRAME_COLUMNS = ["pod", "revision", "image", "ready", "created", "ready_at", "hash"]


def pod_revision(pod: Obj) -> str | None:
    """Return the pod's ``controller-revision-hash`` label, or None."""
    return labels_of(pod).get(REVISION_LABEL)


def revision_numbers(history: Iterable[Obj]) -> dict[str, int]:
    """Map each ControllerRevision's name, and its hash, to its ``revision`` number.

    A StatefulSet's ControllerRevision keeps its hash in ``controller.kubernetes.io/hash``;
    a DaemonSet's in ``controller-revision-hash``, the label its pods carry too
    (``pkg/controller/daemon/update.go``, ``snapshot``).

    Example:
        >>> revision_numbers([{"metadata": {"name": "web-6b7d", "labels":
        ...     {"controller.kubernetes.io/hash": "6b7d"}}, "revision": 3}])
        {'web-6b7d': 3, '6b7d': 3}
        >>> revision_numbers([{"metadata": {"name": "agent-5d8f", "labels":
        ...     {"controller-revision-hash": "5d8f"}}, "revision": 1}])
        {'agent-5d8f': 1, '5d8f': 1}
    """
    numbers: dict[str, int] = {}
    for revision in history:
        number = int(revision.get("revision") or 0)
        numbers[name_of(revision)] = number
        for label in (HASH_LABEL, REVISION_LABEL):
            hashed = labels_of(revision).get(label)
            if hashed:
                numbers[hashed] = number
    return numbers


def images(pod_or_template: Obj) -> str:
    """Return the containers' images of a pod (or pod template), comma-separated."""
    spec = pod_or_template.get("spec") or {}
    return ", ".join(str(c.get("image") or "") for c in spec.get("containers") or [])


def owned(objects: Iterable[Obj], kind: str, name: str) -> list[Obj]:
    """Return the objects whose controller is ``kind/name``."""
    return [o for o in objects if controller_of(o) == (kind, name)]


def _stamp(value: datetime | None) -> Any:
    return pd.Timestamp(value) if value is not None else pd.NaT


def _sort_key(pod: Obj) -> tuple[int, str]:
    ordinal = statefulset_ordinal(pod)
    return (ordinal if ordinal is not None else -1, name_of(pod))


def revision_frame(pods: Iterable[Obj], history: Iterable[Obj]) -> pd.DataFrame:
    """Return one row per pod: its revision number, image, readiness and creation time.

    ``pods`` and ``history`` are the workload's pods and ControllerRevisions as
    dicts; pods are sorted by ordinal (StatefulSets), else by name. ``created``
    is the pod's ``creationTimestamp``, as the API server recorded it (whole
    seconds), ``ready_at`` when its Ready condition last turned True (NaT if not
    Ready); ``revision`` is None for a pod whose revision is unknown.
    """
    numbers = revision_numbers(history)
    rows = []
    for pod in sorted(pods, key=_sort_key):
        label = pod_revision(pod)
        created = parse_time(meta(pod).get("creationTimestamp"))
        rows.append(
            {
                "pod": name_of(pod),
                "revision": numbers.get(label) if label else None,
                "image": images(pod),
                "ready": condition_true(pod, "Ready") and not meta(pod).get("deletionTimestamp"),
                "created": _stamp(created),
                "ready_at": _stamp(
                    parse_time((condition(pod, "Ready") or {}).get("lastTransitionTime"))
                )
                if condition_true(pod, "Ready")
                else pd.NaT,
                "hash": label,
            }
        )
    frame = pd.DataFrame(rows, columns=FRAME_COLUMNS)
    frame["revision"] = frame["revision"].astype("Int64")
    return frame


def _workload(kind: str, name: str, namespace: str) -> tuple[str, Obj, str]:
    """Return the kind's canonical name, the workload and its selector as kubectl's ``-l``."""
    kind = kind_info(kind).kind
    if kind not in REVISION_KINDS:
        raise ValueError(
            f"only {' and '.join(REVISION_KINDS)} keep revisions of their pods, not {kind}"
        )
    workload = get(kind, name, namespace)
    if workload is None:
        raise WaitFailed(f"{kind} {name!r} does not exist in namespace {namespace}.")
    selector = (workload.get("spec") or {}).get("selector") or {}
    labels = ",".join(f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items()))
    return kind, workload, labels


def _history(kind: str, name: str, namespace: str, labels: str) -> list[Obj]:
    say(f"kubectl get controllerrevisions -l {labels} -n {namespace}")
    found = list_objects("ControllerRevision", namespace, label_selector=labels or None)
    return owned(found, kind, name)


def revision_history(kind: str, name: str, namespace: str, *, pods: bool = False) -> pd.DataFrame:
    """Return a StatefulSet's or DaemonSet's ControllerRevisions, by revision number.

    What ``kubectl rollout history`` lists, with each revision's object name
    and the images of its pod template. Columns: ``revision``, ``name``, ``image``;
    with ``pods=True`` also ``pods``, how many of the workload's pods (not
    being deleted) run each revision: a DaemonSet's rollout, at a glance.

    Example:
        >>> ch.revision_history("StatefulSet", "web", ns)  # doctest: +SKIP
           revision            name       image
        0         1  web-7d695c9644  nginx:1.27
        >>> ch.revision_history("DaemonSet", "log-collector", ns, pods=True)  # doctest: +SKIP
           revision                      name                  image  pods
        0         1  log-collector-769d4c8b95  fluent/fluent-bit:3.2     0
        1         2  log-collector-5b9f8d7c6d  fluent/fluent-bit:4.0     3

    Raises:
        WaitFailed: ``kind/name`` does not exist.
        ValueError: ``kind`` keeps no revisions of its pods.
    """
    kind, _, labels = _workload(kind, name, namespace)
    history = _history(kind, name, namespace, labels)
    rows = [
        {
            "revision": int(rev.get("revision") or 0),
            "name": name_of(rev),
            "image": images(((rev.get("data") or {}).get("spec") or {}).get("template") or {}),
        }
        for rev in history
    ]
    columns = ["revision", "name", "image"]
    if pods:
        say(f"kubectl get pods -l {labels} -L {REVISION_LABEL} -n {namespace}")
        numbers = revision_numbers(history)
        live = [
            p
            for p in owned(
                list_objects("Pod", namespace, label_selector=labels or None), kind, name
            )
            if not meta(p).get("deletionTimestamp")
        ]
        running = [numbers.get(pod_revision(p) or "") for p in live]
        for row, rev in zip(rows, history, strict=True):
            row["pods"] = running.count(int(rev.get("revision") or 0))
        columns.append("pods")
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values("revision", ignore_index=True)


def revisions(kind: str, name: str, namespace: str) -> pd.DataFrame:
    """Return which revision each pod of a StatefulSet or DaemonSet runs, read from the cluster.

    Columns: ``pod``; ``revision``, the number of the ControllerRevision named by
    the pod's ``controller-revision-hash`` label (what ``kubectl rollout
    history`` lists); ``image``; ``ready``; ``created``, the pod's
    ``creationTimestamp``; ``ready_at``, when it became Ready; ``hash``, the label
    itself. The frame's ``attrs`` hold the StatefulSet's ``current`` and ``update`` revision numbers
    (``status.currentRevision``/``updateRevision``), None for a DaemonSet.

    Example:
        >>> table = ch.revisions("StatefulSet", "web", ns)  # doctest: +SKIP
        >>> " -> ".join(table.sort_values("created")["pod"])  # doctest: +SKIP
        'web-2 -> web-1 -> web-0'

    Raises:
        WaitFailed: ``kind/name`` does not exist.
        ValueError: ``kind`` keeps no revisions of its pods.
    """
    kind, workload, labels = _workload(kind, name, namespace)
    say(f"kubectl get pods -l {labels} -L {REVISION_LABEL} -n {namespace}")
    pods = owned(list_objects("Pod", namespace, label_selector=labels or None), kind, name)
    history = _history(kind, name, namespace, labels)
    frame = revision_frame(pods, history)
    numbers = revision_numbers(history)
    status = workload.get("status") or {}
    frame.attrs["current"] = numbers.get(str(status.get("currentRevision")))
    frame.attrs["update"] = numbers.get(str(status.get("updateRevision")))
    return frame


# -- for live views: the revision of each pod, and the newest, per owner -----------------


def controller_uid(obj: Obj) -> str | None:
    """Return the uid of ``obj``'s controller (its ownerReference with controller: true)."""
    for ref in meta(obj).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None


@dataclass
class Revisions:
    """ControllerRevisions by owner: look up the revision number a pod runs.

    Example:
        >>> owner = [{"uid": "ds1", "controller": True}]
        >>> revs = Revisions.of([
        ...     {"metadata": {"name": "agent-5d8f", "ownerReferences": owner,
        ...                   "labels": {"controller-revision-hash": "5d8f"}}, "revision": 1},
        ...     {"metadata": {"name": "agent-7b9c", "ownerReferences": owner,
        ...                   "labels": {"controller-revision-hash": "7b9c"}}, "revision": 2}])
        >>> pod = {"metadata": {"ownerReferences": owner,
        ...                     "labels": {"controller-revision-hash": "5d8f"}}}
        >>> revs.revision_of(pod), revs.newest_for(pod)
        (1, 2)
    """

    #: (owner uid, hash or name) -> revision number.
    numbers: dict[tuple[str, str], int] = field(default_factory=dict)
    #: owner uid -> the highest revision number it has.
    newest: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, revisions: Iterable[Obj]) -> Revisions:
        """Index ControllerRevisions (objects as the API returns them)."""
        index = cls()
        for cr in revisions:
            owner = controller_uid(cr)
            if owner is None or cr.get("revision") is None:
                continue
            number = int(cr["revision"])
            for key in (name_of(cr), *(labels_of(cr).get(k) for k in (HASH_LABEL, REVISION_LABEL))):
                if key:
                    index.numbers[(owner, key)] = number
            index.newest[owner] = max(index.newest.get(owner, 0), number)
        return index

    def revision_of(self, pod: Obj) -> int | None:
        """Return the revision number ``pod`` runs, or None (no label, or not known yet)."""
        owner, key = controller_uid(pod), labels_of(pod).get(REVISION_LABEL)
        if owner is None or not key:
            return None
        return self.numbers.get((owner, key))

    def newest_for(self, pod: Obj) -> int | None:
        """Return the newest revision of ``pod``'s controller, or None."""
        owner = controller_uid(pod)
        return None if owner is None else self.newest.get(owner)
