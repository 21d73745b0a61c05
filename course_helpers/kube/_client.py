"""The Kubernetes API client of the current connection.

``connect()`` sets it; everything else asks for it here, so widgets, watches
and checks all talk to the same cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubernetes import client as k8s

if TYPE_CHECKING:
    from ._connect import ClusterInfo

_current: k8s.ApiClient | None = None
_info: ClusterInfo | None = None


def set_api_client(api: k8s.ApiClient, info: ClusterInfo | None = None) -> None:
    """Make ``api`` the client every helper uses from now on."""
    global _current, _info
    _current, _info = api, info


def api_client() -> k8s.ApiClient:
    """Return the current connection's API client, connecting first if needed.

    Example:
        >>> from course_helpers._client import api_client
        >>> core = kubernetes.client.CoreV1Api(api_client())  # doctest: +SKIP
    """
    if _current is None:
        from ._connect import connect

        connect()
    assert _current is not None
    return _current


def cluster_info() -> ClusterInfo:
    """Return what ``connect()`` found out about the current cluster, connecting if needed."""
    if _info is None:
        from ._connect import connect

        return connect()
    return _info
