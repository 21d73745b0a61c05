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
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kubernetes.utils.quantity import parse_quantity

from ._manifests import _resource, dynamic
from ._objects import condition, match_selector, meta, name_of, natural_key, pod_ready, uid_of

Obj = dict[str, Any]

#: The workload kinds a diagnosis follows down to their pods, and their API versions.
WORKLOADS = {
    "Deployment": "apps/v1",
    "ReplicaSet": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "Job": "batch/v1",
}
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
#: How many Warning events not already explained are quoted at most.
MAX_EVENTS = 4


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


def _claim_names(pod: Obj) -> list[str]:
    volumes = (pod.get("spec") or {}).get("volumes") or []
    return [
        str(v["persistentVolumeClaim"]["claimName"])
        for v in volumes
        if (v.get("persistentVolumeClaim") or {}).get("claimName")
    ]


def _statefulset_claims(sts: Obj) -> list[str]:
    spec = sts.get("spec") or {}
    templates = [name_of(t) for t in spec.get("volumeClaimTemplates") or []]
    return [
        f"{t}-{name_of(sts)}-{i}" for t in templates for i in range(int(spec.get("replicas", 1)))
    ]


# -- claims and StorageClasses ---------------------------------------------------------


def _class_list(classes: list[Obj]) -> str:
    """Say which StorageClasses exist: "this cluster has only standard, the default"."""
    if not classes:
        return "this cluster has no StorageClass at all"
    default = {
        name_of(c)
        for c in classes
        if (meta(c).get("annotations") or {}).get(DEFAULT_CLASS) == "true"
    }
    names = sorted(name_of(c) for c in classes)
    if len(names) == 1:
        return f"this cluster has only {names[0]}" + (", the default" if default else "")
    shown = [f"{n} (the default)" if n in default else n for n in names]
    return f"this cluster has {', '.join(shown)}"


def claim_causes(claim: Obj, classes: list[Obj], events: list[Obj]) -> list[Cause]:
    """Say why a PersistentVolumeClaim is not Bound (nothing when it is).

    Example:
        >>> claim = {"metadata": {"name": "data-db-0"}, "spec": {"storageClassName": "fast"},
        ...          "status": {"phase": "Pending"}}
        >>> print(claim_causes(claim, [{"metadata": {"name": "standard"}}], [])[0].text)
        ... # doctest: +NORMALIZE_WHITESPACE
        PersistentVolumeClaim data-db-0 asks for StorageClass 'fast', which does not exist
        (this cluster has only standard), so no volume is made for it and its pod
        cannot start. Use one that exists in storageClassName, or leave the field out to
        get the default.
    """
    status = claim.get("status") or {}
    name = name_of(claim)
    about = ("PersistentVolumeClaim", name)
    spec = claim.get("spec") or {}
    if status.get("phase") == "Bound" or meta(claim).get("deletionTimestamp"):
        return []
    wanted = spec.get("storageClassName")
    by_name = {name_of(c): c for c in classes}
    if status.get("phase") == "Lost":
        return [
            Cause(
                f"PersistentVolumeClaim {name} is Lost: its PersistentVolume "
                f"{spec.get('volumeName')} is gone. Delete the claim and let it be made again.",
                final=True,
                about=about,
            )
        ]
    if wanted is None:
        return [
            Cause(
                f"PersistentVolumeClaim {name} names no StorageClass and the cluster has no "
                f"default one; {_class_list(classes)}: set storageClassName.",
                final=True,
                about=about,
            )
        ]
    if wanted == "":
        return [
            Cause(
                f'PersistentVolumeClaim {name} has storageClassName: "", which means "only an '
                'existing PersistentVolume, never a new one", and no free PersistentVolume '
                "matches it. Leave the field out to get the default class "
                f"({_class_list(classes)}).",
                final=True,
                about=about,
            )
        ]
    if wanted not in by_name:
        return [
            Cause(
                f"PersistentVolumeClaim {name} asks for StorageClass {wanted!r}, which does "
                f"not exist ({_class_list(classes)}), so no volume is made for it and its pod "
                "cannot start. Use one that exists in storageClassName, or leave the field "
                "out to get the default.",
                final=True,
                about=about,
            )
        ]
    sc = by_name[wanted]
    if sc.get("volumeBindingMode") == "WaitForFirstConsumer":
        return []  # bound once a pod using it is scheduled; the pod says why it is not
    mine = [
        e
        for e in events
        if (e.get("involvedObject") or {}).get("uid") == uid_of(claim)
        and e.get("reason") in ("ProvisioningFailed", "ExternalProvisioning")
    ]
    if mine:
        last = max(mine, key=_event_time)
        return [
            Cause(
                f"PersistentVolumeClaim {name} (StorageClass {wanted}, provisioner "
                f"{sc.get('provisioner')}) is still Pending: {last.get('reason')}: "
                f"{_clip(last.get('message'))}",
                about=about,
            )
        ]
    return [
        Cause(
            f"PersistentVolumeClaim {name} is still Pending: StorageClass {wanted}'s "
            f"provisioner {sc.get('provisioner')} has not made a volume for it yet.",
            about=about,
        )
    ]


