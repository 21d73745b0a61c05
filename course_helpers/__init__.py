"""Helpers for the k8s-workloads-course notebooks.

Notebooks use one visible prefix, so the reader can tell what is ours and
what is Kubernetes'::

    import course_helpers as ch

    info = ch.connect()                 # your local cluster, or the embedded one
    ns = ch.namespace("daemonsets")     # a labelled namespace for this notebook
    ch.show("daemonset-log-collector")  # the YAML being taught
    ch.apply("daemonset-log-collector", ns)
    ch.PodsPerNode(namespace=ns)        # watch it happen
"""

from ._cluster_ops import add_node, nodes, pods, pods_per_node, remove_node, resolve
from ._connect import ClusterInfo, connect
from ._manifests import apply, delete, get, manifest, patch, show
from ._manifests import available as available_manifests
from ._namespaces import cleanup, namespace, reset
from ._refusal import show_refusal
from ._wait import WaitTimeout, job_finished, pods_ready, until
from ._watch import stop_watchers
from .widgets import (
    CronJobTimeline,
    EventFeed,
    JobProgress,
    PodsPerNode,
    Recorder,
    Replay,
    StatefulSetOrder,
)
from .errors import (
    BinaryError,
    BuildError,
    ClusterError,
    ContextRefusedError,
    CourseError,
    ManifestError,
    PortInUseError,
)

__all__ = [
    "CronJobTimeline",
    "EventFeed",
    "JobProgress",
    "PodsPerNode",
    "Recorder",
    "Replay",
    "StatefulSetOrder",
    "BinaryError",
    "BuildError",
    "ClusterError",
    "ClusterInfo",
    "ContextRefusedError",
    "CourseError",
    "ManifestError",
    "PortInUseError",
    "WaitTimeout",
    "add_node",
    "apply",
    "available_manifests",
    "cleanup",
    "connect",
    "delete",
    "get",
    "job_finished",
    "manifest",
    "namespace",
    "nodes",
    "patch",
    "pods",
    "pods_per_node",
    "pods_ready",
    "remove_node",
    "reset",
    "resolve",
    "show",
    "show_refusal",
    "stop_watchers",
    "until",
]
