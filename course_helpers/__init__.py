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

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from . import lab as lab  # Lab 06: ch.lab.check(1, ns), ch.lab.hint(1), ...

# Public name -> (private module, attribute). Imported on first use, so the
# ``course-cluster`` command starts without loading pandas, plotly or widgets.
_EXPORTS: dict[str, tuple[str, str]] = {
    **{
        n: (".kube._cluster_ops", n)
        for n in ("add_node", "nodes", "pods", "pods_per_node", "remove_node", "resolve")
    },
    **{n: (".kube._session", n) for n in ("ClusterInfo", "connect")},
    **{n: (".kube._manifests", n) for n in ("apply", "delete", "get", "manifest", "patch", "show")},
    "available_manifests": (".kube._manifests", "available"),
    "explain": (".kube._diagnose", "explain"),
    **{n: (".kube._namespaces", n) for n in ("cleanup", "namespace", "reset")},
    "show_refusal": (".kube._refusal", "show_refusal"),
    **{n: (".kube._wait", n) for n in ("WaitTimeout", "job_finished", "pods_ready", "until")},
    "stop_watchers": (".kube._watch", "stop_watchers"),
    **{
        n: (".widgets", n)
        for n in (
            "CronJobTimeline",
            "EventFeed",
            "JobProgress",
            "PodsPerNode",
            "Recorder",
            "Replay",
            "StatefulSetOrder",
        )
    },
    **{
        n: (".errors", n)
        for n in (
            "BinaryError",
            "BuildError",
            "ClusterError",
            "ContextRefusedError",
            "CourseError",
            "ManifestError",
            "PortInUseError",
        )
    },
}

if TYPE_CHECKING:
    from .errors import (
        BinaryError,
        BuildError,
        ClusterError,
        ContextRefusedError,
        CourseError,
        ManifestError,
        PortInUseError,
    )
    from .kube._cluster_ops import add_node, nodes, pods, pods_per_node, remove_node, resolve
    from .kube._diagnose import explain
    from .kube._manifests import apply, delete, get, manifest, patch, show
    from .kube._manifests import available as available_manifests
    from .kube._namespaces import cleanup, namespace, reset
    from .kube._refusal import show_refusal
    from .kube._session import ClusterInfo, connect
    from .kube._wait import WaitTimeout, job_finished, pods_ready, until
    from .kube._watch import stop_watchers
    from .widgets import (
        CronJobTimeline,
        EventFeed,
        JobProgress,
        PodsPerNode,
        Recorder,
        Replay,
        StatefulSetOrder,
    )


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'course_helpers' has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    value = getattr(importlib.import_module(module, __name__), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def _register_kubectl_magic() -> None:
    """Register ``%kubectl``/``%%kubectl`` under IPython; without it (the CLI), nothing loads."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        from .kube._magic import register

        register(shell)


_register_kubectl_magic()


__all__ = [
    "BinaryError",
    "BuildError",
    "ClusterError",
    "ClusterInfo",
    "ContextRefusedError",
    "CourseError",
    "CronJobTimeline",
    "EventFeed",
    "JobProgress",
    "ManifestError",
    "PodsPerNode",
    "PortInUseError",
    "Recorder",
    "Replay",
    "StatefulSetOrder",
    "WaitTimeout",
    "add_node",
    "apply",
    "available_manifests",
    "cleanup",
    "connect",
    "delete",
    "explain",
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
