"""Simulated worker nodes of the embedded cluster: create, list, remove.

kwok manages every Node object in the embedded cluster, so a node "joins" when
its Node object is created and kwok marks it Ready, and "leaves" when the Node
object is deleted. Real controllers react to both, exactly as on real hardware.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from importlib import resources

import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from ..errors import ClusterError
from ._binaries import Log

ZONES = ("zone-a", "zone-b", "zone-c")
DISK_LABEL = "course.dev/disk"
ZONE_LABEL = "topology.kubernetes.io/zone"
SIMULATED_ANNOTATION = "kwok.x-k8s.io/node"
_NAME = re.compile(r"^worker-(\d+)$")
#: What kwok's node stage gives a node that brings no status of its own (stages.yaml).
DEFAULT_ALLOCATABLE = {"cpu": "32", "memory": "256Gi", "pods": "110"}


def default_labels(index: int) -> dict[str, str]:
    """Return the labels of worker ``index``: zones rotate, every third node has an HDD."""
    return {
        ZONE_LABEL: ZONES[(index - 1) % len(ZONES)],
        DISK_LABEL: "hdd" if index % 3 == 0 else "ssd",
    }


def node_body(
    name: str,
    index: int,
    labels: Mapping[str, str] | None = None,
    taints: list[dict[str, str]] | None = None,
    allocatable: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """Return the Node object for simulated worker ``name``.

    Each worker gets a /24 of its own, from 10.244.0.0/16 up (worker 300 gets
    10.245.44.0/24), so a cluster of a few thousand nodes has no overlap.
    ``allocatable`` (e.g. ``{"cpu": "2", "memory": "4Gi"}``) makes a smaller
    machine than kwok's default of 32 CPUs, 256Gi and 110 pods: a Node's status
    may be set when it is created, and kwok's heartbeat keeps it.

    Example:
        >>> node_body("worker-4", 4)["spec"]["podCIDR"]
        '10.244.4.0/24'
        >>> node_body("worker-300", 300)["spec"]["podCIDR"]
        '10.245.44.0/24'

    """
    all_labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node.kubernetes.io/instance-type": "simulated",
        **default_labels(index),
        **(labels or {}),
    }
    if not 0 <= index < 12 * 256:
        raise ClusterError(f"Worker index {index} is out of range: at most 3071 workers.")
    cidr = f"10.{244 + index // 256}.{index % 256}.0/24"
    body: dict[str, object] = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": all_labels,
            "annotations": {SIMULATED_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {"podCIDR": cidr, "podCIDRs": [cidr], "taints": list(taints or [])},
    }
    if allocatable:
        offered = {**DEFAULT_ALLOCATABLE, **allocatable}
        body["status"] = {"allocatable": dict(offered), "capacity": dict(offered)}
    return body


def _core(api: k8s.ApiClient) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(api)


def worker_names(api: k8s.ApiClient) -> list[str]:
    """Return the names of the simulated workers, in index order."""
    nodes = _core(api).list_node(_request_timeout=10).items
    names = [n.metadata.name for n in nodes if _NAME.match(n.metadata.name)]
    return sorted(names, key=lambda n: int(_NAME.match(n).group(1)))  # type: ignore[union-attr]


def _next_index(api: k8s.ApiClient) -> int:
    used = [int(_NAME.match(n).group(1)) for n in worker_names(api)]  # type: ignore[union-attr]
    return max(used, default=0) + 1


#: Waits until the named nodes are Ready on the client's cluster. The watch-based
#: implementation lives a layer up (``course_helpers.kube._wait.nodes_ready``), so
#: callers hand it down: ``course-cluster up`` and ``ch.connect`` do.
NodesWait = Callable[[k8s.ApiClient, list[str]], None]


def add_node(
    api: k8s.ApiClient,
    name: str | None = None,
    labels: Mapping[str, str] | None = None,
    taints: list[dict[str, str]] | None = None,
    wait_ready: NodesWait | None = None,
    allocatable: Mapping[str, str] | None = None,
) -> str:
    """Add a simulated worker and return its name (``worker-N`` unless given).

    With ``wait_ready``, return once it reports Ready; ``allocatable`` as for
    :func:`node_body`.

    Raises:
        ClusterError: a node of that name exists already.

    """
    index = _next_index(api)
    name = name or f"worker-{index}"
    try:
        body = node_body(name, index, labels, taints, allocatable)
        _core(api).create_node(body, _request_timeout=10)
    except k8s.ApiException as exc:
        if exc.status == 409:
            raise ClusterError(f"A node called {name!r} already exists.") from None
        raise
    if wait_ready is not None:
        wait_ready(api, [name])
    return name


def remove_node(api: k8s.ApiClient, name: str) -> None:
    """Delete a simulated worker; its pods are then garbage-collected by the control plane.

    Raises:
        ClusterError: there is no such node, or it is not a simulated one.

    """
    try:
        node = _core(api).read_node(name, _request_timeout=10)
    except k8s.ApiException as exc:
        if exc.status == 404:
            raise ClusterError(f"There is no node called {name!r}.") from None
        raise
    annotations = node.metadata.annotations or {}
    if annotations.get(SIMULATED_ANNOTATION) != "fake":
        raise ClusterError(
            f"Node {name!r} is a real machine, not a simulated one: the course only removes "
            "nodes it added to the embedded cluster."
        )
    _core(api).delete_node(name, _request_timeout=10)


def bootstrap(kubeconfig: str, count: int, log: Log, wait_ready: NodesWait | None = None) -> None:
    """Create the default StorageClass and ``count`` workers on a fresh embedded cluster.

    With ``wait_ready``, return once every worker reports Ready.
    """
    api = k8s_config.new_client_from_config(config_file=kubeconfig)
    try:
        storage_class = yaml.safe_load(
            (resources.files("course_helpers.cluster") / "kwok" / "storageclass.yaml").read_text()
        )
        try:
            k8s.StorageV1Api(api).create_storage_class(storage_class, _request_timeout=10)
        except k8s.ApiException as exc:
            if exc.status != 409:
                raise
        existing = set(worker_names(api))
        names = []
        for index in range(1, count + 1):
            name = f"worker-{index}"
            if name not in existing:
                _core(api).create_node(node_body(name, index), _request_timeout=10)
            names.append(name)
        if wait_ready is None:
            log(f"nodes created: {', '.join(names)}")
        else:
            wait_ready(api, names)
            log(f"nodes Ready: {', '.join(names)}")
    finally:
        api.close()


def scale_workers(
    api: k8s.ApiClient, count: int, wait_ready: NodesWait | None = None
) -> tuple[list[str], list[str]]:
    """Add or remove simulated ``worker-N`` nodes until there are ``count``: (added, removed).

    New workers take the next free indices; the highest-numbered ones go first.
    With ``wait_ready``, return once every added worker reports Ready.

    Raises:
        ClusterError: ``count`` is below 1 or above 3000.

    """
    if not 1 <= count <= 3000:
        raise ClusterError(f"Cannot scale to {count} workers: choose between 1 and 3000.")
    names = worker_names(api)
    added: list[str] = []
    removed: list[str] = []
    index = _next_index(api)
    core = _core(api)
    for _ in range(count - len(names)):
        name = f"worker-{index}"
        core.create_node(node_body(name, index), _request_timeout=10)
        added.append(name)
        index += 1
    for name in reversed(names[count:]):
        remove_node(api, name)
        removed.append(name)
    if wait_ready is not None and added:
        wait_ready(api, added)
    return added, removed
