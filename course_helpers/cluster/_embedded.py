"""The embedded cluster: kwokctl with a real control plane as local processes.

etcd, kube-apiserver, kube-controller-manager and kube-scheduler are the real
programs; kwok simulates the nodes and the pods' containers. Everything listens
on 127.0.0.1 only. State lives under the cache directory, so the cluster
outlives the notebook kernel that started it and the next kernel reuses it.

Its life: ``up`` creates it, reuses it while it runs, and resumes it with its
etcd data after ``stop``, a crash or a reboot (starting only the processes
that are gone); ``down`` deletes it. Only processes whose command line names
the state directory are ever signalled, and a lock serialises these calls
across processes (a notebook and Binder's launch script may race).

The pieces: ``_embedded_state`` (names, paths, status), ``_embedded_kwokctl``
(configuration, runs, logs), ``_embedded_create``, ``_embedded_resume``,
``_embedded_stages`` (a kept cluster gets the course's current kwok stages) and
``_embedded_teardown``; this module is their entry point: ``up``, ``stop``,
``down``, under the lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import BinaryError
from . import _binaries, _dns, _embedded_stages, _nodes, _podlogs
from ._binaries import Log
from ._embedded_create import create
from ._embedded_resume import resume
from ._embedded_state import CLUSTER as CLUSTER
from ._embedded_state import CONTEXT as CONTEXT
from ._embedded_state import ClusterState as ClusterState
from ._embedded_state import Start, save_copy
from ._embedded_state import apiserver_reachable as apiserver_reachable
from ._embedded_state import cluster_dir as cluster_dir
from ._embedded_state import component_status as component_status
from ._embedded_state import cronjob_zone as cronjob_zone
from ._embedded_state import is_running as is_running
from ._embedded_state import kubeconfig_path as kubeconfig_path
from ._embedded_state import workdir as workdir
from ._embedded_teardown import delete, stop_processes
from ._paths import state_dir
from ._ports import requested_port as requested_port


@contextlib.contextmanager
def _exclusive() -> Iterator[None]:
    """Serialise up/down across processes (a notebook and binder/start may race)."""
    with open(state_dir() / "lifecycle.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _launch_binaries(build: bool, log: Log) -> dict[str, Path]:
    """Return the binaries' paths; build missing ones only when ``build`` is True.

    Starting the cluster (``ch.connect()``, ``course-cluster up``, Binder's
    launch) never installs them: a build takes minutes and about 2 GB of
    memory, which would kill a Binder session.

    Raises:
        BinaryError: a binary is missing; the message says how to get it.
    """
    if build:
        return _binaries.install(log)
    try:
        return _binaries.paths()
    except BinaryError as exc:
        missing = _binaries.missing()
        if not missing:  # a KWOK_*_BINARY variable points at the wrong thing
            raise
        if os.environ.get("BINDER_LAUNCH_HOST") or os.environ.get("BINDER_REPO_URL"):
            advice = (
                "This Binder image should have been built with them (binder/postBuild runs "
                "`course-cluster install`), so its build failed or was cut short. Rebuild the "
                "image: launch the repository again from its Binder badge after a new commit, "
                "and check the build log. Building them here would exceed the session's memory."
            )
        else:
            advice = (
                "Run `course-cluster install` in a terminal first (it downloads the official "
                "release binaries, or builds them from pinned Go modules: about 5-10 minutes "
                "the first time on two cores), then try again. Starting the cluster never "
                "downloads or builds them by itself."
            )
        raise BinaryError(
            "The embedded cluster cannot start: its binaries are not built "
            f"({', '.join(missing)}). {advice}"
        ) from exc


def up(
    nodes: int = 3,
    log: Log = print,
    build: bool = False,
    wait_ready: _nodes.NodesWait | None = None,
) -> ClusterState:
    """Start the embedded cluster, resume a stopped or crashed one, or reuse a running one.

    A cluster whose processes died (a killed kernel, a reboot) or that was
    stopped (``course-cluster stop``) is resumed with its data: only the
    processes that are gone are started again. Only when that data cannot be
    used is a fresh cluster created, and then the learner's objects are
    restored from the copy saved at the last ``up`` or ``stop`` (see
    ``_backup``); the log says so plainly.

    Missing binaries are an error, never a build, unless ``build`` is True.
    With ``wait_ready`` (``course-cluster up`` and ``ch.connect`` pass the
    watch-based ``course_helpers.kube._wait.nodes_ready``), the workers are
    Ready when it returns.

    Example:
        >>> from course_helpers.cluster import _embedded
        >>> state = _embedded.up()  # doctest: +SKIP
        >>> state.server  # doctest: +SKIP
        'https://127.0.0.1:32764'

    Raises:
        ClusterError: the cluster could not be started; the message has the logs.
        PortInUseError: a port the cluster needs is taken.
        BinaryError: binaries are missing (and ``build`` is False).

    """
    with _exclusive():
        state = _up(nodes, log, build, wait_ready)
        # kubectl logs: the writer of the container log files (a fresh, reused or
        # resumed cluster alike); it outlives kernels, as the cluster does.
        _podlogs.ensure(state.kubeconfig, CONTEXT)
        return state


def _up(nodes: int, log: Log, build: bool, wait_ready: _nodes.NodesWait | None) -> ClusterState:
    started = time.monotonic()
    state = ClusterState.load()
    if not (state and cluster_dir().exists()):
        # Creating: refuse a taken port before anything else happens.
        requested_port("COURSE_APISERVER_PORT")
        requested_port("COURSE_DNS_PORT")
    bins = _launch_binaries(build, log)
    if state and cluster_dir().exists():
        # A course update may have changed how containers are simulated: kwok-controller
        # restarts on the new stages (the resume below starts it again).
        restarted = _embedded_stages.refresh(log)
        if not restarted and is_running():
            log(f"embedded cluster already running at {state.server}")
            _dns.ensure(state.kubeconfig, CONTEXT, state.dns_port, log)
            save_copy(state, log)
            return state
        return resume(state, Start(nodes, bins, log, started, wait_ready))
    if cluster_dir().exists():
        log("found an embedded cluster that never finished starting: removing it")
        delete(log=lambda _msg: None)
    return create(Start(nodes, bins, log, started, wait_ready))


def stop(log: Log = print) -> bool:
    """Stop the embedded cluster but keep its data; return False if there is none.

    The next ``up`` (``course-cluster up``, ``ch.connect()``) resumes it with
    everything that was in it. A copy of the learner's objects is saved first.
    """
    with _exclusive():
        if not cluster_dir().exists():
            log("no embedded cluster to stop")
            return False
        state = ClusterState.load()
        if state and apiserver_reachable():
            save_copy(state, log)
        stopped = stop_processes(graceful=True)
        log(
            f"embedded cluster stopped ({', '.join(stopped) or 'nothing was running'}); "
            f"its data stays in {cluster_dir()}. `course-cluster up` or ch.connect() resumes it, "
            "`course-cluster down` deletes it."
        )
        return True


def down(log: Log = print) -> bool:
    """Stop the embedded cluster and delete it with all its data. Return False if none was there.

    The log says what was deleted: the course namespaces and how many objects
    each held (when the cluster still answers), the data directory, the saved
    copy of the learner's objects.
    """
    with _exclusive():
        return delete(log)