# -- pods and nodes ------------------------------------------------------------------------------


def _labels(obj: Obj) -> dict[str, str]:
    return dict(meta(obj).get("labels") or {})


def _term_matches(node: Obj, term: Obj) -> bool:
    labels = _labels(node)
    checks = [(labels.get(e.get("key", "")), e) for e in term.get("matchExpressions") or []]
    checks += [
        (name_of(node) if e.get("key") == "metadata.name" else None, e)
        for e in term.get("matchFields") or []
    ]
    for value, expr in checks:
        op, values = expr.get("operator"), [str(v) for v in expr.get("values") or []]
        if op == "In" and value not in values:
            return False
        if op == "NotIn" and value in values:
            return False
        if op == "Exists" and value is None:
            return False
        if op == "DoesNotExist" and value is not None:
            return False
        if op in ("Gt", "Lt"):
            try:
                number, bound = int(value or ""), int(values[0])
            except (ValueError, IndexError):
                return False
            if (op == "Gt" and number <= bound) or (op == "Lt" and number >= bound):
                return False
    return bool(checks)


def _required_terms(spec: Obj) -> list[Obj]:
    affinity = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    return list(affinity.get("nodeSelectorTerms") or [])


def _selector_matches(spec: Obj, node: Obj) -> bool:
    labels = _labels(node)
    selector = spec.get("nodeSelector") or {}
    if any(labels.get(k) != v for k, v in selector.items()):
        return False
    terms = _required_terms(spec)
    return not terms or any(_term_matches(node, t) for t in terms)


def _tolerates(tolerations: list[Obj], taint: Obj) -> bool:
    for t in tolerations:
        if t.get("effect") and t.get("effect") != taint.get("effect"):
            continue
        if t.get("operator") == "Exists":
            if not t.get("key") or t.get("key") == taint.get("key"):
                return True
        elif t.get("key") == taint.get("key") and (t.get("value") or "") == (
            taint.get("value") or ""
        ):
            return True
    return False


def _blocking_taints(spec: Obj, node: Obj) -> list[Obj]:
    taints = (node.get("spec") or {}).get("taints") or []
    tolerations = spec.get("tolerations") or []
    return [
        t
        for t in taints
        if t.get("effect") in ("NoSchedule", "NoExecute") and not _tolerates(tolerations, t)
    ]


def _taint_text(taint: Obj) -> str:
    value = f"={taint['value']}" if taint.get("value") else ""
    return f"{taint.get('key')}{value}:{taint.get('effect')}"


def pod_requests(spec: Obj) -> dict[str, Decimal]:
    """Return what a pod asks of a node: the largest of its containers' sum and each init's.

    Example:
        >>> pod_requests({"containers": [{"resources": {"requests": {"cpu": "500m"}}},
        ...                              {"resources": {"requests": {"cpu": "1"}}}]})
        {'cpu': Decimal('1.500')}
    """
    total: dict[str, Decimal] = {}
    for c in spec.get("containers") or []:
        for key, value in ((c.get("resources") or {}).get("requests") or {}).items():
            total[key] = total.get(key, Decimal(0)) + parse_quantity(value)
    for c in spec.get("initContainers") or []:
        for key, value in ((c.get("resources") or {}).get("requests") or {}).items():
            total[key] = max(total.get(key, Decimal(0)), parse_quantity(value))
    for key, value in (spec.get("overhead") or {}).items():
        total[key] = total.get(key, Decimal(0)) + parse_quantity(value)
    return total


