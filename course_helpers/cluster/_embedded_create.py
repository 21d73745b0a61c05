"""Creating a fresh embedded cluster on ports of its own.

The ports are reserved through ``_ports`` and handed to kwokctl, so two
clusters created at the same moment never share one. When another program
takes one between the choice and the bind, the failed bind is named and the
start tried again on new ports (:data:`START_ATTEMPTS`), rather than leaving
nodes that never become Ready.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import yaml

from ..errors import ClusterError, PortInUseError
from . import _dns, _embedded_stages, _nodes, _ports
from ._binaries import Log
from ._embedded_kwokctl import (
    OPTION_KEYS,
    PORTS,
    PortTaken,
    config_file,
    create_args,
    explain_failure,
    log_tail,
    port_taken,
    run_kwokctl,
)
from ._embedded_state import (
    CLUSTER,
    CONTEXT,
    ClusterState,
    Start,
    cluster_dir,
    component_pids,
    kubeconfig_path,
)
from ._embedded_teardown import delete
from ._paths import state_dir
from ._ports import requested_port
from ._process import is_ours

#: How many times a start is tried, on new ports each time, when another program
#: takes one of its ports between the choice and the bind.
START_ATTEMPTS = 3


def create(start: Start) -> ClusterState:
    """Create a fresh cluster with ``start.nodes`` workers; return its state once it is ready."""
    log = start.log
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
    ports = _start_on_new_ports(requested, start.bins, log)
    try:
        kubeconfig = cluster_dir() / "kubeconfig.yaml"
        server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
        state = ClusterState(str(kubeconfig_path()), server, ports["dns"])
        state.save()
        _embedded_stages.remember()
        dns = _dns.start(state.kubeconfig, CONTEXT, state.dns_port)
        _nodes.bootstrap(str(kubeconfig), start.nodes, log, start.wait_ready)
        state = serve_dns(state, dns, log)
    finally:
        _ports.release(ports.values())
    log(
        f"embedded cluster ready in {time.monotonic() - start.started:.1f}s: {server}, "
        f"{start.nodes} nodes, DNS on 127.0.0.1:{state.dns_port}"
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
            [*OPTION_KEYS, "dns"], udp={"dns"}, fixed=requested, owner=str(state_dir())
        )
        try:
            _start_control_plane(ports, bins)
            return ports
        except PortTaken as taken:
            _ports.release(ports.values())
            delete(log=lambda _msg: None)
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
        PortTaken: a component could not bind its port (the half-made cluster stays).
        ClusterError: it did not start for another reason; the half-made cluster is deleted.
    """
    args = [*create_args(CLUSTER, kubeconfig_path(), bins), "--config", str(config_file(ports))]
    try:
        result = run_kwokctl(args, bins, timeout=180, watch_binds=True)
        if result.returncode != 0:
            raise explain_failure(result.stdout + result.stderr)
        await_listening(ports)
    except ClusterError:
        delete(log=lambda _msg: None)
        raise


def await_listening(ports: Mapping[str, int], timeout: float = 90) -> None:
    """Return once each control-plane process listens on its own ports.

    kwokctl only checks that the processes run and that the API server
    answers: kwok-controller, say, binds its port later and exits when it is
    taken, and the nodes would then never become Ready. A process that
    listens on none of its ports after ``timeout`` seconds is left to the
    readiness waits that follow (a slow machine is no failure).

    Raises:
        PortTaken: a process exited because its port is taken.
        ClusterError: a process exited for another reason; the message has the logs.
    """
    pending = {(name, ports[key]) for name, keys in PORTS.items() for key in keys}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        pids = component_pids()
        for name, port in sorted(pending):
            pid = pids.get(name, 0)
            if pid > 0 and _ports.listening(pid, port):
                pending.discard((name, port))
            elif not is_ours(pid, cluster_dir()):
                taken = port_taken({})
                if taken is not None:
                    raise taken
                raise ClusterError(
                    f"{name} exited while the embedded cluster started. "
                    f"Component logs ({cluster_dir() / 'logs'}):\n{log_tail()}"
                )
        time.sleep(0.1)


def serve_dns(
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
