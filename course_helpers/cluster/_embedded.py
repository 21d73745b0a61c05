"""The embedded cluster: kwokctl with a real control plane as local processes.

etcd, kube-apiserver, kube-controller-manager and kube-scheduler are the real
programs; kwok simulates the nodes and the pods' containers. Everything listens
on 127.0.0.1 only. State lives under the cache directory, so the cluster
outlives the notebook kernel that started it and the next kernel reuses it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from ..errors import BinaryError, ClusterError, PortInUseError
from . import _binaries, _dns, _nodes, _podlogs
from ._binaries import Log
from ._paths import state_dir
from ._process import is_ours, kill_if_ours

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


def _state_file() -> Path:
    return state_dir() / "cluster.json"


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
            data = json.loads(_state_file().read_text())
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None

    def save(self) -> None:
        """Record this state for later ``status``, ``env`` and ``connect()`` calls."""
        _state_file().write_text(json.dumps(self.__dict__, indent=2) + "\n")


def _component_pids() -> dict[str, int]:
    pids: dict[str, int] = {}
    for pid_file in (cluster_dir() / "pids").glob("*.pid"):
        with contextlib.suppress(ValueError, OSError):
            pids[pid_file.stem] = int(pid_file.read_text().strip())
    return pids


def component_status() -> dict[str, bool]:
    """Return each control-plane component's name and whether its process is alive."""
    status = {name: is_ours(pid, cluster_dir()) for name, pid in _component_pids().items()}
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


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def requested_port(env_var: str) -> int | None:
    """Return the port named by ``env_var``, refusing a taken one with a clear error.

    Raises:
        PortInUseError: the port is already in use on 127.0.0.1.
        ClusterError: the value is not a port number.

    """
    value = os.environ.get(env_var)
    if not value:
        return None
    try:
        port = int(value)
    except ValueError:
        raise ClusterError(f"{env_var}={value!r} is not a port number.") from None
    if not 0 < port < 65536:
        raise ClusterError(f"{env_var}={value!r} is not a port number (1-65535).")
    if not _port_free(port):
        raise PortInUseError(
            f"Port {port} on 127.0.0.1 ({env_var}) is already in use by another program. "
            f"Stop that program (`ss -ltnp 'sport = :{port}'` shows which), "
            f"or unset {env_var} to let the course pick a free port."
        )
    return port


def _config_file() -> Path:
    """Write kwokctl's configuration: options plus the course's stages."""
    options = {
        "apiVersion": "config.kwok.x-k8s.io/v1alpha1",
        "kind": "KwokctlConfiguration",
        "options": {
            "bindAddress": "127.0.0.1",
            "runtime": "binary",
            "securePort": True,
            # Per-pod Logs objects point kwok at the files _podlogs writes.
            # Never ClusterExec/Exec: they would run commands on this machine.
            "enableCRDs": ["Logs"],
        },
        "componentsPatches": [
            {
                "name": "kube-apiserver",
                "extraArgs": [
                    {"key": "service-cluster-ip-range", "value": SERVICE_RANGE},
                    # kubectl logs: reach kwok's kubelet endpoint by the nodes' InternalIP.
                    {"key": "kubelet-preferred-address-types", "value": "InternalIP"},
                ],
            },
            {
                "name": "kwok-controller",
                "extraArgs": [{"key": "node-ip", "value": "127.0.0.1"}],
            },
        ],
    }
    docs = [yaml.safe_dump(options, sort_keys=False)]
    package = resources.files("course_helpers.cluster") / "kwok"
    for name in ("stages.yaml", "volumes.yaml"):
        docs.append((package / name).read_text())
    path = state_dir() / "kwokctl.yaml"
    path.write_text("\n---\n".join(docs))
    return path