def _allocatable(node: Obj, resource: str) -> Decimal:
    value = ((node.get("status") or {}).get("allocatable") or {}).get(resource)
    return parse_quantity(value) if value is not None else Decimal(0)


def _amount(resource: str, value: Decimal) -> str:
    if resource == "memory" or resource.endswith("storage"):
        for unit, size in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
            if value >= size:
                return f"{value / size:.3g}{unit}"
    return f"{value.normalize():f}"


def _label_values(nodes: list[Obj], key: str) -> str:
    values: dict[str, list[str]] = {}
    for node in sorted(nodes, key=lambda n: natural_key(name_of(n))):
        value = _labels(node).get(key)
        if value is not None:
            values.setdefault(value, []).append(name_of(node))
    if not values:
        return f"no node has the label {key} at all"
    shown = "; ".join(f"{key}={v} on {', '.join(ns)}" for v, ns in sorted(values.items()))
    return f"the nodes have {shown}"


def placement_causes(spec: Obj, nodes: list[Obj], who: str) -> list[Cause]:
    """Say why no node can take a pod with this spec (nothing when some node can).

    ``who`` names the pod or workload in the sentence. Only causes that do not
    depend on other pods are judged here: labels, affinity, taints, and requests
    larger than a whole node.

    Example:
        >>> nodes = [{"metadata": {"name": "w1", "labels": {"disk": "ssd"}}}]
        >>> print(placement_causes({"nodeSelector": {"disk": "SSD"}}, nodes, "Pod p")[0].text)
        ... # doctest: +NORMALIZE_WHITESPACE
        Pod p can run on no node: its nodeSelector asks for disk=SSD, but the nodes have
        disk=ssd on w1. Fix the nodeSelector, or label a node (`kubectl label node <name>
        <key>=<value>`).
    """
    if not nodes:
        return [Cause(f"The cluster has no nodes, so {who} cannot run anywhere.", final=True)]
    selector = dict(spec.get("nodeSelector") or {})
    matching = [n for n in nodes if _selector_matches(spec, n)]
    if not matching:
        missing = [
            (k, v) for k, v in selector.items() if not any(_labels(n).get(k) == v for n in nodes)
        ]
        if missing:
            parts = "; ".join(f"{k}={v}, but {_label_values(nodes, k)}" for k, v in sorted(missing))
            return [
                Cause(
                    f"{who} can run on no node: its nodeSelector asks for {parts}. Fix the "
                    "nodeSelector, or label a node (`kubectl label node <name> <key>=<value>`).",
                    final=True,
                )
            ]
        if selector and not any(
            all(_labels(n).get(k) == v for k, v in selector.items()) for n in nodes
        ):
            wanted = ", ".join(f"{k}={v}" for k, v in sorted(selector.items()))
            return [
                Cause(
                    f"{who} can run on no node: no single node has all of its nodeSelector "
                    f"labels {wanted}.",
                    final=True,
                )
            ]
        return [
            Cause(
                f"{who} can run on no node: no node satisfies its required node affinity "
                "(spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution).",
                final=True,
            )
        ]
    untainted = [n for n in matching if not _blocking_taints(spec, n)]
    if not untainted:
        shown = "; ".join(
            f"{name_of(n)} has {', '.join(_taint_text(t) for t in _blocking_taints(spec, n))}"
            for n in sorted(matching, key=lambda n: natural_key(name_of(n)))
        )
        return [
            Cause(
                f"{who} can run on no node: every node it may use has a taint it does not "
                f"tolerate ({shown}). Add a matching toleration, or remove the taint "
                "(`kubectl taint node <name> <key>-`).",
                final=True,
            )
        ]
    requests = pod_requests(spec)
    too_big = []
    for resource, amount in sorted(requests.items()):
        if amount <= 0:
            continue
        largest = max(_allocatable(n, resource) for n in untainted)
        if amount > largest:
            too_big.append(
                f"{resource} {_amount(resource, amount)} (the largest node offers "
                f"{_amount(resource, largest)})"
            )
    if too_big:
        return [
            Cause(
                f"{who} can run on no node: it requests {'; '.join(too_big)}. Lower "
                "the container's resources.requests.",
                final=True,
            )
        ]
    return []


