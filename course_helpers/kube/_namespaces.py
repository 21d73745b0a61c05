"""Namespaces the course owns: created and labelled here, and the only ones it touches.

Every helper that creates, changes or deletes an object first checks that the
object's namespace carries :data:`MANAGED_LABEL`, so a demo can never change
anything the learner or someone else put on the cluster.
"""

from __future__ import annotations

import re

from kubernetes import client as k8s

# The label lives with the saved copy of course namespaces (cluster/_backup), which needs it too.
from ..cluster._backup import MANAGED_LABEL as MANAGED_LABEL
from ..cluster._backup import MANAGED_VALUE as MANAGED_VALUE
from ..errors import ClusterError
from ._echo import say
from ._session import api_client
from ._waiting import WaitTimeout, namespace_gone, service_account_exists
from ._watch import stop_watchers

TOPIC_LABEL = "course.dev/topic"
PREFIX = "course-"
_TOPIC = re.compile(r"^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$")


def namespace_name(topic: str) -> str:
    """Return the namespace name for ``topic``.

    Example:
        >>> namespace_name("daemonsets")
        'course-daemonsets'
    """
    if not _TOPIC.match(topic):
        raise ValueError(
            f"{topic!r} is not a valid topic: use lower-case letters, digits and '-', "
            "starting and ending with a letter or digit."
        )
    return PREFIX + topic


def _core() -> k8s.CoreV1Api:
    return k8s.CoreV1Api(api_client())


def is_managed(name: str) -> bool:
    """Return True when namespace ``name`` exists and carries the course's label."""
    try:
        ns = _core().read_namespace(name, _request_timeout=10)
    except k8s.ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return bool((ns.metadata.labels or {}).get(MANAGED_LABEL) == MANAGED_VALUE)


def require_managed(name: str) -> None:
    """Raise unless ``name`` is a namespace the course created.

    Raises:
        ClusterError: the namespace is missing or was not created by the course.
    """
    if not is_managed(name):
        raise ClusterError(
            f"Namespace {name!r} was not created by the course helpers (it lacks the label "
            f"{MANAGED_LABEL}={MANAGED_VALUE}), so they will not create, change or delete "
            "anything in it. Use `ch.namespace('<topic>')` to get a course namespace."
        )


def _wait_gone(name: str, timeout: float) -> None:
    try:
        namespace_gone(api_client(), name, timeout)
    except WaitTimeout as exc:
        raise ClusterError(
            f"Namespace {name!r} was still being deleted after {timeout:.0f}s ({exc})"
        ) from None


def namespace(topic: str) -> str:
    """Create (or reuse) the labelled namespace for ``topic`` and return its name.

    Running it twice is harmless. A namespace still being deleted from an
    earlier reset is waited for first. It returns once the namespace's
    ``default`` ServiceAccount exists, so a Pod can be created in it at once.

    Example:
        >>> ns = ch.namespace("daemonsets")  # doctest: +SKIP
        kubectl create namespace course-daemonsets
        >>> ns  # doctest: +SKIP
        'course-daemonsets'

    Raises:
        ClusterError: a namespace of that name exists but is not the course's.
    """
    name = namespace_name(topic)
    core = _core()
    try:
        existing = core.read_namespace(name, _request_timeout=10)
    except k8s.ApiException as exc:
        if exc.status != 404:
            raise
        existing = None
    if existing is not None:
        if (existing.metadata.labels or {}).get(MANAGED_LABEL) != MANAGED_VALUE:
            require_managed(name)
        if existing.status and existing.status.phase == "Terminating":
            _wait_gone(name, timeout=120)
        else:
            return name
    body = {
        "metadata": {
            "name": name,
            "labels": {MANAGED_LABEL: MANAGED_VALUE, TOPIC_LABEL: topic},
        }
    }
    core.create_namespace(body, _request_timeout=10)
    say(f"kubectl create namespace {name}")
    try:
        service_account_exists(api_client(), name)
    except WaitTimeout as exc:
        raise ClusterError(
            f"Namespace {name!r} was created, but its default ServiceAccount did not appear "
            f"({exc}): is kube-controller-manager running? `course-cluster status` says."
        ) from None
    return name


def managed_namespaces() -> list[str]:
    """Return the names of every namespace the course created on this cluster."""
    items = (
        _core()
        .list_namespace(label_selector=f"{MANAGED_LABEL}={MANAGED_VALUE}", _request_timeout=10)
        .items
    )
    return sorted(ns.metadata.name for ns in items)


def delete_namespace(name: str, wait: bool = True, timeout: float = 120) -> bool:
    """Delete course namespace ``name`` and everything in it; return False if it was absent.

    Raises:
        ClusterError: the namespace is not the course's, or deletion did not finish.
    """
    core = _core()
    try:
        ns = core.read_namespace(name, _request_timeout=10)
    except k8s.ApiException as exc:
        if exc.status == 404:
            stop_watchers(name)
            return False
        raise
    if (ns.metadata.labels or {}).get(MANAGED_LABEL) != MANAGED_VALUE:
        require_managed(name)
    stop_watchers(name)
    core.delete_namespace(name, _request_timeout=10)
    say(f"kubectl delete namespace {name}")
    if wait:
        _wait_gone(name, timeout)
    return True


def reset(topic: str, timeout: float = 120) -> str:
    """Delete the topic's namespace with everything in it, then create it again, empty.

    Example:
        >>> ns = ch.reset("statefulsets")  # doctest: +SKIP
    """
    delete_namespace(namespace_name(topic), wait=True, timeout=timeout)
    return namespace(topic)


def cleanup(topic: str | None = None, wait: bool = True) -> list[str]:
    """Delete the topic's namespace, or every course namespace when ``topic`` is None.

    Only namespaces carrying the course's label are touched. Returns the names deleted.
    """
    names = [namespace_name(topic)] if topic else managed_namespaces()
    return [name for name in names if delete_namespace(name, wait=wait)]
