"""The embedded cluster from Python: the same as the ``course-cluster`` command.

Example:
    >>> from course_helpers import cluster
    >>> cluster.install()          # doctest: +SKIP
    >>> state = cluster.up()       # doctest: +SKIP
    >>> cluster.is_running()       # doctest: +SKIP
    True
    >>> cluster.down()             # doctest: +SKIP
    True
"""

from ._binaries import install
from ._embedded import (
    ClusterState,
    component_status,
    down,
    is_running,
    kubeconfig_path,
    up,
)

__all__ = [
    "ClusterState",
    "component_status",
    "down",
    "install",
    "is_running",
    "kubeconfig_path",
    "up",
]