def pod_causes(pod: Obj, nodes: list[Obj]) -> list[Cause]:
    """Say why a pod is not Ready (nothing when it is, or is simply starting)."""
    name = name_of(pod)
    about = ("Pod", name)
    status, spec = pod.get("status") or {}, pod.get("spec") or {}
    if meta(pod).get("deletionTimestamp"):
        if meta(pod).get("finalizers"):
            return []  # deletion_causes names what holds it
        return [Cause(f"Pod {name} is being deleted: its containers are stopping.", about=about)]
    phase = status.get("phase") or "Pending"
    if phase == "Succeeded" or (phase == "Running" and pod_ready(pod)):
        return []
    if phase == "Failed":
        return [Cause(f"Pod {name} failed: {_termination(pod)}.", about=about)]
    if not spec.get("nodeName"):
        if spec.get("schedulingGates"):
            gates = ", ".join(g.get("name", "") for g in spec["schedulingGates"])
            return [Cause(f"Pod {name} waits on scheduling gates {gates}.", about=about)]
        placement = placement_causes(spec, nodes, f"Pod {name}")
        if placement:
            return [Cause(c.text, c.final, about) for c in placement]
        scheduled = condition(pod, "PodScheduled") or {}
        if scheduled.get("status") == "False" and scheduled.get("message"):
            return [
                Cause(
                    f"Pod {name} is not scheduled: {_clip(scheduled['message'])}",
                    about=about,
                )
            ]
        return []
    waiting = [
        (c, (c.get("state") or {}).get("waiting") or {})
        for c in (status.get("initContainerStatuses") or [])
        + (status.get("containerStatuses") or [])
        if (c.get("state") or {}).get("waiting")
    ]
    stuck = [
        f"container {c.get('name')} is waiting ({w.get('reason')}"
        + (f": {_clip(w.get('message'))}" if w.get("message") else "")
        + ")"
        + _last_exit(c)
        for c, w in waiting
        if w.get("reason") not in (None, "ContainerCreating", "PodInitializing")
    ]
    if stuck:
        return [Cause(f"Pod {name} on {spec['nodeName']}: {'; '.join(stuck)}.", about=about)]
    restarts = [
        c
        for c in status.get("containerStatuses") or []
        if c.get("restartCount") and not c.get("ready")
    ]
    if restarts:
        shown = "; ".join(
            f"container {c.get('name')} restarted {c['restartCount']} times" + _last_exit(c)
            for c in restarts
        )
        return [Cause(f"Pod {name} is not Ready: {shown}.", about=about)]
    return []


def _last_exit(container: Obj) -> str:
    last = (container.get("lastState") or {}).get("terminated") or {}
    if not last:
        return ""
    return f", last exit code {last.get('exitCode')} ({last.get('reason') or 'no reason'})"


def _termination(pod: Obj) -> str:
    status = pod.get("status") or {}
    ended = [
        f"container {c.get('name')} exited with code {t.get('exitCode')}"
        + (f" ({t.get('reason')})" if t.get("reason") else "")
        for c in status.get("containerStatuses") or []
        if (t := (c.get("state") or {}).get("terminated"))
    ]
    if ended:
        return "; ".join(ended)
    return str(status.get("message") or status.get("reason") or "no reason given")


# -- workloads -----------------------------------------------------------------------------------


