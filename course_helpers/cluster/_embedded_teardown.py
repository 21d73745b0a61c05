"""Stopping the embedded cluster's processes, and deleting the cluster with all its data.

Only processes whose command line names the cluster's directory are
signalled (``_process``); etcd is stopped last, so it writes its data out.
:func:`delete` says what it deleted: the course namespaces and how many
objects each held, the data directory, the saved copy.
"""

from __future__ import annotations

import contextlib
import shutil
import time

from kubernetes import config as k8s_config

from . import _backup, _dns, _podlogs
from ._binaries import Log
from ._embedded_state import (
    START_ORDER,
    ClusterState,
    apiserver_reachable,
    cluster_dir,
    component_pids,
    kubeconfig_path,
    state_file,
    unusable_dir,
)
from ._process import is_ours, kill_if_ours


def stop_processes(graceful: bool, timeout: float = 15) -> list[str]:
    """Stop CoreDNS, the pod log writer and every control-plane process of ours.

    Returns the names of the control-plane processes stopped.

    Graceful: SIGTERM in the reverse of the start order (etcd last, so it
    writes its data out), SIGKILL for whatever is still there after
    ``timeout`` seconds. Only pids whose command line names our state
    directory are signalled; their pid files are removed.
    """
    _dns.stop()
    _podlogs.stop()
    pids = component_pids()
    order = sorted(pids, key=lambda n: START_ORDER.index(n) if n in START_ORDER else 99)
    stopped = []
    for name in reversed(order):
        if stop_component(pids[name], graceful, timeout):
            stopped.append(name)
        (cluster_dir() / "pids" / f"{name}.pid").unlink(missing_ok=True)
    return stopped


def stop_component(pid: int, graceful: bool, timeout: float = 15) -> bool:
    """Stop one of the cluster's processes if it is ours; return whether it was running.

    Graceful: SIGTERM, then SIGKILL after ``timeout`` seconds; else SIGKILL.
    """
    if not kill_if_ours(pid, cluster_dir(), signal=15 if graceful else 9):
        return False
    deadline = time.monotonic() + (timeout if graceful else 5)
    while is_ours(pid, cluster_dir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    kill_if_ours(pid, cluster_dir(), signal=9)
    return True


def inventory() -> str:
    """Describe the course namespaces of the running cluster, for ``down``'s message."""
    state = ClusterState.load()
    if not (state and apiserver_reachable()):
        return "it was not running, so its contents could not be listed"
    api = k8s_config.new_client_from_config(config_file=state.kubeconfig)
    try:
        docs = _backup.collect(api)
    except Exception as exc:
        return f"its contents could not be listed ({exc})"
    finally:
        api.close()
    counts: dict[str, int] = {}
    for doc in docs:
        if doc["kind"] == "Namespace":
            counts[doc["metadata"]["name"]] = 0
        else:
            counts[doc["metadata"]["namespace"]] += 1
    if not counts:
        return "it held no course namespaces"
    listed = ", ".join(f"{ns} ({n} object{'s' if n != 1 else ''})" for ns, n in counts.items())
    return f"with the course namespaces in it: {listed}"


def delete(log: Log) -> bool:
    """Stop the cluster and delete it with its data; return False if there was none.

    Also deletes the saved copy and the data of a cluster that could not be
    resumed. The caller holds the lifecycle lock.
    """
    leftovers = [p for p in (_backup.path().parent, unusable_dir()) if p.exists()]
    if not cluster_dir().exists():
        _dns.stop()
        _podlogs.stop(forget=True)
        state_file().unlink(missing_ok=True)
        for path in leftovers:
            shutil.rmtree(path, ignore_errors=True)
        log("no embedded cluster to delete")
        return False
    contents = inventory()
    stop_processes(graceful=False)
    _podlogs.stop(forget=True)
    shutil.rmtree(cluster_dir(), ignore_errors=True)
    state_file().unlink(missing_ok=True)
    with contextlib.suppress(FileNotFoundError):
        kubeconfig_path().unlink()
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)
    log(
        f"embedded cluster stopped and deleted, {contents}; also deleted: its etcd data, logs "
        f"and certificates ({cluster_dir()}), its kubeconfig"
        + "".join(f", {p}" for p in leftovers)
        + ". The built binaries stay cached. `course-cluster up` starts a fresh, empty cluster."
    )
    return True
