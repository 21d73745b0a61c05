"""Restarting kwok-controller alone, and handing it the simulated nodes at once.

kwok-controller simulates a node only while it holds the node's Lease in
``kube-node-lease``; each process takes a new random identity, and a Lease
held by a process that died stays held until it expires (kwokctl sets 200 s).
A kwok-controller started again on a kept cluster (after a crash, a stop, or
new stages) would therefore leave every pod Pending for up to three minutes.
:func:`hand_over_node_leases` deletes those Leases while no kwok-controller
runs, so the next one creates them and manages the nodes at once, and points
the nodes' kubelet endpoint at kwok-controller's port (a resume may have moved
it), where ``kubectl logs`` reaches it.
"""

from __future__ import annotations

from typing import Any

import urllib3
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException

from ._binaries import Log
from ._embedded_kwokctl import recorded_options
from ._embedded_state import component_pids
from ._embedded_teardown import stop_component

#: The namespace of the kubelets' (here: kwok's) node Leases.
NODE_LEASES = "kube-node-lease"


def stop_kwok_controller() -> bool:
    """Stop kwok-controller alone; return False if it was not running.

    Its pid file stays, so a resume sees it gone and starts it again.
    """
    pid = component_pids().get("kwok-controller")
    return pid is not None and stop_component(pid, graceful=True, timeout=10)


def hand_over_node_leases(kubeconfig: str, log: Log) -> int:
    """Stop kwok-controller and delete the nodes' Leases; return how many were deleted.

    The caller starts kwok-controller again, which then takes every node at
    once. If the Leases cannot be deleted, the log says what that means and the
    cluster still resumes (kwok takes the nodes when the Leases expire).
    """
    stop_kwok_controller()
    try:
        return _delete_node_leases(kubeconfig)
    except (ApiException, OSError, urllib3.exceptions.HTTPError) as exc:
        log(
            f"could not hand the nodes to the new kwok-controller ({exc}): new pods may stay "
            "Pending for up to 200 s, until the old process's node leases expire"
        )
        return 0


def _point_nodes_at_kwok(core: k8s_client.CoreV1Api, nodes: list[Any]) -> None:
    """Give every node kwok-controller's current port as its kubelet endpoint.

    kwok writes the port into a node's status once, when it initialises the
    node; a resume that moved kwok-controller to a free port would leave
    ``kubectl logs`` dialling the old one ("connection refused").
    """
    port = recorded_options().get("kwokControllerPort")
    if not port:
        return
    for node in nodes:
        endpoints = node.status.daemon_endpoints if node.status else None
        kubelet = endpoints.kubelet_endpoint if endpoints else None
        if kubelet is not None and kubelet.port != port:
            body = {"status": {"daemonEndpoints": {"kubeletEndpoint": {"Port": port}}}}
            core.patch_node_status(node.metadata.name, body)


def _delete_node_leases(kubeconfig: str) -> int:
    api = k8s_config.new_client_from_config(config_file=kubeconfig)
    try:
        core = k8s_client.CoreV1Api(api)
        nodes = core.list_node().items
        _point_nodes_at_kwok(core, nodes)
        names = {node.metadata.name for node in nodes}
        leases = k8s_client.CoordinationV1Api(api)
        deleted = 0
        for lease in leases.list_namespaced_lease(NODE_LEASES).items:
            if lease.metadata.name not in names:
                continue
            try:
                leases.delete_namespaced_lease(lease.metadata.name, NODE_LEASES)
                deleted += 1
            except ApiException as exc:
                if exc.status != 404:
                    raise
        return deleted
    finally:
        api.close()