def job_causes(job: Obj, pods: list[Obj]) -> list[Cause]:
    """Say why a Job is not Complete: Failed (and why), suspended, or its pods failing.

    Example:
        >>> job = {"metadata": {"name": "pi"}, "spec": {"backoffLimit": 2},
        ...        "status": {"failed": 3, "conditions": [{"type": "Failed", "status": "True",
        ...        "reason": "BackoffLimitExceeded", "message": "Job has reached the specified "
        ...        "backoff limit"}]}}
        >>> print(job_causes(job, [])[0].text)  # doctest: +NORMALIZE_WHITESPACE
        Job pi Failed (BackoffLimitExceeded: Job has reached the specified backoff limit):
        3 pods failed, and its backoffLimit 2 allows 2 retries, so it stopped at the third
        failure. Fix what makes the pods fail, then delete the Job and apply it again.
    """
    name, spec, status = name_of(job), job.get("spec") or {}, job.get("status") or {}
    about = ("Job", name)
    limit = int(spec.get("backoffLimit", 6))
    failed = int(status.get("failed") or 0)
    failed_pods = sorted(
        (p for p in pods if (p.get("status") or {}).get("phase") == "Failed"),
        key=lambda p: natural_key(name_of(p)),
    )
    why_pods = (
        f" Pod {name_of(failed_pods[-1])}: {_termination(failed_pods[-1])}." if failed_pods else ""
    )
    done = condition(job, "Complete") or {}
    if done.get("status") == "True":
        return []
    ended = condition(job, "Failed") or condition(job, "FailureTarget") or {}
    if ended.get("status") == "True":
        reason, message = ended.get("reason"), ended.get("message")
        detail = f" ({reason}: {message})" if reason else ""
        if reason == "BackoffLimitExceeded":
            nth = _ordinal(limit + 1)
            budget = (
                f": {failed} pods failed, and its backoffLimit {limit} allows {limit} "
                f"retr{'y' if limit == 1 else 'ies'}, so it stopped at the {nth} failure."
            )
        elif reason == "DeadlineExceeded":
            budget = (
                f": it ran longer than its activeDeadlineSeconds "
                f"({spec.get('activeDeadlineSeconds')})."
            )
        else:
            budget = f": {failed} pods failed."
        return [
            Cause(
                f"Job {name} Failed{detail}{budget}{why_pods} Fix what makes the pods fail, "
                "then delete the Job and apply it again.",
                final=True,
                about=about,
            )
        ]
    if spec.get("suspend"):
        return [
            Cause(
                f"Job {name} is suspended (spec.suspend: true), so it starts no pods: set "
                "it to false to let it run.",
                final=True,
                about=about,
            )
        ]
    if failed:
        return [
            Cause(
                f"Job {name} has {failed} failed pod(s) so far; its backoffLimit {limit} "
                f"fails the Job at the {_ordinal(limit + 1)} failure. After each failure the "
                "Job controller waits before it makes the next pod (10 s, then doubling, at "
                f"most 10 min).{why_pods}",
                about=about,
            )
        ]
    return []


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


def missing_template_classes(sts: Obj, classes: list[Obj]) -> dict[str, str]:
    """Return {claim template name: StorageClass} for templates naming a class that is not there."""
    known = {name_of(c) for c in classes}
    out = {}
    for template in (sts.get("spec") or {}).get("volumeClaimTemplates") or []:
        wanted = (template.get("spec") or {}).get("storageClassName")
        if wanted and wanted not in known:
            out[name_of(template)] = str(wanted)
    return out


def statefulset_causes(sts: Obj, pods: list[Obj], classes: list[Obj]) -> list[Cause]:
    """Say why a StatefulSet is stuck: a claim template's missing class, or an ordinal not Ready.

    Example:
        >>> sts = {"metadata": {"name": "db"}, "spec": {"replicas": 2, "volumeClaimTemplates":
        ...        [{"metadata": {"name": "data"}, "spec": {"storageClassName": "fast"}}]}}
        >>> print(statefulset_causes(sts, [], [{"metadata": {"name": "standard"}}])[0].text)
        ... # doctest: +NORMALIZE_WHITESPACE
        StatefulSet db's volumeClaimTemplate data asks for StorageClass 'fast', which does not
        exist (this cluster has only standard), so its claims data-db-0, data-db-1 stay
        Pending and its pods cannot start. Fix storageClassName in volumeClaimTemplates (or
        leave it out to get the default). The templates cannot change in place and a claim
        keeps its class: delete the StatefulSet and those claims, then apply again.
    """
    spec, name = sts.get("spec") or {}, name_of(sts)
    replicas = int(spec.get("replicas", 1))
    start = int((spec.get("ordinals") or {}).get("start", 0))
    found = [
        Cause(
            f"StatefulSet {name}'s volumeClaimTemplate {template} asks for StorageClass "
            f"{wanted!r}, which does not exist ({_class_list(classes)}), so its claims "
            f"{', '.join(f'{template}-{name}-{i}' for i in range(start, start + replicas))} "
            "stay Pending and its pods cannot start. Fix storageClassName in "
            "volumeClaimTemplates (or leave it out to get the default). The templates cannot "
            "change in place and a claim keeps its class: delete the StatefulSet and those "
            "claims, then apply again.",
            final=True,
            about=("StatefulSet", name),
        )
        for template, wanted in missing_template_classes(sts, classes).items()
    ]
    return found + _ordinal_causes(sts, pods)