def _kwokctl(
    args: list[str], bins: dict[str, Path], timeout: float
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KWOK_WORKDIR": str(workdir())}
    # kwokctl runs the first kubectl on PATH; make that ours so versions match.
    env["PATH"] = f"{bins['kubectl'].parent}{os.pathsep}{env.get('PATH', '')}"
    env["KWOK_KUBECTL_BINARY"] = str(bins["kubectl"])
    try:
        return subprocess.run(
            [str(bins["kwokctl"]), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ClusterError(
            f"`kwokctl {' '.join(args[:2])}` did not finish in {timeout:.0f}s."
        ) from exc


def _log_tail(lines: int = 15) -> str:
    chunks = []
    for log_file in sorted((cluster_dir() / "logs").glob("*.log")):
        text = log_file.read_text(errors="replace").splitlines()[-lines:]
        chunks.append(f"--- {log_file.name}\n" + "\n".join(text))
    return "\n".join(chunks)


def _explain_failure(output: str) -> ClusterError:
    logs = _log_tail()
    if "address already in use" in (output + logs):
        return PortInUseError(
            "The embedded cluster could not start: a port it picked is already in use. "
            "Run `course-cluster down` and `course-cluster up` again; if it keeps happening, "
            "another program is taking ports in the 32000-32767 range.\n" + logs
        )
    return ClusterError(
        "The embedded cluster did not start. kwokctl said:\n"
        f"{output.strip()[-2000:]}\nComponent logs ({cluster_dir() / 'logs'}):\n{logs}"
    )


@contextlib.contextmanager
def _exclusive() -> Iterator[None]:
    """Serialise up/down across processes (a notebook and binder/start may race)."""
    with open(state_dir() / "lifecycle.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def up(
    nodes: int = 3,
    log: Log = print,
    build: bool = True,
    wait_ready: _nodes.NodesWait | None = None,
) -> ClusterState:
    """Start the embedded cluster, or reuse it when it is already running.

    A cluster whose processes died (a killed kernel, a reboot) is cleaned up and
    started afresh. Missing binaries are built first when ``build`` is True.
    With ``wait_ready`` (``course-cluster up`` and ``ch.connect`` pass the
    watch-based ``course_helpers.kube._wait.nodes_ready``), a new cluster's
    workers are Ready when it returns.

    Example:
        >>> from course_helpers.cluster import _embedded
        >>> state = _embedded.up()  # doctest: +SKIP
        >>> state.server  # doctest: +SKIP
        'https://127.0.0.1:32764'

    Raises:
        ClusterError: the cluster could not be started; the message has the logs.
        PortInUseError: a port the cluster needs is taken.
        BinaryError: binaries are missing and ``build`` is False.

    """
    with _exclusive():
        state = _up(nodes, log, build, wait_ready)
        # kubectl logs: the writer of the container log files (a fresh, reused or
        # resumed cluster alike); it outlives kernels, as the cluster does.
        _podlogs.ensure(state.kubeconfig, CONTEXT)
        return state


def _up(nodes: int, log: Log, build: bool, wait_ready: _nodes.NodesWait | None) -> ClusterState:
    started = time.monotonic()
    apiserver_port = requested_port("COURSE_APISERVER_PORT")
    state = ClusterState.load()
    if state and cluster_dir().exists() and is_running():
        log(f"embedded cluster already running at {state.server}")
        _dns.ensure(state.kubeconfig, CONTEXT, state.dns_port, log)
        return state
    if cluster_dir().exists():
        log("found a stale embedded cluster (some of its processes are gone): removing it")
        _down(log=lambda _msg: None)
    bins = _binaries.install(log) if build else _binaries.paths()
    dns_port = requested_port("COURSE_DNS_PORT") or _dns.free_port()
    args = [
        "create",
        "cluster",
        "--name",
        CLUSTER,
        "--runtime",
        "binary",
        "--config",
        str(_config_file()),
        "--kubeconfig",
        str(kubeconfig_path()),
        "--kube-apiserver-binary",
        str(bins["kube-apiserver"]),
        "--kube-controller-manager-binary",
        str(bins["kube-controller-manager"]),
        "--kube-scheduler-binary",
        str(bins["kube-scheduler"]),
        "--kwok-controller-binary",
        str(bins["kwok"]),
        "--etcd-binary",
        str(bins["etcd"]),
        "--wait",
        "90s",
    ]
    if apiserver_port:
        args += ["--kube-apiserver-port", str(apiserver_port)]
    log(
        "starting the embedded cluster (etcd, kube-apiserver, kube-controller-manager, "
        "kube-scheduler, kwok)"
    )
    result = _kwokctl(args, bins, timeout=180)
    if result.returncode != 0:
        error = _explain_failure(result.stdout + result.stderr)
        _down(log=lambda _msg: None)
        raise error
    kubeconfig = cluster_dir() / "kubeconfig.yaml"
    server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    state = ClusterState(kubeconfig=str(kubeconfig_path()), server=server, dns_port=dns_port)
    state.save()
    dns = _dns.start(state.kubeconfig, CONTEXT, dns_port)
    _nodes.bootstrap(str(kubeconfig), nodes, log, wait_ready)
    _dns.wait_answering(dns, dns_port, log)
    log(
        f"embedded cluster ready in {time.monotonic() - started:.1f}s: {server}, "
        f"{nodes} nodes, DNS on 127.0.0.1:{dns_port}"
    )
    return state


def down(log: Log = print) -> bool:
    """Stop the embedded cluster and delete its state. Return False if none was there."""
    with _exclusive():
        return _down(log)


def _down(log: Log) -> bool:
    _dns.stop()
    _podlogs.stop(forget=True)
    if not cluster_dir().exists():
        _state_file().unlink(missing_ok=True)
        log("no embedded cluster to stop")
        return False
    try:
        bins = _binaries.paths()
        _kwokctl(["delete", "cluster", "--name", CLUSTER], bins, timeout=120)
    except (ClusterError, BinaryError):
        pass
    for pid in _component_pids().values():
        kill_if_ours(pid, cluster_dir())
    shutil.rmtree(cluster_dir(), ignore_errors=True)
    _state_file().unlink(missing_ok=True)
    with contextlib.suppress(FileNotFoundError):
        kubeconfig_path().unlink()
    log("embedded cluster stopped and removed")
    return True
