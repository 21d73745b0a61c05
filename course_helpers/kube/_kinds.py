"""The one table of the Kubernetes kinds the course touches.

Each :class:`Kind` says where the kind lives (``apiVersion``), which generated
client lists it (``CoreV1Api`` + ``pod`` -> ``list_namespaced_pod``), whether
it is namespaced, and how ``kubectl`` spells it (``daemonset.apps/x``,
``pods``, ``ds``). Manifests, watches, waits and lab checks all look kinds up
here, so they cannot disagree.

Example:
    >>> kind_info("ds").kind, kind_info("ds").api_version
    ('DaemonSet', 'apps/v1')
    >>> kind_info("Job").kubectl_name("pi")
    'job.batch/pi'
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from ..errors import ManifestError


@dataclass(frozen=True)
class Kind:
    """One kind: its API, its typed-client methods and its kubectl names.

    Attributes:
        kind: the ``kind`` field, e.g. ``"DaemonSet"``.
        api_version: e.g. ``"apps/v1"``.
        api: the typed client class in ``kubernetes.client``, e.g. ``"AppsV1Api"``.
        stem: the snake_case stem of its methods, e.g. ``"daemon_set"``
            (``list_namespaced_daemon_set``).
        plural: the resource name kubectl and the URL use, e.g. ``"daemonsets"``.
        short: kubectl's short name, e.g. ``"ds"``, or ``""``.
        namespaced: False for cluster-scoped kinds such as Node.
    """

    kind: str
    api_version: str
    api: str
    stem: str
    plural: str
    short: str = ""
    namespaced: bool = True

    @property
    def group(self) -> str:
        """The API group, ``""`` for the core group."""
        return self.api_version.rpartition("/")[0]

    @property
    def kubectl(self) -> str:
        """How ``kubectl`` names the kind in commands, e.g. ``"daemonset"``."""
        return self.kind.lower()

    def kubectl_name(self, name: str) -> str:
        """Return how kubectl prints one object, e.g. ``job.batch/pi`` or ``pod/web-0``."""
        group = f".{self.group}" if self.group else ""
        return f"{self.kind.lower()}{group}/{name}"


def _k(kind: str, version: str, api: str, stem: str, plural: str, short: str = "") -> Kind:
    return Kind(kind, version, api, stem, plural, short)


#: Every kind the course applies, lists, watches or waits for.
KINDS: dict[str, Kind] = {
    k.kind: k
    for k in (
        _k("Pod", "v1", "CoreV1Api", "pod", "pods", "po"),
        Kind("Node", "v1", "CoreV1Api", "node", "nodes", "no", namespaced=False),
        Kind("Namespace", "v1", "CoreV1Api", "namespace", "namespaces", "ns", namespaced=False),
        _k("Event", "v1", "CoreV1Api", "event", "events", "ev"),
        _k("Service", "v1", "CoreV1Api", "service", "services", "svc"),
        _k("ConfigMap", "v1", "CoreV1Api", "config_map", "configmaps", "cm"),
        _k("ServiceAccount", "v1", "CoreV1Api", "service_account", "serviceaccounts", "sa"),
        _k(
            "PersistentVolumeClaim",
            "v1",
            "CoreV1Api",
            "persistent_volume_claim",
            "persistentvolumeclaims",
            "pvc",
        ),
        Kind(
            "PersistentVolume",
            "v1",
            "CoreV1Api",
            "persistent_volume",
            "persistentvolumes",
            "pv",
            namespaced=False,
        ),
        _k("Job", "batch/v1", "BatchV1Api", "job", "jobs"),
        _k("CronJob", "batch/v1", "BatchV1Api", "cron_job", "cronjobs", "cj"),
        _k("DaemonSet", "apps/v1", "AppsV1Api", "daemon_set", "daemonsets", "ds"),
        _k("StatefulSet", "apps/v1", "AppsV1Api", "stateful_set", "statefulsets", "sts"),
        _k("Deployment", "apps/v1", "AppsV1Api", "deployment", "deployments", "deploy"),
        _k("ReplicaSet", "apps/v1", "AppsV1Api", "replica_set", "replicasets", "rs"),
        _k(
            "ControllerRevision",
            "apps/v1",
            "AppsV1Api",
            "controller_revision",
            "controllerrevisions",
        ),
        _k(
            "EndpointSlice",
            "discovery.k8s.io/v1",
            "DiscoveryV1Api",
            "endpoint_slice",
            "endpointslices",
        ),
        Kind(
            "StorageClass",
            "storage.k8s.io/v1",
            "StorageV1Api",
            "storage_class",
            "storageclasses",
            "sc",
            namespaced=False,
        ),
    )
}

_ALIASES: dict[str, Kind] = {
    alias: k
    for k in KINDS.values()
    for alias in (k.kind.lower(), k.plural, k.short, k.plural.removesuffix("s"))
    if alias
}


def kind_info(name: str) -> Kind:
    """Return the kind called ``name``: its kind, kubectl plural, singular or short name.

    Example:
        >>> kind_info("sts").kind
        'StatefulSet'

    Raises:
        ManifestError: the course does not know that kind (the message lists close ones).
    """
    found = KINDS.get(name) or _ALIASES.get(name.lower())
    if found is None:
        close = difflib.get_close_matches(name, [*KINDS, *_ALIASES], n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ManifestError(
            f"Unknown kind {name!r}.{hint} The course knows: {', '.join(sorted(KINDS))}."
        )
    return found


def api_version_of(kind: str) -> str:
    """Return the ``apiVersion`` of ``kind`` (e.g. ``"batch/v1"`` for ``"Job"``)."""
    return kind_info(kind).api_version