def _ordinal_causes(sts: Obj, pods: list[Obj]) -> list[Cause]:
    spec, name = sts.get("spec") or {}, name_of(sts)
    if spec.get("podManagementPolicy", "OrderedReady") != "OrderedReady":
        return []
    replicas = int(spec.get("replicas", 1))
    start = int((spec.get("ordinals") or {}).get("start", 0))
    by_name = {name_of(p): p for p in pods}
    for ordinal in range(start, start + replicas):
        pod = by_name.get(f"{name}-{ordinal}")
        if pod is None or meta(pod).get("deletionTimestamp"):
            return []
        if not pod_ready(pod):
            later = [f"{name}-{i}" for i in range(ordinal + 1, start + replicas)]
            absent = [n for n in later if n not in by_name]
            if not absent:
                return []
            return [
                Cause(
                    f"StatefulSet {name} creates its pods one at a time, in order "
                    f"(podManagementPolicy OrderedReady): {', '.join(absent)} will be created "
                    f"only once {name}-{ordinal} is Ready, and it is not.",
                    about=("StatefulSet", name),
                )
            ]
    return []


def daemonset_causes(ds: Obj, nodes: list[Obj]) -> list[Cause]:
    """Say why a DaemonSet wants pods on no node (its selector, affinity or taints)."""
    status, name = ds.get("status") or {}, name_of(ds)
    if status.get("observedGeneration") != meta(ds).get("generation"):
        return []
    if status.get("desiredNumberScheduled", 0) != 0:
        return []
    template = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
    found = placement_causes(template, nodes, f"DaemonSet {name}")
    reason = (
        found[0].text
        if found
        else f"DaemonSet {name} wants a pod on 0 nodes: no node matches its pod template."
    )
    reason = reason.replace("can run on no node", "can run on no node (desired: 0 pods)", 1)
    return [Cause(reason, final=True, about=("DaemonSet", name))]


# -- deletions ---------------------------------------------------------------------------------

PVC_PROTECTION = "kubernetes.io/pvc-protection"


def deletion_causes(snap: Snapshot) -> list[Cause]:
    """Say what keeps objects that are being deleted: a claim's users, or finalizers.

    Example:
        >>> claim = {"metadata": {"name": "data-db-0", "deletionTimestamp": "2026-01-01T00:00:00Z",
        ...          "finalizers": ["kubernetes.io/pvc-protection"]}}
        >>> user = {"metadata": {"name": "db-0"}, "spec": {"volumes": [
        ...         {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}}]}}
        >>> print(deletion_causes(Snapshot("ns", pods=[user], claims=[claim]))[0].text)
        ... # doctest: +NORMALIZE_WHITESPACE
        PersistentVolumeClaim data-db-0 is being deleted, but it stays while pod db-0 uses it
        (finalizer kubernetes.io/pvc-protection): delete the pod, or its StatefulSet, too.
    """
    users: dict[str, list[str]] = {}
    for pod in snap.pods:
        for claim_name in _claim_names(pod):
            users.setdefault(claim_name, []).append(name_of(pod))
    kinds = [("PersistentVolumeClaim", snap.claims), ("Pod", snap.pods), *snap.workloads.items()]
    out = []
    for kind, items in kinds:
        for obj in items:
            finalizers = [str(f) for f in meta(obj).get("finalizers") or []]
            if not meta(obj).get("deletionTimestamp") or not finalizers:
                continue
            name = name_of(obj)
            if kind == "PersistentVolumeClaim" and PVC_PROTECTION in finalizers and users.get(name):
                text = (
                    f"PersistentVolumeClaim {name} is being deleted, but it stays while pod "
                    f"{', '.join(users[name])} uses it (finalizer {PVC_PROTECTION}): delete "
                    "the pod, or its StatefulSet, too."
                )
            else:
                text = (
                    f"{kind} {name} is being deleted; it goes once its finalizers "
                    f"({', '.join(finalizers)}) are done."
                )
            out.append(Cause(text, about=(kind, name)))
    return out


# -- events ------------------------------------------------------------------------------------


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
