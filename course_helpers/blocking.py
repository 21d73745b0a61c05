"""Blocking forms of the waits, for scripts and tests (kr8s's split, the other way round).

In a notebook, ``await ch.rollout_status(...)`` and ``await ch.wait_for(...)``
wait while the live views keep drawing. A script, a test or a lab check has
no event loop to keep running, so it blocks instead, with the same arguments
and the same answers::

    import course_helpers as ch

    ch.blocking.rollout_status("StatefulSet", "web", ns)
    ch.blocking.wait_for("Job", "pi", ns, "condition=complete", timeout=60)

``ch.until``, ``ch.pods_ready`` and ``ch.job_finished`` block too; they are
here as well so a script finds every blocking wait in one place. All of them
are built on the same watcher as the awaitable ones.
"""

from .kube._cron_runs import cronjob_runs_blocking as cronjob_runs
from .kube._kubectl_wait import Outcome
from .kube._kubectl_wait import rollout_status_blocking as rollout_status
from .kube._kubectl_wait import wait_for_blocking as wait_for
from .kube._replace import replace_pod_blocking as replace_pod
from .kube._scale import scale_blocking as scale
from .kube._wait import job_finished, pods_ready, until

__all__ = [
    "Outcome",
    "cronjob_runs",
    "job_finished",
    "pods_ready",
    "replace_pod",
    "rollout_status",
    "scale",
    "until",
    "wait_for",
]
