"""Ports of the embedded clusters on this machine, chosen so that two starts never collide.

Left to itself, kwokctl gives each component the first port that is free at
that moment, counting down from 32767: two clusters created at the same moment
(two kernels, or a test beside a learner's kernel, each with its own
``COURSE_STATE_DIR``) get the same ports, and one of them fails to bind. So the
course chooses every port itself and hands them to kwokctl: at random below the
kernel's ephemeral range (outgoing connections never take them), among those
free on 127.0.0.1, and reserved in a registry that every course process of
this user on this machine reads and writes under an exclusive ``flock``. A
reservation lasts until its cluster listens (the caller releases it), its
process exits, or :data:`HOLD` seconds pass. A program of another kind may
still take a port in between: the start notices the failed bind and tries
again on new ports (``_embedded``).

Example:
    >>> ports = allocate(["etcdPort", "dns"], udp={"dns"})  # doctest: +SKIP
    >>> ports  # doctest: +SKIP
    {'etcdPort': 27311, 'dns': 21877}
    >>> release(ports.values())  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pwd
import random
import socket
import time
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path

import psutil

from ..errors import ClusterError, PortInUseError
from ._paths import cache_dir

#: Seconds a reservation lasts at most: longer than any start (kwokctl's is cut at 180 s).
HOLD = 300.0

#: Where ports are chosen: above the well-known and registered-service clutter,
#: below Linux's default ephemeral range (32768-60999, read from /proc when it differs).
RANGE = (20000, 32767)

_random = random.SystemRandom()


def registry_dir() -> Path:
    """Return this user's directory of port reservations, shared by every course process.

    It is the default cache root of the user's real home directory (from the
    password database), not moved by ``HOME``, ``XDG_CACHE_HOME`` or
    ``COURSE_CACHE_DIR``, which tests and Binder's launch change: ports are a
    machine-wide resource, so every course process must read the same registry.
    A user whose home is missing or read-only (a system account, some
    containers) keeps it in the course's cache directory instead.
    """
    try:
        home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    except KeyError:  # a uid without a passwd entry (some containers)
        home = None
    if home is not None:
        path = home / ".cache" / "k8s-workloads-course" / "ports"
        try:
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
            return path
        except OSError:
            pass
    path = cache_dir() / "ports"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def is_free(port: int, udp: bool = False) -> bool:
    """Return True when TCP (and with ``udp``, UDP) ``port`` can be bound on 127.0.0.1 now.

    TCP is bound as the servers bind it (``SO_REUSEADDR``), so a port that only
    has connections in TIME_WAIT counts as free, as it is for them; UDP without
    it, which would share a port with a socket that set it too.
    """
    kinds = (socket.SOCK_STREAM, socket.SOCK_DGRAM) if udp else (socket.SOCK_STREAM,)
    for kind in kinds:
        with socket.socket(socket.AF_INET, kind) as sock:
            if kind == socket.SOCK_STREAM:
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
    if not is_free(port):
        raise PortInUseError(
            f"Port {port} on 127.0.0.1 ({env_var}) is already in use by another program. "
            f"Stop that program (`ss -ltnp 'sport = :{port}'` shows which), "
            f"or unset {env_var} to let the course pick a free port."
        )
    return port


def _candidates() -> range:
    low, high = RANGE
    with contextlib.suppress(OSError, ValueError, IndexError):
        ephemeral = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        high = min(high, int(ephemeral[0]) - 1)
    if high - low < 1000:  # an unusual ephemeral range: keep ours whole
        low, high = RANGE
    return range(low, high + 1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _registry(where: Path | None) -> Iterator[dict[str, dict[str, object]]]:
    """Yield the live reservations under the lock; what the block leaves in it is saved."""
    folder = where or registry_dir()
    with open(folder / "ports.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            path = folder / "ports.json"
            try:
                table = json.loads(path.read_text())
            except (OSError, ValueError):
                table = {}
            now = time.time()
            live = {
                port: entry
                for port, entry in table.items()
                if isinstance(entry, dict)
                and float(entry.get("until", 0)) > now
                and _alive(int(entry.get("pid", 0)))
            }
            yield live
            scratch = path.with_suffix(".tmp")
            scratch.write_text(json.dumps(live, indent=1, sort_keys=True) + "\n")
            scratch.replace(path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def allocate(
    names: Iterable[str],
    udp: Collection[str] = (),
    fixed: Mapping[str, int] | None = None,
    owner: str = "",
    registry: Path | None = None,
) -> dict[str, int]:
    """Choose and reserve a distinct free port on 127.0.0.1 for each name.

    Args:
        names: what each port is for (kwokctl option names, ``"dns"``...).
        udp: the names whose port must be free for UDP too (CoreDNS).
        fixed: ports already decided (``COURSE_APISERVER_PORT``...): kept and reserved.
        owner: who reserves them (a state directory), written beside them for a reader.
        registry: the registry's directory; :func:`registry_dir` unless given.

    Returns:
        ``{name: port}``; release them with :func:`release` once their servers listen.

    Raises:
        ClusterError: no free port was found.

    Example:
        >>> allocate(["kwokControllerPort"])  # doctest: +SKIP
        {'kwokControllerPort': 24013}
    """
    chosen: dict[str, int] = {}
    fixed = fixed or {}
    with _registry(registry) as table:
        taken = {int(port) for port in table} | set(fixed.values())
        candidates = _candidates()
        for name in names:
            port = fixed.get(name) or _pick(candidates, taken, name in udp)
            taken.add(port)
            chosen[name] = port
            _note(table, port, name, owner)
    return chosen


def reserve(ports: Mapping[str, int], owner: str = "", registry: Path | None = None) -> None:
    """Reserve ports already decided (a stopped cluster's, while it starts again).

    Other course processes choosing ports meanwhile skip them; release them
    with :func:`release` once their servers listen.
    """
    with _registry(registry) as table:
        for name, port in ports.items():
            _note(table, port, name, owner)


def _note(table: dict[str, dict[str, object]], port: int, name: str, owner: str) -> None:
    table[str(port)] = {
        "for": name,
        "owner": owner,
        "pid": os.getpid(),
        "until": time.time() + HOLD,
    }


def _pick(candidates: range, taken: set[int], udp: bool) -> int:
    for _ in range(200):
        port = _random.choice(candidates)
        if port not in taken and is_free(port, udp):
            return port
    raise ClusterError(
        f"Could not find a free port on 127.0.0.1 between {candidates.start} and "
        f"{candidates.stop - 1} for the embedded cluster: close some programs and try again."
    )


def release(ports: Iterable[int], registry: Path | None = None) -> None:
    """Drop this process's reservations of ``ports`` (their servers listen now, or gave up)."""
    mine = {str(port) for port in ports}
    with _registry(registry) as table:
        for port in mine & set(table):
            if table[port].get("pid") == os.getpid():
                del table[port]


def listening(pid: int, port: int) -> bool:
    """Return True when process ``pid`` itself listens on TCP ``port``.

    Not merely that the port answers: another program may hold it while the
    course's process failed to bind it.
    """
    try:
        connections = psutil.Process(pid).net_connections(kind="tcp")
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in connections)
