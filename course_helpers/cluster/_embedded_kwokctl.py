"""kwokctl for the embedded cluster: its configuration, running it, reading its components' logs.

The configuration names every port (chosen by ``_ports``), binds to
127.0.0.1, pins kube-controller-manager's time zone and carries the course's
stages. A run can watch the component logs and stop at the first failed bind
(:class:`PortTaken`), instead of waiting out kwokctl's own timeout.

Example:
    >>> config_file({"kwokControllerPort": 24001}).name  # doctest: +SKIP
    'kwokctl.yaml'
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import yaml

from ..errors import ClusterError, PortInUseError
from . import _ports
from ._embedded_state import SERVICE_RANGE, cluster_dir, workdir
from ._paths import state_dir

#: The time zone kube-controller-manager runs in, so CronJob schedules without
#: ``spec.timeZone`` are read in it (k8s.io/kubernetes pkg/controller/cronjob
#: parses them with robfig/cron, whose default location is Go's time.Local).
CONTROLLER_MANAGER_TZ = "UTC"


def config_file(ports: Mapping[str, int] | None = None) -> Path:
    """Write kwokctl's configuration: options (with the ports ``_ports`` chose) plus the stages.

    ``ports`` maps kwokctl's port options (:data:`PORTS`) to the ports to use;
    left out, kwokctl would pick them itself, the same ones for two clusters
    created at the same moment.
    """
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
            **{key: port for key, port in (ports or {}).items() if key in OPTION_KEYS},
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
            {
                # kwokctl's binary runtime starts each component with its own
                # environment plus these; the learner's TZ must not leak in.
                "name": "kube-controller-manager",
                "extraEnvs": [{"name": "TZ", "value": CONTROLLER_MANAGER_TZ}],
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


class PortTaken(Exception):
    """A component could not bind its port: another program holds it (internal to ``up``)."""

    def __init__(self, port: int, said: str) -> None:
        super().__init__(f"port {port} was taken by another program ({said})")
        self.port = port


_BIND_FAILED = re.compile(r"(?:listen tcp )?(?:[\d.]+:(\d+): )?bind: address already in use")


def port_taken(since: dict[Path, int]) -> PortTaken | None:
    """Return the first failed bind in the component logs written after ``since``, if any."""
    for line in new_log_lines(since):
        match = _BIND_FAILED.search(line)
        if match:
            component = line.split(":", 1)[0]
            return PortTaken(int(match.group(1) or 0), f"{component}: {match.group(0)}")
    return None


def create_args(name: str, kubeconfig: Path, bins: Mapping[str, Path]) -> list[str]:
    """Return ``kwokctl create cluster``'s arguments: the binary runtime, our binaries, a 90 s wait.

    Example:
        >>> bins = {n: Path("/b", n) for n in ("kube-apiserver", "kube-controller-manager",
        ...                                    "kube-scheduler", "kwok", "etcd")}
        >>> create_args("course", Path("/k"), bins)[:6]
        ['create', 'cluster', '--name', 'course', '--runtime', 'binary']
    """
    return [
        "create",
        "cluster",
        "--name",
        name,
        "--runtime",
        "binary",
        "--kubeconfig",
        str(kubeconfig),
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


def run_kwokctl(
    args: list[str], bins: dict[str, Path], timeout: float, watch_binds: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run kwokctl; with ``watch_binds``, stop it as soon as a component fails to bind.

    kwokctl waits up to its ``--wait`` for a cluster whose component died on a
    taken port; the component's log says so at once.

    Raises:
        PortTaken: (``watch_binds``) a component could not bind its port.
        ClusterError: kwokctl did not finish within ``timeout`` seconds.
    """
    env = {**os.environ, "KWOK_WORKDIR": str(workdir())}
    # kwokctl runs the first kubectl on PATH; make that ours so versions match.
    env["PATH"] = f"{bins['kubectl'].parent}{os.pathsep}{env.get('PATH', '')}"
    env["KWOK_KUBECTL_BINARY"] = str(bins["kubectl"])
    deadline = time.monotonic() + timeout
    with subprocess.Popen(
        [str(bins["kwokctl"]), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        while True:
            try:
                out, err = proc.communicate(timeout=0.25 if watch_binds else timeout)
                return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
            except subprocess.TimeoutExpired:
                taken = port_taken({}) if watch_binds else None
                if taken is None and time.monotonic() < deadline:
                    continue
                proc.kill()
                proc.communicate()
                if taken is not None:
                    raise taken from None
                raise ClusterError(
                    f"`kwokctl {' '.join(args[:2])}` did not finish in {timeout:.0f}s."
                ) from None


def log_tail(lines: int = 15) -> str:
    chunks = []
    for log_file in sorted((cluster_dir() / "logs").glob("*.log")):
        text = log_file.read_text(errors="replace").splitlines()[-lines:]
        chunks.append(f"--- {log_file.name}\n" + "\n".join(text))
    return "\n".join(chunks)


def explain_failure(output: str) -> ClusterError:
    logs = log_tail()
    if "address already in use" in (output + logs):
        return PortInUseError(
            "The embedded cluster could not start: a port it picked is already in use. "
            "Run `course-cluster down` and `course-cluster up` again; if it keeps happening, "
            f"another program is taking ports in the {_ports.RANGE[0]}-{_ports.RANGE[1]} "
            "range.\n" + logs
        )
    return ClusterError(
        "The embedded cluster did not start. kwokctl said:\n"
        f"{output.strip()[-2000:]}\nComponent logs ({cluster_dir() / 'logs'}):\n{logs}"
    )


def log_sizes() -> dict[Path, int]:
    """Return each component log's size now, a mark for :func:`new_log_lines`."""
    return {f: f.stat().st_size for f in (cluster_dir() / "logs").glob("*.log")}


def new_log_lines(since: dict[Path, int]) -> list[str]:
    """Return the component log lines written after ``since`` (from :func:`log_sizes`).

    kwokctl truncates the log of each component it starts: a log shorter than
    before is new from its first line.
    """
    lines = []
    for log_file in sorted((cluster_dir() / "logs").glob("*.log")):
        with open(log_file, "rb") as text:
            mark = since.get(log_file, 0)
            text.seek(mark if log_file.stat().st_size >= mark else 0)
            new = text.read().decode(errors="replace").splitlines()
        lines += [f"{log_file.stem}: {line}" for line in new]
    return lines


#: The ports kwokctl picked for each component at creation (kwok.yaml's options).
PORTS = {
    "etcd": ("etcdPort", "etcdPeerPort"),
    "kube-apiserver": ("kubeApiserverPort",),
    "kube-controller-manager": ("kubeControllerManagerPort",),
    "kube-scheduler": ("kubeSchedulerPort",),
    "kwok-controller": ("kwokControllerPort",),
}

OPTION_KEYS = tuple(key for keys in PORTS.values() for key in keys)


def recorded_options() -> dict[str, int]:
    """Return kwokctl's port options (:data:`PORTS`) as recorded in the cluster's kwok.yaml."""
    try:
        options = next(yaml.safe_load_all((cluster_dir() / "kwok.yaml").read_text()))["options"]
        return {key: int(options[key]) for key in OPTION_KEYS if options.get(key)}
    except (OSError, yaml.YAMLError, KeyError, StopIteration, TypeError, ValueError):
        return {}


def recorded_ports() -> dict[str, list[int]]:
    """Return each component's ports, as recorded in the cluster's kwok.yaml."""
    options = recorded_options()
    return {name: [options[key] for key in keys if key in options] for name, keys in PORTS.items()}
