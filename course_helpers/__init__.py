"""Helpers for the k8s-workloads-course notebooks.

Notebooks use one visible prefix, so the reader can tell what is ours and
what is Kubernetes'::

    import course_helpers as ch

    info = ch.connect()                 # your local cluster, or the embedded one
    ns = ch.namespace("daemonsets")     # a labelled namespace for this notebook
    ch.show("daemonset-log-collector")  # the YAML being taught
    ch.apply("daemonset-log-collector", ns)
    ch.PodsPerNode(namespace=ns)        # watch it happen
    await ch.rollout_status("DaemonSet", "log-collector", ns)  # the view keeps drawing

Waits a notebook awaits (the live views keep drawing meanwhile), each printing
the kubectl command it stands for: ``ch.rollout_status``, ``ch.wait_for``,
``ch.scale``, ``ch.replace_pod``, ``ch.cronjob_runs``.
Their blocking twins, for scripts and tests: ``ch.blocking``. Reading objects:
``ch.get``, ``ch.list_objects``, ``ch.condition``, ``ch.is_ready``,
``ch.job_state``, ``ch.pods_table``. The kubectl echo: ``ch.echo(False)``.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from . import blocking as blocking  # ch.blocking.wait_for(...): waits for scripts and tests
from . import lab as lab  # Lab 06: ch.lab.check(1, ns), ch.lab.hint(1), ...

# Public name -> (private module, attribute). Imported on first use, so the
# ``course-cluster`` command starts without loading pandas, plotly or widgets.
# Written once: ``__all__`` is derived from it, and tests/unit/test_public_api.py
# checks that the TYPE_CHECKING imports below name the same things.
_EXPORTS: dict[str, tuple[str, str]] = {
    **{
        n: (".kube._cluster_ops", n)
        for n in (
            "add_node",
            "endpoints",
            "jobs",
            "nodes",
            "pods",
            "pods_per_node",
            "pods_table",
            "remove_node",
            "resolve",
            "scale_nodes",
        )
    },
    "echo": (".kube._echo", "echo"),
    "explain": (".kube._diagnose", "explain"),
    **{n: (".kube._kubectl_wait", n) for n in ("Outcome", "rollout_status", "wait_for")},
    **{n: (".kube._scale", n) for n in ("Scaled", "scale")},
    "node_requests": (".kube._requests", "node_requests"),
    "replace_pod": (".kube._replace", "replace_pod"),
    "job_pods": (".kube._job_pods", "job_pods"),
    **{n: (".kube._revisions", n) for n in ("revision_history", "revisions")},
    **{n: (".kube._cron_runs", n) for n in ("Runs", "cronjob_runs")},
    **{n: (".kube._cron_times", n) for n in ("CronTimes", "cronjob_ticks")},
    **{n: (".kube._session", n) for n in ("ClusterInfo", "connect")},
    **{
        n: (".kube._manifests", n)
        for n in (
            "apply",
            "available_manifests",
            "delete",
            "get",
            "list_objects",
            "manifest",
            "patch",
            "show",
        )
    },
    **{n: (".kube._namespaces", n) for n in ("cleanup", "namespace", "reset")},
    **{n: (".kube._objects", n) for n in ("condition", "is_ready", "job_state")},
    "show_refusal": (".kube._refusal", "show_refusal"),
    **{
        n: (".kube._wait", n)
        for n in ("WaitFailed", "WaitTimeout", "job_finished", "pods_ready", "until")
    },
    "stop_watchers": (".kube._watch", "stop_watchers"),
    **{
        n: (".widgets", n)
        for n in (
            "CronJobTimeline",
            "EventFeed",
            "JobProgress",
            "NodeRequests",
            "PodsPerNode",
            "Recorder",
            "Replay",
            "ServiceEndpoints",
            "StatefulSetOrder",
            "StatefulSetRevisions",
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
    # "x as x" marks an explicit re-export for mypy and ruff; __all__ is built below.
    from .errors import BinaryError as BinaryError
    from .errors import BuildError as BuildError
    from .errors import ClusterError as ClusterError
    from .errors import ContextRefusedError as ContextRefusedError
    from .errors import CourseError as CourseError
    from .errors import ManifestError as ManifestError
    from .errors import PortInUseError as PortInUseError
    from .kube._cluster_ops import add_node as add_node
    from .kube._cluster_ops import endpoints as endpoints
    from .kube._cluster_ops import jobs as jobs
    from .kube._cluster_ops import nodes as nodes
    from .kube._cluster_ops import pods as pods
    from .kube._cluster_ops import pods_per_node as pods_per_node
    from .kube._cluster_ops import pods_table as pods_table
    from .kube._cluster_ops import remove_node as remove_node
    from .kube._cluster_ops import resolve as resolve
    from .kube._cluster_ops import scale_nodes as scale_nodes
    from .kube._cron_runs import Runs as Runs
    from .kube._cron_runs import cronjob_runs as cronjob_runs
    from .kube._cron_times import CronTimes as CronTimes
    from .kube._cron_times import cronjob_ticks as cronjob_ticks
    from .kube._diagnose import explain as explain
    from .kube._echo import echo as echo
    from .kube._job_pods import job_pods as job_pods
    from .kube._kubectl_wait import Outcome as Outcome
    from .kube._kubectl_wait import rollout_status as rollout_status
    from .kube._kubectl_wait import wait_for as wait_for
    from .kube._manifests import apply as apply
    from .kube._manifests import available_manifests as available_manifests
    from .kube._manifests import delete as delete
    from .kube._manifests import get as get
    from .kube._manifests import list_objects as list_objects
    from .kube._manifests import manifest as manifest
    from .kube._manifests import patch as patch
    from .kube._manifests import show as show
    from .kube._namespaces import cleanup as cleanup
    from .kube._namespaces import namespace as namespace
    from .kube._namespaces import reset as reset
    from .kube._objects import condition as condition
    from .kube._objects import is_ready as is_ready
    from .kube._objects import job_state as job_state
    from .kube._refusal import show_refusal as show_refusal
    from .kube._replace import replace_pod as replace_pod
    from .kube._requests import node_requests as node_requests
    from .kube._revisions import revision_history as revision_history
    from .kube._revisions import revisions as revisions
    from .kube._scale import Scaled as Scaled
    from .kube._scale import scale as scale
    from .kube._session import ClusterInfo as ClusterInfo
    from .kube._session import connect as connect
    from .kube._wait import WaitFailed as WaitFailed
    from .kube._wait import WaitTimeout as WaitTimeout
    from .kube._wait import job_finished as job_finished
    from .kube._wait import pods_ready as pods_ready
    from .kube._wait import until as until
    from .kube._watch import stop_watchers as stop_watchers
    from .widgets import CronJobTimeline as CronJobTimeline
    from .widgets import EventFeed as EventFeed
    from .widgets import JobProgress as JobProgress
    from .widgets import NodeRequests as NodeRequests
    from .widgets import PodsPerNode as PodsPerNode
    from .widgets import Recorder as Recorder
    from .widgets import Replay as Replay
    from .widgets import ServiceEndpoints as ServiceEndpoints
    from .widgets import StatefulSetOrder as StatefulSetOrder
    from .widgets import StatefulSetRevisions as StatefulSetRevisions


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


#: The submodules imported above, public as ``ch.blocking`` and ``ch.lab``.
_SUBMODULES = ("blocking", "lab")

__all__ = sorted([*_EXPORTS, *_SUBMODULES])
