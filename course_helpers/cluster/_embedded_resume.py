"""Resuming a stopped or crashed embedded cluster with its data, or replacing an unusable one.

Only the processes that are gone are started again. Ports another program
took meanwhile are moved first, wherever they are written; a port taken as
the cluster starts is moved before another try. Data that cannot be used any
more gives a fresh cluster with the learner's saved objects restored
(``_backup``), which the log says plainly.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import time
from pathlib import Path

from kubernetes import config as k8s_config

from ..errors import ClusterError, PortInUseError
from . import _backup, _dns, _embedded_kwok, _nodes, _podlogs, _ports
from ._binaries import Log
from ._embedded_create import START_ATTEMPTS, await_listening, create, serve_dns
from ._embedded_kwokctl import (
    PortTaken,
    log_sizes,
    log_tail,
    port_taken,
    recorded_options,
    recorded_ports,
    run_kwokctl,
)
from ._embedded_state import (
    CLUSTER,
    CONTEXT,
    ClusterState,
    Start,
    apiserver_reachable,
    cluster_dir,
    component_status,
    kubeconfig_path,
    save_copy,
    state_file,
    unusable_dir,
)
from ._embedded_teardown import stop_processes
from ._paths import state_dir
from ._process import is_ours


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
    recorded = recorded_ports()
    dead = [name for name in recorded if not status.get(name, False)]
    if not any(not _ports.is_free(port) for name in dead for port in recorded[name]):
        return False
    stop_processes(graceful=True)
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
    files += [kubeconfig_path(), state_file()]
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
        ports = recorded_options()
        _ports.reserve(ports, owner=str(state_dir()))
        marks = log_sizes()
        try:
            result = run_kwokctl(args, bins, timeout=120)
            if result.returncode == 0 and _wait_apiserver(timeout=60):
                # kwok-controller binds its port late, and may fail then. Another exit
                # is left to the readiness waits that follow.
                with contextlib.suppress(ClusterError):
                    await_listening(ports)
                return
        except PortTaken:
            pass  # read again from the logs below
        finally:
            _ports.release(ports.values())
        taken = port_taken(marks)
        if taken is not None and attempt < START_ATTEMPTS:
            stop_processes(graceful=True)
            log(f"the embedded cluster could not be resumed: {taken}; moving it, starting again")
            continue
        break
    if taken is not None:
        stop_processes(graceful=True)
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
        + f". Component logs:\n{log_tail()}"
    )


def resume(state: ClusterState, start: Start) -> ClusterState:
    """Start again the processes that are gone, on the cluster's data; replace unusable data."""
    log = start.log
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
        _restart_control_plane(start.bins, log)
        if not control or "kwok-controller" in gone:
            # A new kwok-controller would wait for the dead one's node Leases to
            # expire (200 s) before simulating anything: hand it the nodes now.
            _embedded_kwok.hand_over_node_leases(str(cluster_dir() / "kubeconfig.yaml"), log)
            _restart_control_plane(start.bins, log)
    except PortInUseError:
        raise  # the data is fine: never replace the cluster over a taken port
    except ClusterError as exc:
        return _recreate(str(exc), start)
    state = ClusterState.load() or state  # its server moved if its port was taken
    state, dns = _start_dns(state, log)  # while the nodes get Ready
    kubeconfig = str(cluster_dir() / "kubeconfig.yaml")
    api = k8s_config.new_client_from_config(config_file=kubeconfig)
    try:
        workers = _nodes.worker_names(api)
        if start.wait_ready is not None:
            start.wait_ready(api, workers)
    finally:
        api.close()
    state = serve_dns(state, dns, log)
    save_copy(state, log)
    log(
        f"embedded cluster resumed in {time.monotonic() - start.started:.1f}s with its data: "
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


def _recreate(reason: str, start: Start) -> ClusterState:
    """Replace a cluster whose data cannot be used; restore the saved copy of the learner's work."""
    log = start.log
    stop_processes(graceful=False)
    _podlogs.stop(forget=True)  # the pods' log files belong to the old data
    aside = unusable_dir()
    shutil.rmtree(aside, ignore_errors=True)
    cluster_dir().rename(aside)
    state_file().unlink(missing_ok=True)
    log(
        "THE EMBEDDED CLUSTER COULD NOT BE RESUMED: "
        + reason.splitlines()[0]
        + f"\nIts data cannot be used, so a fresh cluster is started. The old data and logs are "
        f"kept in {aside} (deleted by `course-cluster down`)."
    )
    state = create(start)
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
