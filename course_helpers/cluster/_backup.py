"""A copy of the learner's objects in course namespaces, to restore into a fresh cluster.

The embedded cluster keeps its data in etcd, which survives a crash or a
reboot; the cluster is then resumed with that data (see ``_embedded.up``).
This copy is the second line: when the data cannot be used any more, the
cluster is created afresh and the objects saved here are created again.

What is saved: every object the learner could have made in a namespace the
course created (labelled :data:`MANAGED_LABEL`), of the kinds in
:data:`KINDS`, that no controller owns. What is not: pods, Jobs a CronJob
made, ReplicaSets, Events, EndpointSlices (their controllers make them again),
and every object's status and history. The file may hold Secrets, so it is
written with mode 0600.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from ._binaries import Log
from ._paths import state_dir

MANAGED_LABEL = "course.dev/managed-by"
MANAGED_VALUE = "k8s-workloads-course"

#: (client API class, snake_case name in its methods, kind) in the order they are created again.
KINDS: tuple[tuple[str, str, str], ...] = (
    ("CoreV1Api", "service_account", "ServiceAccount"),
    ("CoreV1Api", "config_map", "ConfigMap"),
    ("CoreV1Api", "secret", "Secret"),
    ("CoreV1Api", "persistent_volume_claim", "PersistentVolumeClaim"),
    ("CoreV1Api", "service", "Service"),
    ("AppsV1Api", "deployment", "Deployment"),
    ("AppsV1Api", "daemon_set", "DaemonSet"),
    ("AppsV1Api", "stateful_set", "StatefulSet"),
    ("BatchV1Api", "job", "Job"),
    ("BatchV1Api", "cron_job", "CronJob"),
)

#: Objects every namespace gets by itself: never saved.
_AUTOMATIC = {("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt")}
#: Labels the Job controller sets from the Job's uid: a new Job gets new ones.
_JOB_UID_LABELS = ("controller-uid", "batch.kubernetes.io/controller-uid")
#: Annotations the PV binder writes on a claim: a restored claim is bound afresh.
_BINDER_PREFIXES = ("pv.kubernetes.io/", "volume.kubernetes.io/", "volume.beta.kubernetes.io/")


def path() -> Path:
    """Return where the copy is kept (in the state directory, beside the cluster)."""
    return state_dir() / "backup" / "course-objects.yaml"


def _method(api: k8s.ApiClient, kind: str, verb: str) -> Any:
    """Return the typed client's ``<verb>_namespaced_<kind>`` method."""
    for api_class, snake, known in KINDS:
        if known == kind:
            return getattr(getattr(k8s, api_class)(api), f"{verb}_namespaced_{snake}")
    raise KeyError(kind)


def _list(method: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Call a typed ``list`` method and return the raw JSON (camelCase, as kubectl shows it)."""
    response = method(*args, _preload_content=False, _request_timeout=10, **kwargs)
    listing: dict[str, Any] = json.loads(response.data)
    return listing


def _clean(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Return ``obj`` as something to create again: no identity, status or bindings."""
    meta = obj.get("metadata", {})
    kept = {k: meta[k] for k in ("name", "namespace", "labels", "annotations") if k in meta}
    spec = obj.get("spec")
    if kind == "Service" and isinstance(spec, dict) and spec.get("clusterIP") != "None":
        spec.pop("clusterIP", None)
        spec.pop("clusterIPs", None)
    if kind == "PersistentVolumeClaim" and isinstance(spec, dict):
        spec.pop("volumeName", None)
        kept["annotations"] = {
            k: v
            for k, v in kept.get("annotations", {}).items()
            if not k.startswith(_BINDER_PREFIXES)
        }
    if kind == "Job" and isinstance(spec, dict):
        spec.pop("selector", None)
        spec.pop("manualSelector", None)
        template_meta = spec.get("template", {}).get("metadata", {})
        for labels in (kept.get("labels", {}), template_meta.get("labels", {})):
            for label in _JOB_UID_LABELS:
                labels.pop(label, None)
    cleaned = {"apiVersion": obj["apiVersion"], "kind": kind, "metadata": kept}
    cleaned.update({k: v for k, v in obj.items() if k not in cleaned and k != "status"})
    return cleaned


def _worth_saving(kind: str, obj: dict[str, Any]) -> bool:
    meta = obj.get("metadata", {})
    if meta.get("ownerReferences") or meta.get("deletionTimestamp"):
        return False
    if (kind, meta.get("name")) in _AUTOMATIC:
        return False
    return not (kind == "Secret" and obj.get("type") == "kubernetes.io/service-account-token")


def collect(api: k8s.ApiClient) -> list[dict[str, Any]]:
    """Return the course namespaces and the learner's objects in them, ready to create again.

    One list call per kind across all namespaces, so the cost does not grow
    with the number of course namespaces.
    """
    core = k8s.CoreV1Api(api)
    selector = f"{MANAGED_LABEL}={MANAGED_VALUE}"
    namespaces = {
        ns["metadata"]["name"]: ns
        for ns in _list(core.list_namespace, label_selector=selector)["items"]
        if not ns["metadata"].get("deletionTimestamp")
    }
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in namespaces}
    for api_class, snake, kind in KINDS:
        client = getattr(k8s, api_class)(api)
        listing = _list(getattr(client, f"list_{snake}_for_all_namespaces"))
        for obj in listing["items"]:
            if obj["metadata"].get("namespace") in found and _worth_saving(kind, obj):
                obj.setdefault("apiVersion", listing["apiVersion"])
                found[obj["metadata"]["namespace"]].append(_clean(kind, obj))
    docs: list[dict[str, Any]] = []
    for name in sorted(namespaces):
        labels = namespaces[name]["metadata"].get("labels", {})
        docs.append(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
        )
        docs += found[name]  # already in KINDS order, the order to create them in
    return docs


