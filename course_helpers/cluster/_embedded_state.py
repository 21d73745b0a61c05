"""The embedded cluster's names, paths and recorded state, and whether it runs.

Everything the other ``_embedded_*`` modules share: where kwokctl keeps the
cluster (:func:`cluster_dir`), the kubeconfig, what ``up`` recorded
(:class:`ClusterState`), the components' pids and whether each is alive, and
whether the API server answers. It starts and stops nothing.

Example:
    >>> CONTEXT
    'kwok-course'
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import BinaryError, ClusterError
from . import _backup, _binaries, _dns, _nodes
from ._binaries import Log
from ._paths import state_dir
from ._process import is_ours

CLUSTER = "course"

CONTEXT = f"kwok-{CLUSTER}"

SERVICE_RANGE = "10.96.0.0/16"


def workdir() -> Path:
    """Return kwokctl's work directory (``KWOK_WORKDIR``) for the course."""
    return state_dir() / "kwok"


def cluster_dir() -> Path:
    """Return the directory kwokctl keeps this cluster's pids, logs and PKI in."""
    return workdir() / "clusters" / CLUSTER


def kubeconfig_path() -> Path:
    """Return the stable kubeconfig path of the embedded cluster (the one kwokctl writes).

    kubectl in notebooks and terminals uses a one-context copy (``kube/_kubectl.py``).
    """
    explicit = os.environ.get("COURSE_KUBECONFIG")
    return Path(explicit) if explicit else state_dir() / "kubeconfig"


def state_file() -> Path:
    """Return the file ``up`` records the cluster's :class:`ClusterState` in."""
    return state_dir() / "cluster.json"


@dataclass(frozen=True)
class Start:
    """What one ``up`` call asks for, handed on to create, resume or replace the cluster."""

    nodes: int
    bins: dict[str, Path]
    log: Log
    started: float
    wait_ready: _nodes.NodesWait | None


@dataclass(frozen=True)
class ClusterState:
    """What ``up`` recorded about the running embedded cluster."""

    kubeconfig: str
    server: str
    dns_port: int

    @classmethod
    def load(cls) -> ClusterState | None:
        """Return the recorded state, or None when no cluster was started."""
        try:
            data = json.loads(state_file().read_text())
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None

    def save(self) -> None:
        """Record this state for later ``status``, ``env`` and ``connect()`` calls."""
        state_file().write_text(json.dumps(self.__dict__, indent=2) + "\n")


def component_pids() -> dict[str, int]:
    """Return the recorded pid of each control-plane component (kwokctl's pid files)."""
    pids: dict[str, int] = {}
    for pid_file in (cluster_dir() / "pids").glob("*.pid"):
        with contextlib.suppress(ValueError, OSError):
            pids[pid_file.stem] = int(pid_file.read_text().strip())
    return pids


def component_status() -> dict[str, bool]:
    """Return each control-plane component's name and whether its process is alive."""
    status = {name: is_ours(pid, cluster_dir()) for name, pid in component_pids().items()}
    dns_pid = _dns.pid()
    status["coredns"] = dns_pid is not None and _dns.is_running(dns_pid)
    return status


def apiserver_reachable(timeout: float = 2.0) -> bool:
    """Return True when the recorded API server answers ``/readyz``."""
    state = ClusterState.load()
    if state is None or not Path(state.kubeconfig).exists():
        return False
    try:
        out = subprocess.run(
            [
                str(_binaries.paths()["kubectl"]),
                "--kubeconfig",
                state.kubeconfig,
                f"--request-timeout={timeout:.0f}s",
                "get",
                "--raw",
                "/readyz",
            ],
            capture_output=True,
            text=True,
            timeout=timeout + 5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired, ClusterError, BinaryError):
        return False
    return out.returncode == 0 and out.stdout.strip() == "ok"


def is_running() -> bool:
    """Return True when every component is alive and the API server is ready."""
    status = component_status()
    control_plane = {k: v for k, v in status.items() if k != "coredns"}
    return bool(control_plane) and all(control_plane.values()) and apiserver_reachable()


def cronjob_zone() -> str | None:
    """Return the time zone the running kube-controller-manager reads CronJob schedules in.

    Read from the process's own environment (``TZ``), so it is the truth even
    for a cluster created before the course pinned it to UTC. None when the
    process has no ``TZ`` (it then uses the machine's local zone) or is not
    running.

    Example:
        >>> cronjob_zone()  # doctest: +SKIP
        'UTC'
    """
    pid = component_pids().get("kube-controller-manager")
    if pid is None or not is_ours(pid, cluster_dir()):
        return None
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    for entry in environ:
        if entry.startswith(b"TZ="):
            # Go reads TZ="" as UTC and drops a leading ':'.
            return entry[3:].decode(errors="replace").lstrip(":") or "UTC"
    return None


#: The order kwokctl starts the components in (pid files are named after the
#: binaries); they are stopped in the reverse order, etcd last.
START_ORDER = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok-controller",
)


def unusable_dir() -> Path:
    """Return where the data of a cluster that could not be resumed is kept."""
    return state_dir() / "unusable-cluster"


def save_copy(state: ClusterState, log: Log) -> None:
    """Refresh the saved copy of the learner's objects; a failure is reported, not raised."""
    try:
        _backup.save(state.kubeconfig)
    except Exception as exc:  # the copy is a safety net: never fail a start over it
        log(f"could not save a copy of the course namespaces ({_backup.path()}): {exc}")
