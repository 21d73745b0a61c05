"""Why is it not happening? Read the cause of a stuck workload from the cluster.

A wait that gives up, or a lab check that fails, should say *why*: which
StorageClass is missing, which node label no node has, which taint no pod
tolerates, how many pods of a Job failed against its backoffLimit. This module
reads it from the objects involved, their claims, the nodes, the StorageClasses
and the Warning events, and says it in sentences a learner can act on::

    >>> ch.explain(ns, "StatefulSet", ["db"])  # doctest: +SKIP
    ["PersistentVolumeClaim data-db-0 asks for StorageClass 'fast', which does not exist ..."]

:func:`gather` is the only function that talks to the API server; everything
else judges a :class:`Snapshot`, so each diagnosis is tested without a cluster.
A :class:`Cause` is ``final`` when waiting cannot help (the learner has to
change something): lab checks stop waiting as soon as they find one.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._diagnose_base import Cause, Obj, Snapshot, _claim_names, _clip, _event_time
from ._diagnose_nodes import placement_causes
from ._diagnose_storage import (
    claim_causes,
    deletion_causes,
    missing_template_classes,
)
from ._diagnose_workloads import (
    daemonset_causes,
    job_causes,
    pod_causes,
    statefulset_causes,
)
from ._manifests import _resource, dynamic
from ._objects import condition, match_selector, meta, name_of, natural_key, uid_of
from ._requests import pod_requests

__all__ = [
    "WORKLOADS",
    "Cause",
    "Snapshot",
    "because",
    "causes",
    "claim_causes",
    "daemonset_causes",
    "deletion_causes",
    "diagnose",
    "event_causes",
    "explain",
    "format_causes",
    "gather",
    "job_causes",
    "placement_causes",
    "pod_causes",
    "pod_requests",
    "statefulset_causes",
]

#: The workload kinds a diagnosis follows down to their pods, and their API versions.
WORKLOADS = {
    "Deployment": "apps/v1",
    "ReplicaSet": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "Job": "batch/v1",
}
#: How many Warning events not already explained are quoted at most.
MAX_EVENTS = 4


# -- reading the cluster -------------------------------------------------------------------


def _list(api_version: str, kind: str, namespace: str | None = None) -> list[Obj]:
    res = _resource({"apiVersion": api_version, "kind": kind})
    listing = dynamic().get(res, namespace=namespace, _request_timeout=10)
    return [dict(item.to_dict()) for item in listing.items]


def gather(namespace: str, kinds: Iterable[str] | None = None) -> Snapshot:
    """Read what a diagnosis of ``namespace`` needs: pods, claims, events, nodes, classes.

    ``kinds`` limits the workload kinds listed (None: all of :data:`WORKLOADS`).
    """
    wanted = set(WORKLOADS if kinds is None else kinds) & set(WORKLOADS)
    if "Deployment" in wanted:
        wanted.add("ReplicaSet")
    return Snapshot(
        namespace=namespace,
        pods=_list("v1", "Pod", namespace),
        claims=_list("v1", "PersistentVolumeClaim", namespace),
        events=[
            e
            for e in _list("v1", "Event", namespace)
            if e.get("type") == "Warning" or e.get("reason") == "ExternalProvisioning"
        ],
        workloads={kind: _list(WORKLOADS[kind], kind, namespace) for kind in sorted(wanted)},
        nodes=_list("v1", "Node"),
        storage_classes=_list("storage.k8s.io/v1", "StorageClass"),
    )


def causes(
    namespace: str,
    kind: str | None = None,
    names: Iterable[str] | None = None,
    label_selector: str | None = None,
) -> list[Cause]:
    """Read the cluster and return why ``kind`` objects ``names`` in ``namespace`` are stuck.

    Args:
        namespace: the namespace to look in.
        kind: a workload kind (``StatefulSet``, ``Job``, ``DaemonSet``, ``Deployment``,
            ``ReplicaSet``), ``Pod`` or ``PersistentVolumeClaim``; None for everything.
        names: only these objects of ``kind`` (None: all of them).
        label_selector: only pods (and workloads whose pods would carry) these labels.
    """
    kinds = [kind] if kind in WORKLOADS else None
    return diagnose(gather(namespace, kinds), kind, names, label_selector)


def explain(
    namespace: str,
    kind: str | None = None,
    names: Iterable[str] | None = None,
    label_selector: str | None = None,
) -> list[str]:
    """Say why ``kind`` objects ``names`` in ``namespace`` are not done, as sentences.

    Reads pods, claims, StorageClasses, nodes and Warning events; an empty list
    means nothing looks stuck.

    Example:
        >>> ch.explain(ns, "StatefulSet", ["db"])  # doctest: +SKIP
        ["PersistentVolumeClaim data-db-0 asks for StorageClass 'fast', which does not ..."]
    """
    return [c.text for c in causes(namespace, kind, names, label_selector)]


def because(
    namespace: str,
    kind: str | None = None,
    names: Iterable[str] | None = None,
    label_selector: str | None = None,
) -> str:
    """Return " Why: ..." to append to a timeout message ("" when no cause is found).

    Never raises: a diagnosis that cannot read the cluster says so instead.
    """
    try:
        found = explain(namespace, kind, names, label_selector)
    except Exception as exc:  # the timeout must still be raised, whatever went wrong here
        return f"\n(The cause could not be read from the cluster: {exc}.)"
    return format_causes(found)


def format_causes(texts: list[str]) -> str:
    """Join cause sentences into the tail of an error message."""
    if not texts:
        return ""
    if len(texts) == 1:
        return f"\nWhy: {texts[0]}"
    return "\nWhy:\n" + "\n".join(f"  - {t}" for t in texts)


# -- choosing what to look at ------------------------------------------------------------


def _owned_by_uid(obj: Obj, uids: set[str]) -> bool:
    return any(r.get("uid") in uids for r in meta(obj).get("ownerReferences") or [])


def _template_labels(workload: Obj) -> dict[str, str]:
    template = (workload.get("spec") or {}).get("template") or {}
    return dict((template.get("metadata") or {}).get("labels") or {})


def _selected(
    snap: Snapshot, kind: str | None, names: set[str] | None, selector: str | None
) -> tuple[dict[str, list[Obj]], list[Obj], list[Obj]]:
    """Return (workloads by kind, pods, claims) the diagnosis is about."""

    def wanted(obj: Obj, of_kind: str) -> bool:
        if kind is not None and kind != of_kind:
            return False
        return names is None or kind != of_kind or name_of(obj) in names

    def labelled(labels: dict[str, str]) -> bool:
        try:
            return match_selector(labels, selector)
        except ValueError:
            return True

    workloads = {
        k: [
            w
            for w in items
            if (kind is None or kind == k)
            and wanted(w, k)
            and (selector is None or labelled(_template_labels(w)))
        ]
        for k, items in snap.workloads.items()
    }
    if kind == "Pod" and names is None:
        # Pods that are not there yet are a workload's business: follow its controllers.
        workloads = {
            k: [w for w in items if labelled(_template_labels(w))]
            for k, items in snap.workloads.items()
        }
    elif kind == "Pod":
        # Named pods: their own controllers speak for their templates (e.g. a claim template).
        named = [p for p in snap.pods if names is None or name_of(p) in names]
        owners = {r.get("uid") for p in named for r in meta(p).get("ownerReferences") or []}
        workloads = {
            k: [w for w in items if uid_of(w) in owners] for k, items in snap.workloads.items()
        }
    elif kind == "PersistentVolumeClaim":
        workloads = {k: [] for k in snap.workloads}
    # A Deployment's pods belong to its ReplicaSets.
    deployment_uids = {uid_of(d) for d in workloads.get("Deployment", [])}
    extra = [r for r in snap.workloads.get("ReplicaSet", []) if _owned_by_uid(r, deployment_uids)]
    known = {uid_of(r) for r in workloads.get("ReplicaSet", [])}
    workloads["ReplicaSet"] = workloads.get("ReplicaSet", []) + [
        r for r in extra if uid_of(r) not in known
    ]
    owner_uids = {uid_of(w) for items in workloads.values() for w in items}
    if kind is None:
        pods = list(snap.pods)
    elif kind == "Pod":
        pods = [
            p
            for p in snap.pods
            if (names is None or name_of(p) in names)
            and labelled(dict(meta(p).get("labels") or {}))
        ]
        if names is None:
            pods += [p for p in snap.pods if _owned_by_uid(p, owner_uids) and p not in pods]
    else:
        pods = [p for p in snap.pods if _owned_by_uid(p, owner_uids)]
    if kind == "PersistentVolumeClaim":
        claims = [c for c in snap.claims if names is None or name_of(c) in names]
    else:
        used = {n for p in pods for n in _claim_names(p)}
        used |= {n for s in workloads.get("StatefulSet", []) for n in _statefulset_claims(s)}
        claims = [c for c in snap.claims if name_of(c) in used]
        if kind is None:
            claims = list(snap.claims)
    return workloads, pods, claims


# -- the diagnoses ---------------------------------------------------------------------------


def diagnose(
    snap: Snapshot,
    kind: str | None = None,
    names: Iterable[str] | None = None,
    label_selector: str | None = None,
) -> list[Cause]:
    """Return the causes found in ``snap`` for the objects chosen, most important first.

    Example:
        >>> snap = Snapshot("ns", claims=[{"metadata": {"name": "data-db-0", "uid": "1"},
        ...     "spec": {"storageClassName": "fast"}, "status": {"phase": "Pending"}}])
        >>> diagnose(snap, "PersistentVolumeClaim")[0].final
        True
    """
    wanted = None if names is None else set(names)
    workloads, pods, claims = _selected(snap, kind, wanted, label_selector)
    found, told = _workload_causes(snap, workloads, pods)
    found += _pod_and_claim_causes(snap, pods, claims, told)
    involved = {uid_of(o) for o in (*pods, *claims)} | {
        uid_of(w) for items in workloads.values() for w in items
    }
    found += [c for c in deletion_causes(snap) if c.about in _abouts(workloads, pods, claims)]
    found += event_causes(snap.events, involved - told, found)
    return _merge(found)


def _abouts(
    workloads: dict[str, list[Obj]], pods: list[Obj], claims: list[Obj]
) -> set[tuple[str, str]]:
    chosen = [("Pod", p) for p in pods] + [("PersistentVolumeClaim", c) for c in claims]
    chosen += [(kind, w) for kind, items in workloads.items() for w in items]
    return {(kind, name_of(obj)) for kind, obj in chosen}


def _pods_of(workload: Obj, kind: str, snap: Snapshot, pods: list[Obj]) -> list[Obj]:
    """Return the pods of ``workload`` (a Deployment's through its ReplicaSets)."""
    owners = {uid_of(workload)}
    if kind == "Deployment":
        owners |= {
            uid_of(r) for r in snap.workloads.get("ReplicaSet", []) if _owned_by_uid(r, owners)
        }
    return [p for p in pods if _owned_by_uid(p, owners)]


def _wants_placement(workload: Obj, kind: str, pods: list[Obj]) -> bool:
    """Tell whether ``workload`` has pods to place: unscheduled ones, or none yet."""
    alive = [p for p in pods if not meta(p).get("deletionTimestamp")]
    if any(
        not (p.get("spec") or {}).get("nodeName")
        and (p.get("status") or {}).get("phase", "Pending") == "Pending"
        for p in alive
    ):
        return True
    if alive:
        return False
    spec = workload.get("spec") or {}
    if kind == "Job":
        finished = any(
            (condition(workload, c) or {}).get("status") == "True" for c in ("Complete", "Failed")
        )
        return not finished and not spec.get("suspend")
    return int(spec.get("replicas", 1)) > 0


def _workload_causes(
    snap: Snapshot, workloads: dict[str, list[Obj]], pods: list[Obj]
) -> tuple[list[Cause], set[str]]:
    """Return the workloads' causes and the uids of pods and claims those causes explain."""
    found: list[Cause] = []
    told: set[str] = set()
    for kind in ("Deployment", "ReplicaSet", "StatefulSet", "Job"):
        for workload in workloads.get(kind, []):
            if kind == "ReplicaSet" and meta(workload).get("ownerReferences"):
                continue  # its Deployment speaks for it
            mine = _pods_of(workload, kind, snap, pods)
            if not _wants_placement(workload, kind, mine):
                continue
            template = ((workload.get("spec") or {}).get("template") or {}).get("spec") or {}
            who = (kind, name_of(workload))
            placed = placement_causes(template, snap.nodes, " ".join(who))
            if placed:
                found += [Cause(c.text, c.final, who) for c in placed]
                told |= {uid_of(p) for p in mine if not (p.get("spec") or {}).get("nodeName")}
    for job in workloads.get("Job", []):
        mine = _pods_of(job, "Job", snap, pods)
        job_found = job_causes(job, mine)
        if any(c.final for c in job_found):
            told |= {
                uid_of(p)
                for p in mine
                if (p.get("status") or {}).get("phase") == "Failed"
                or meta(p).get("deletionTimestamp")
            }
        found += job_found
    for sts in workloads.get("StatefulSet", []):
        found += statefulset_causes(
            sts, _pods_of(sts, "StatefulSet", snap, pods), snap.storage_classes
        )
        for template, class_name in missing_template_classes(sts, snap.storage_classes).items():
            told |= {
                uid_of(c)
                for c in snap.claims
                if name_of(c).startswith(f"{template}-{name_of(sts)}-")
                and (c.get("spec") or {}).get("storageClassName") == class_name
            }
    for ds in workloads.get("DaemonSet", []):
        found += daemonset_causes(ds, snap.nodes)
    return found, told


def _pod_and_claim_causes(
    snap: Snapshot, pods: list[Obj], claims: list[Obj], told: set[str]
) -> list[Cause]:
    """Return why each pod (and each claim it uses, or that was asked about) is stuck."""
    found: list[Cause] = []
    by_claim = {name_of(c): c for c in snap.claims}
    done = {name_of(c) for c in snap.claims if uid_of(c) in told}
    for pod in sorted(pods, key=lambda p: natural_key(name_of(p))):
        for claim_name in _claim_names(pod):
            if claim_name in done:
                continue
            done.add(claim_name)
            claim = by_claim.get(claim_name)
            if claim is not None:
                found += claim_causes(claim, snap.storage_classes, snap.events)
            elif not meta(pod).get("deletionTimestamp"):
                found.append(
                    Cause(
                        f"Pod {name_of(pod)} needs PersistentVolumeClaim {claim_name}, "
                        "which does not exist.",
                        about=("Pod", name_of(pod)),
                    )
                )
        if uid_of(pod) not in told:
            found += pod_causes(pod, snap.nodes)
    for claim in claims:
        if name_of(claim) not in done:
            done.add(name_of(claim))
            found += claim_causes(claim, snap.storage_classes, snap.events)
    return found


def _merge(found: list[Cause]) -> list[Cause]:
    """Drop repeated sentences, say once what many pods share, and put final causes first."""
    groups: dict[str, list[Cause]] = {}
    for cause in found:
        kind, name = cause.about
        key = cause.text
        if kind == "Pod" and name:
            key = key.replace(f"Pod {name}", "Pod {}", 1)
        group = groups.setdefault(key, [])
        if all(c.about != cause.about for c in group):
            group.append(cause)
    out = []
    for key, group in groups.items():
        first = group[0]
        if len(group) > 1 and first.about[0] == "Pod":
            names = ", ".join(c.about[1] for c in group[1:])
            text = key.replace("Pod {}", f"Pod {first.about[1]} (and likewise {names})", 1)
            first = Cause(text, first.final, first.about)
        out.append(first)
    return [c for c in out if c.final] + [c for c in out if not c.final]


def _statefulset_claims(sts: Obj) -> list[str]:
    spec = sts.get("spec") or {}
    templates = [name_of(t) for t in spec.get("volumeClaimTemplates") or []]
    return [
        f"{t}-{name_of(sts)}-{i}" for t in templates for i in range(int(spec.get("replicas", 1)))
    ]


# -- claims and StorageClasses ---------------------------------------------------------


# -- pods and nodes ------------------------------------------------------------------------------


# -- workloads -----------------------------------------------------------------------------------


# -- deletions ---------------------------------------------------------------------------------


# -- events ------------------------------------------------------------------------------------


#: Event reasons already said better by a structured cause about the same object.
_EXPLAINED_BY = {
    "FailedScheduling": "Pod",
    "ProvisioningFailed": "PersistentVolumeClaim",
    "ExternalProvisioning": "PersistentVolumeClaim",
    "BackoffLimitExceeded": "Job",
    "DeadlineExceeded": "Job",
}


def event_causes(events: list[Obj], involved: set[str], already: list[Cause]) -> list[Cause]:
    """Quote the latest Warning event of each (object, reason) that no cause explains yet."""
    explained = {c.about for c in already}
    latest: dict[tuple[str, str], Obj] = {}
    for event in events:
        obj = event.get("involvedObject") or {}
        if obj.get("uid") not in involved or event.get("type") != "Warning":
            continue
        if (
            _EXPLAINED_BY.get(str(event.get("reason"))) == obj.get("kind")
            and (
                obj.get("kind"),
                obj.get("name"),
            )
            in explained
        ):
            continue
        key = (str(obj.get("uid")), str(event.get("reason")))
        if key not in latest or _event_time(event) > _event_time(latest[key]):
            latest[key] = event
    chosen = sorted(latest.values(), key=_event_time, reverse=True)[:MAX_EVENTS]
    out = []
    for event in sorted(chosen, key=_event_time):
        obj = event.get("involvedObject") or {}
        count = int((event.get("series") or {}).get("count") or event.get("count") or 1)
        times = f" ({count} times)" if count > 1 else ""
        out.append(
            Cause(
                f"Warning event on {obj.get('kind')} {obj.get('name')}: {event.get('reason')}"
                f"{times}: {_clip(event.get('message'))}",
                about=(str(obj.get("kind")), str(obj.get("name"))),
            )
        )
    return out
