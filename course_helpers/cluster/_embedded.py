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
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml
from kubernetes import config as k8s_config

from ..errors import BinaryError, ClusterError, PortInUseError
from . import _backup, _binaries, _dns, _nodes, _podlogs, _ports
from ._binaries import Log
from ._paths import state_dir
from ._ports import requested_port
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
    pid = _component_pids().get("kube-controller-manager")
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


#: The time zone kube-controller-manager runs in, so CronJob schedules without
#: ``spec.timeZone`` are read in it (k8s.io/kubernetes pkg/controller/cronjob
#: parses them with robfig/cron, whose default location is Go's time.Local).
CONTROLLER_MANAGER_TZ = "UTC"


def _config_file(ports: Mapping[str, int] | None = None) -> Path:
    """Write kwokctl's configuration: options (with the ports ``_ports`` chose) plus the stages.

    ``ports`` maps kwokctl's port options (:data:`_PORTS`) to the ports to use;
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
            **{key: port for key, port in (ports or {}).items() if key in _OPTION_KEYS},
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


class _PortTaken(Exception):
    """A component could not bind its port: another program holds it (internal to ``up``)."""

    def __init__(self, port: int, said: str) -> None:
        super().__init__(f"port {port} was taken by another program ({said})")
        self.port = port


_BIND_FAILED = re.compile(r"(?:listen tcp )?(?:[\d.]+:(\d+): )?bind: address already in use")


def _port_taken(since: dict[Path, int]) -> _PortTaken | None:
    """Return the first failed bind in the component logs written after ``since``, if any."""
    for line in _new_log_lines(since):
        match = _BIND_FAILED.search(line)
        if match:
            component = line.split(":", 1)[0]
            return _PortTaken(int(match.group(1) or 0), f"{component}: {match.group(0)}")
    return None


def _kwokctl(
    args: list[str], bins: dict[str, Path], timeout: float, watch_binds: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run kwokctl; with ``watch_binds``, stop it as soon as a component fails to bind.

    kwokctl waits up to its ``--wait`` for a cluster whose component died on a
    taken port; the component's log says so at once.

    Raises:
        _PortTaken: (``watch_binds``) a component could not bind its port.
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
                taken = _port_taken({}) if watch_binds else None
                if taken is None and time.monotonic() < deadline:
                    continue
                proc.kill()
                proc.communicate()
                if taken is not None:
                    raise taken from None
                raise ClusterError(
                    f"`kwokctl {' '.join(args[:2])}` did not finish in {timeout:.0f}s."
                ) from None


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
            f"another program is taking ports in the {_ports.RANGE[0]}-{_ports.RANGE[1]} "
            "range.\n" + logs
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


#: The order kwokctl starts the components in (pid files are named after the
#: binaries); they are stopped in the reverse order, etcd last.
START_ORDER = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok-controller",
)


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
        if is_running():
            log(f"embedded cluster already running at {state.server}")
            _dns.ensure(state.kubeconfig, CONTEXT, state.dns_port, log)
            _save_copy(state, log)
            return state
        return _resume(state, nodes, bins, log, started, wait_ready)
    if cluster_dir().exists():
        log("found an embedded cluster that never finished starting: removing it")
        _down(log=lambda _msg: None)
    return _create(nodes, bins, log, started, wait_ready)


#: How many times a start is tried, on new ports each time, when another program
#: takes one of its ports between the choice and the bind.
START_ATTEMPTS = 3


def _create(
    nodes: int,
    bins: dict[str, Path],
    log: Log,
    started: float,
    wait_ready: _nodes.NodesWait | None,
) -> ClusterState:
    requested = {
        key: port
        for key, env_var in (
            ("kubeApiserverPort", "COURSE_APISERVER_PORT"),
            ("dns", "COURSE_DNS_PORT"),
        )
        if (port := requested_port(env_var))
    }
    log(
        "starting the embedded cluster (etcd, kube-apiserver, kube-controller-manager, "
        "kube-scheduler, kwok)"
    )
    ports = _start_on_new_ports(requested, bins, log)
    try:
        kubeconfig = cluster_dir() / "kubeconfig.yaml"
        server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
        state = ClusterState(str(kubeconfig_path()), server, ports["dns"])
        state.save()
        dns = _dns.start(state.kubeconfig, CONTEXT, state.dns_port)
        _nodes.bootstrap(str(kubeconfig), nodes, log, wait_ready)
        state = _serve_dns(state, dns, log)
    finally:
        _ports.release(ports.values())
    log(
        f"embedded cluster ready in {time.monotonic() - started:.1f}s: {server}, "
        f"{nodes} nodes, DNS on 127.0.0.1:{state.dns_port}"
    )
    return state


def _start_on_new_ports(
    requested: dict[str, int], bins: dict[str, Path], log: Log
) -> dict[str, int]:
    """Create the control plane on ports reserved for it; on others if another program takes one.

    Returns the ports (kwokctl's options and ``"dns"``), still reserved: the
    caller releases them once CoreDNS answers too.

    Raises:
        PortInUseError: a port was taken at every attempt, or a requested one was.
        ClusterError: the cluster did not start for another reason (the logs say why).
    """
    attempt = 1
    while True:
        ports = _ports.allocate(
            [*_OPTION_KEYS, "dns"], udp={"dns"}, fixed=requested, owner=str(state_dir())
        )
        try:
            _start_control_plane(ports, bins)
            return ports
        except _PortTaken as taken:
            _ports.release(ports.values())
            _down(log=lambda _msg: None)
            if taken.port in requested.values() or attempt == START_ATTEMPTS:
                raise PortInUseError(
                    f"The embedded cluster could not start: {taken} ({attempt} attempt"
                    f"{'s' if attempt > 1 else ''}). Stop the program that holds it (`ss -ltnp` "
                    "shows which) or unset COURSE_APISERVER_PORT/COURSE_DNS_PORT, then run "
                    "`course-cluster up` again."
                ) from None
            log(f"the embedded cluster could not start: {taken}; starting it again on new ports")
            attempt += 1
        except BaseException:
            _ports.release(ports.values())
            raise


def _start_control_plane(ports: Mapping[str, int], bins: dict[str, Path]) -> None:
    """Run ``kwokctl create cluster`` on ``ports`` and wait until every component listens.

    Raises:
        _PortTaken: a component could not bind its port (the half-made cluster stays).
        ClusterError: it did not start for another reason; the half-made cluster is deleted.
    """
    args = [
        "create",
        "cluster",
        "--name",
        CLUSTER,
        "--runtime",
        "binary",
        "--config",
        str(_config_file(ports)),
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
    try:
        result = _kwokctl(args, bins, timeout=180, watch_binds=True)
        if result.returncode != 0:
            raise _explain_failure(result.stdout + result.stderr)
        _await_listening(ports)
    except ClusterError:
        _down(log=lambda _msg: None)
        raise


def _await_listening(ports: Mapping[str, int], timeout: float = 90) -> None:
    """Return once each control-plane process listens on its own ports.

    kwokctl only checks that the processes run and that the API server
    answers: kwok-controller, say, binds its port later and exits when it is
    taken, and the nodes would then never become Ready. A process that
    listens on none of its ports after ``timeout`` seconds is left to the
    readiness waits that follow (a slow machine is no failure).

    Raises:
        _PortTaken: a process exited because its port is taken.
        ClusterError: a process exited for another reason; the message has the logs.
    """
    pending = {(name, ports[key]) for name, keys in _PORTS.items() for key in keys}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        pids = _component_pids()
        for name, port in sorted(pending):
            pid = pids.get(name, 0)
            if pid > 0 and _ports.listening(pid, port):
                pending.discard((name, port))
            elif not is_ours(pid, cluster_dir()):
                taken = _port_taken({})
                if taken is not None:
                    raise taken
                raise ClusterError(
                    f"{name} exited while the embedded cluster started. "
                    f"Component logs ({cluster_dir() / 'logs'}):\n{_log_tail()}"
                )
        time.sleep(0.1)


def _serve_dns(
    state: ClusterState, process: subprocess.Popen[bytes] | None, log: Log
) -> ClusterState:
    """Wait until the CoreDNS just started answers; move it if another program took its port.

    Returns the state, with the new DNS port if it moved.

    Raises:
        ClusterError: CoreDNS exited for another reason or did not answer.
    """
    for attempt in range(1, START_ATTEMPTS + 1):
        if process is None:
            break
        try:
            _dns.wait_answering(process, state.dns_port, log)
            break
        except ClusterError as exc:
            if "address already in use" not in str(exc) or attempt == START_ATTEMPTS:
                raise
        port = _ports.allocate(["dns"], udp={"dns"}, owner=str(state_dir()))["dns"]
        log(f"port {state.dns_port} of the cluster DNS was taken meanwhile: moving it to {port}")
        state = ClusterState(state.kubeconfig, state.server, port)
        state.save()
        process = _dns.start(state.kubeconfig, CONTEXT, port)
    return state


def _forget_stale_pids() -> None:
    """Remove pid files whose process is gone or is not ours (a pid reused after a reboot).

    kwokctl trusts any live process under a recorded pid and would not start
    the component again; after this it starts exactly the ones that died.
    """
    for pid_file in (cluster_dir() / "pids").glob("*.pid"):
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            pid = -1
        if pid <= 0 or not is_ours(pid, cluster_dir()):
            pid_file.unlink(missing_ok=True)


def _wait_apiserver(timeout: float) -> bool:
    """Return True once the API server answers ``/readyz``, False after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if apiserver_reachable():
            return True
        if not all(component_status().get(name, True) for name in ("etcd", "kube-apiserver")):
            return False  # a process it needs exited: waiting longer will not help
        time.sleep(0.2)
    return False


def _log_sizes() -> dict[Path, int]:
    return {f: f.stat().st_size for f in (cluster_dir() / "logs").glob("*.log")}


def _new_log_lines(since: dict[Path, int]) -> list[str]:
    """Return the component log lines written after ``since`` (from :func:`_log_sizes`).

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
_PORTS = {
    "etcd": ("etcdPort", "etcdPeerPort"),
    "kube-apiserver": ("kubeApiserverPort",),
    "kube-controller-manager": ("kubeControllerManagerPort",),
    "kube-scheduler": ("kubeSchedulerPort",),
    "kwok-controller": ("kwokControllerPort",),
}
_OPTION_KEYS = tuple(key for keys in _PORTS.values() for key in keys)


def _recorded_options() -> dict[str, int]:
    """Return kwokctl's port options (:data:`_PORTS`) as recorded in the cluster's kwok.yaml."""
    try:
        options = next(yaml.safe_load_all((cluster_dir() / "kwok.yaml").read_text()))["options"]
        return {key: int(options[key]) for key in _OPTION_KEYS if options.get(key)}
    except (OSError, yaml.YAMLError, KeyError, StopIteration, TypeError, ValueError):
        return {}


def _recorded_ports() -> dict[str, list[int]]:
    """Return each component's ports, as recorded in the cluster's kwok.yaml."""
    options = _recorded_options()
    return {name: [options[key] for key in keys if key in options] for name, keys in _PORTS.items()}


def _move_taken_ports(log: Log) -> bool:
    """Give a stopped cluster new ports for those another program took meanwhile.

    kwokctl picks free ports when it creates the cluster and records them in
    its kwok.yaml, the components' arguments and the kubeconfigs; after a
    reboot another program may hold one. Every process of ours is stopped
    first (the others point at each other's ports), then each taken port is
    replaced by a free one wherever it is written. The certificates name
    127.0.0.1, not ports, so they stay valid. Returns True when ports moved.
    """
    status = component_status()
    recorded = _recorded_ports()
    dead = [name for name in recorded if not status.get(name, False)]
    if not any(not _ports.is_free(port) for name in dead for port in recorded[name]):
        return False
    _stop_processes(graceful=True)
    taken = sorted({p for ports in recorded.values() for p in ports if not _ports.is_free(p)})
    if not taken:
        return False
    new = _ports.allocate(map(str, taken), owner=str(state_dir()))
    moves = {old: new[str(old)] for old in taken}
    # Written as 127.0.0.1:P (URLs, addresses), --secure-port=P, --node-port=P and
    # "port: P" / "etcdPort: P" (kwok.yaml's component ports and options).
    numbers = "(?:" + "|".join(map(str, moves)) + r")\b"
    pattern = re.compile(
        rf"(?<=127\.0\.0\.1:){numbers}|(?<=[pP]ort: ){numbers}|(?<=-port=){numbers}"
    )
    files = [cluster_dir() / "kwok.yaml", cluster_dir() / "kubeconfig.yaml"]
    files += [kubeconfig_path(), _state_file()]
    for path in files:
        if path.exists():
            text = path.read_text()
            path.write_text(pattern.sub(lambda m: str(moves[int(m.group(0))]), text))
    log(
        "ports of the embedded cluster taken by another program meanwhile: moved "
        + ", ".join(f"{old} -> {new}" for old, new in moves.items())
    )
    return True


def _restart_control_plane(bins: dict[str, Path], log: Log) -> None:
    """Start the components that are not running, on the cluster's existing data.

    Raises:
        PortInUseError: a port of the cluster is taken by another program now
            (after a reboot, say); the data is fine and kept.
        ClusterError: they did not start, or the API server did not become ready.
    """
    _forget_stale_pids()
    # kwokctl forks the components, then waits for /version until --timeout, however
    # dead etcd is; the readiness wait below is ours, and gives up as soon as etcd or
    # the API server exits.
    args = ["start", "cluster", "--name", CLUSTER, "--timeout", "10s"]
    for attempt in range(1, START_ATTEMPTS + 1):
        _move_taken_ports(log)
        # Other course clusters starting meanwhile must not choose these.
        ports = _recorded_options()
        _ports.reserve(ports, owner=str(state_dir()))
        marks = _log_sizes()
        try:
            result = _kwokctl(args, bins, timeout=120)
            if result.returncode == 0 and _wait_apiserver(timeout=60):
                # kwok-controller binds its port late, and may fail then. Another exit
                # is left to the readiness waits that follow.
                with contextlib.suppress(ClusterError):
                    _await_listening(ports)
                return
        except _PortTaken:
            pass  # read again from the logs below
        finally:
            _ports.release(ports.values())
        taken = _port_taken(marks)
        if taken is not None and attempt < START_ATTEMPTS:
            _stop_processes(graceful=True)
            log(f"the embedded cluster could not be resumed: {taken}; moving it, starting again")
            continue
        break
    if taken is not None:
        _stop_processes(graceful=True)
        raise PortInUseError(
            f"The embedded cluster could not be resumed: {taken} at every try.\n"
            "Its data is kept. Stop that program (`ss -ltnp` shows which has the port), then "
            "run `course-cluster up` or `ch.connect()` again. (`course-cluster down` then "
            "`course-cluster up` gives a fresh cluster on new ports, without your work.)"
        )
    if result.returncode != 0:
        raise ClusterError(
            "`kwokctl start cluster` failed:\n" + (result.stdout + result.stderr).strip()[-1500:]
        )
    dead = [name for name, alive in component_status().items() if not alive]
    raise ClusterError(
        "its API server did not become ready"
        + (f" ({', '.join(sorted(dead))} not running)" if dead else "")
        + f". Component logs:\n{_log_tail()}"
    )


def _resume(
    state: ClusterState,
    nodes: int,
    bins: dict[str, Path],
    log: Log,
    started: float,
    wait_ready: _nodes.NodesWait | None,
) -> ClusterState:
    control = {k: v for k, v in component_status().items() if k != "coredns"}
    gone = sorted(name for name, alive in control.items() if not alive)
    if control and len(gone) < len(control):
        log(f"embedded cluster: {', '.join(gone)} not running: starting them again")
    else:
        log(
            "the embedded cluster is not running (stopped, or its processes were killed, "
            "e.g. by a reboot): resuming it with its data"
        )
    try:
        _restart_control_plane(bins, log)
    except PortInUseError:
        raise  # the data is fine: never replace the cluster over a taken port
    except ClusterError as exc:
        return _recreate(str(exc), nodes, bins, log, started, wait_ready)
    state = ClusterState.load() or state  # its server moved if its port was taken
    state, dns = _start_dns(state, log)  # while the nodes get Ready
    kubeconfig = str(cluster_dir() / "kubeconfig.yaml")
    api = k8s_config.new_client_from_config(config_file=kubeconfig)
    try:
        workers = _nodes.worker_names(api)
        if wait_ready is not None:
            wait_ready(api, workers)
    finally:
        api.close()
    state = _serve_dns(state, dns, log)
    _save_copy(state, log)
    log(
        f"embedded cluster resumed in {time.monotonic() - started:.1f}s with its data: "
        f"{state.server}, nodes {', '.join(workers) or 'none'}, DNS on 127.0.0.1:{state.dns_port}"
    )
    return state


def _start_dns(
    state: ClusterState, log: Log
) -> tuple[ClusterState, subprocess.Popen[bytes] | None]:
    """Start CoreDNS again unless it runs, on its old port unless another program took it.

    Returns the state (with the new port if it moved) and the process started,
    if any, for :func:`_dns.wait_answering`.
    """
    running = _dns.pid()
    if running and _dns.is_running(running):
        return state, None
    if not _ports.is_free(state.dns_port, udp=True):
        log(f"port {state.dns_port} of the cluster DNS is taken now: moving it to a free one")
        port = _ports.allocate(["dns"], udp={"dns"}, owner=str(state_dir()))["dns"]
        state = ClusterState(state.kubeconfig, state.server, port)
        state.save()
    return state, _dns.start(state.kubeconfig, CONTEXT, state.dns_port)


def _unusable_dir() -> Path:
    return state_dir() / "unusable-cluster"


def _recreate(
    reason: str,
    nodes: int,
    bins: dict[str, Path],
    log: Log,
    started: float,
    wait_ready: _nodes.NodesWait | None,
) -> ClusterState:
    """Replace a cluster whose data cannot be used; restore the saved copy of the learner's work."""
    _stop_processes(graceful=False)
    _podlogs.stop(forget=True)  # the pods' log files belong to the old data
    aside = _unusable_dir()
    shutil.rmtree(aside, ignore_errors=True)
    cluster_dir().rename(aside)
    _state_file().unlink(missing_ok=True)
    log(
        "THE EMBEDDED CLUSTER COULD NOT BE RESUMED: "
        + reason.splitlines()[0]
        + f"\nIts data cannot be used, so a fresh cluster is started. The old data and logs are "
        f"kept in {aside} (deleted by `course-cluster down`)."
    )
    state = _create(nodes, bins, log, started, wait_ready)
    saved = _backup.saved_at()
    restored = _backup.restore(state.kubeconfig, log)
    if restored is None:
        log(
            "No copy of your work had been saved, so the course namespaces are empty: "
            "run the notebooks' cells again."
        )
    else:
        log(
            f"Your objects were restored from the copy saved at {saved}: {restored.summary()} "
            "Changes made after that time are lost."
        )
    return state


def _save_copy(state: ClusterState, log: Log) -> None:
    """Refresh the saved copy of the learner's objects; a failure is reported, not raised."""
    try:
        _backup.save(state.kubeconfig)
    except Exception as exc:  # the copy is a safety net: never fail a start over it
        log(f"could not save a copy of the course namespaces ({_backup.path()}): {exc}")


def _stop_processes(graceful: bool, timeout: float = 15) -> list[str]:
    """Stop CoreDNS, the pod log writer and every control-plane process of ours.

    Returns the names of the control-plane processes stopped.

    Graceful: SIGTERM in the reverse of the start order (etcd last, so it
    writes its data out), SIGKILL for whatever is still there after
    ``timeout`` seconds. Only pids whose command line names our state
    directory are signalled; their pid files are removed.
    """
    _dns.stop()
    _podlogs.stop()
    pids = _component_pids()
    order = sorted(pids, key=lambda n: START_ORDER.index(n) if n in START_ORDER else 99)
    stopped = []
    for name in reversed(order):
        pid = pids[name]
        if kill_if_ours(pid, cluster_dir(), signal=15 if graceful else 9):
            stopped.append(name)
            deadline = time.monotonic() + (timeout if graceful else 5)
            while is_ours(pid, cluster_dir()) and time.monotonic() < deadline:
                time.sleep(0.05)
            kill_if_ours(pid, cluster_dir(), signal=9)
        (cluster_dir() / "pids" / f"{name}.pid").unlink(missing_ok=True)
    return stopped


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
            _save_copy(state, log)
        stopped = _stop_processes(graceful=True)
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
        return _down(log)


def _inventory() -> str:
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


def _down(log: Log) -> bool:
    leftovers = [p for p in (_backup.path().parent, _unusable_dir()) if p.exists()]
    if not cluster_dir().exists():
        _dns.stop()
        _podlogs.stop(forget=True)
        _state_file().unlink(missing_ok=True)
        for path in leftovers:
            shutil.rmtree(path, ignore_errors=True)
        log("no embedded cluster to delete")
        return False
    contents = _inventory()
    _stop_processes(graceful=False)
    _podlogs.stop(forget=True)
    shutil.rmtree(cluster_dir(), ignore_errors=True)
    _state_file().unlink(missing_ok=True)
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
