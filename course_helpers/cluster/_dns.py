"""Cluster DNS for the embedded cluster: a local CoreDNS and a resolver for it.

On a real cluster, CoreDNS runs inside the cluster and answers pods. Here it
runs as a local process on 127.0.0.1, reads Services and EndpointSlices from
the embedded API server with its real ``kubernetes`` plugin, and answers the
notebook, so ``web-0.web.<namespace>.svc.cluster.local`` resolves for real.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from ..errors import ClusterError
from . import _binaries
from ._binaries import Log
from ._paths import state_dir
from ._process import is_ours, kill_if_ours

DOMAIN = "cluster.local"


def _dir() -> Path:
    path = state_dir() / "coredns"
    path.mkdir(parents=True, exist_ok=True)
    return path


def corefile(kubeconfig: str, context: str, port: int) -> str:
    """Return the Corefile that serves the cluster domain from the embedded API server."""
    return (
        f".:{port} {{\n"
        "    bind 127.0.0.1\n"
        "    errors\n"
        f"    kubernetes {DOMAIN} in-addr.arpa ip6.arpa {{\n"
        f"        kubeconfig {kubeconfig} {context}\n"
        "        pods insecure\n"
        "        fallthrough in-addr.arpa ip6.arpa\n"
        "    }\n"
        "}\n"
    )


def pid() -> int | None:
    """Return the recorded CoreDNS process id, if any."""
    try:
        return int((_dir() / "coredns.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def _answers(port: int) -> bool:
    query = dns.message.make_query(f"kubernetes.default.svc.{DOMAIN}", dns.rdatatype.A)
    try:
        reply = dns.query.udp(query, "127.0.0.1", port=port, timeout=1.0)
    except (dns.exception.DNSException, OSError):
        return False
    return reply.rcode() == dns.rcode.NOERROR and bool(reply.answer)


def is_running(process_id: int) -> bool:
    """Return True when ``process_id`` is a CoreDNS started from this state directory."""
    return is_ours(process_id, _dir())


def ensure(kubeconfig: str, context: str, port: int, log: Log, timeout: float = 30) -> None:
    """Start CoreDNS on ``port`` unless it already answers there.

    Raises:
        ClusterError: CoreDNS exited or did not answer within ``timeout`` seconds.
    """
    running = pid()
    if running and is_running(running) and _answers(port):
        return
    wait_answering(start(kubeconfig, context, port), port, log, timeout)


def start(kubeconfig: str, context: str, port: int) -> subprocess.Popen[bytes]:
    """Start a CoreDNS process for the cluster domain on ``port`` (replacing a recorded one)."""
    stop()
    binary = _binaries.paths()["coredns"]
    conf = _dir() / "Corefile"
    conf.write_text(corefile(kubeconfig, context, port))
    with open(_dir() / "coredns.log", "w") as out:
        process = subprocess.Popen(
            [str(binary), "-conf", str(conf)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=_dir(),
        )
    (_dir() / "coredns.pid").write_text(f"{process.pid}\n")
    return process


def wait_answering(
    process: subprocess.Popen[bytes], port: int, log: Log, timeout: float = 30
) -> None:
    """Block until CoreDNS answers on ``port``.

    Raises:
        ClusterError: the process exited, or did not answer within ``timeout`` seconds.
    """
    log_file = _dir() / "coredns.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ClusterError(
                f"CoreDNS exited with code {process.returncode}. Its log ({log_file}):\n"
                + log_file.read_text(errors="replace")[-2000:]
            )
        if _answers(port):
            log(f"cluster DNS answering on 127.0.0.1:{port}")
            return
        time.sleep(0.1)
    raise ClusterError(f"CoreDNS did not answer on 127.0.0.1:{port} within {timeout:.0f}s.")


def stop() -> None:
    """Stop the CoreDNS process if one is recorded."""
    running = pid()
    if running and kill_if_ours(running, _dir(), signal=15):
        for _ in range(50):
            if not is_running(running):
                break
            time.sleep(0.05)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(running, os.WNOHANG)
    (_dir() / "coredns.pid").unlink(missing_ok=True)


def resolve(name: str, port: int, timeout: float = 2.0) -> list[str]:
    """Return the A records of ``name`` from the cluster DNS on 127.0.0.1:``port``.

    Example:
        >>> resolve("web-0.web.course-statefulsets.svc.cluster.local", 53053)  # doctest: +SKIP
        ['10.244.2.5']

    Raises:
        ClusterError: the DNS server did not answer.

    """
    query = dns.message.make_query(name, dns.rdatatype.A)
    try:
        reply = dns.query.udp(query, "127.0.0.1", port=port, timeout=timeout)
    except (dns.exception.DNSException, OSError) as exc:
        raise ClusterError(f"The cluster DNS on 127.0.0.1:{port} did not answer: {exc}") from exc
    return sorted(
        item.address for rrset in reply.answer if rrset.rdtype == dns.rdatatype.A for item in rrset
    )
