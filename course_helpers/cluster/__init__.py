"""The embedded cluster from Python: the same as the ``course-cluster`` command.

Example:
    >>> from course_helpers import cluster
    >>> cluster.install()          # doctest: +SKIP
    >>> state = cluster.up()       # doctest: +SKIP
    >>> cluster.is_running()       # doctest: +SKIP
    True
    >>> cluster.stop()             # doctest: +SKIP
    True
    >>> state = cluster.up()       # resumes it, with everything in it  # doctest: +SKIP
    >>> cluster.down()             # deletes it  # doctest: +SKIP
    True
"""

from ._binaries import install
from ._embedded import (
    ClusterState,
    component_status,
    cronjob_zone,
    down,
    is_running,
    kubeconfig_path,
    stop,
    up,
)

__all__ = [
    "ClusterState",
    "component_status",
    "cronjob_zone",
    "down",
    "install",
    "is_running",
    "kubeconfig_path",
    "stop",
    "up",
]
