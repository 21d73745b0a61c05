"""Why a claim is not Bound (its StorageClass, its provisioner) and what keeps one being deleted."""

from __future__ import annotations

from ._diagnose_base import Cause, Obj, Snapshot, _claim_names, _clip, _event_time
from ._objects import meta, name_of, uid_of

DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"


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


def missing_template_classes(sts: Obj, classes: list[Obj]) -> dict[str, str]:
    """Return {claim template name: StorageClass} for templates naming a class that is not there."""
    known = {name_of(c) for c in classes}
    out = {}
    for template in (sts.get("spec") or {}).get("volumeClaimTemplates") or []:
        wanted = (template.get("spec") or {}).get("storageClassName")
        if wanted and wanted not in known:
            out[name_of(template)] = str(wanted)
    return out


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