def save(kubeconfig: str) -> int:
    """Save the learner's objects from the cluster at ``kubeconfig``; return how many.

    The previous copy is replaced only once the new one is complete.
    """
    api = k8s_config.new_client_from_config(config_file=kubeconfig)
    try:
        docs = collect(api)
    finally:
        api.close()
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    header = f"# Saved {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} by course_helpers\n"
    partial = target.with_suffix(".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(header + yaml.safe_dump_all(docs, sort_keys=False))
    os.chmod(partial, 0o600)
    partial.replace(target)
    return sum(1 for d in docs if d["kind"] != "Namespace")


def saved_at() -> str | None:
    """Return when the copy was saved (UTC, ISO 8601), or None when there is none."""
    with contextlib.suppress(OSError, IndexError):
        first = path().read_text().splitlines()[0]
        if first.startswith("# Saved "):
            return first.split()[2]
    return None


def _reason(exc: k8s.ApiException) -> str:
    try:
        message = json.loads(exc.body or "")["message"]
    except (ValueError, TypeError, KeyError):
        message = exc.reason
    return str(message)


@dataclass
class Restored:
    """What :func:`restore` created again, and what it could not."""

    namespaces: list[str] = field(default_factory=list)
    objects: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Return one paragraph a learner can read."""
        if not self.namespaces:
            return "The saved copy held no course namespaces: nothing to restore."
        text = (
            f"Restored {len(self.objects)} object(s) in {', '.join(self.namespaces)}"
            + (f": {', '.join(self.objects)}" if self.objects else "")
            + ". Their pods start again; Jobs run again from the start."
        )
        if self.failed:
            text += " Could not restore: " + "; ".join(self.failed) + "."
        return text


def restore(kubeconfig: str, log: Log) -> Restored | None:
    """Create the saved namespaces and objects on the cluster at ``kubeconfig``.

    Returns None when there is no saved copy. An object that already exists is
    left as it is; one the API server refuses is listed in ``failed``.
    """
    try:
        docs = [d for d in yaml.safe_load_all(path().read_text()) if d]
    except (OSError, yaml.YAMLError) as exc:
        if path().exists():
            log(f"the saved copy of your objects ({path()}) could not be read: {exc}")
        return None
    result = Restored()
    api = k8s_config.new_client_from_config(config_file=kubeconfig)
    try:
        for doc in docs:
            meta = doc["metadata"]
            try:
                if doc["kind"] == "Namespace":
                    label = meta["name"]
                    k8s.CoreV1Api(api).create_namespace(doc, _request_timeout=10)
                else:
                    label = f"{doc['kind']} {meta['namespace']}/{meta['name']}"
                    create = _method(api, doc["kind"], "create")
                    create(meta["namespace"], doc, _request_timeout=10)
            except k8s.ApiException as exc:
                if exc.status != 409:
                    result.failed.append(f"{label} ({_reason(exc)})")
                    continue
            if doc["kind"] == "Namespace":
                result.namespaces.append(label)
            else:
                result.objects.append(label)
    finally:
        api.close()
    return result
