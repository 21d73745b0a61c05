"""The port allocator: distinct, free, reserved across processes, released, never stale.

Each test has a registry of its own (``tmp_path``), so nothing here touches the
reservations of the clusters running on this machine.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from course_helpers.cluster import _embedded, _embedded_kwokctl, _ports

REPO = Path(__file__).resolve().parents[2]

# One course process choosing ports at the same moment as the others (a kernel, a test).
ALLOCATE = """
import json, sys, time
from pathlib import Path
from typing import Any
from course_helpers.cluster import _ports
_ports.RANGE = (int(sys.argv[2]), int(sys.argv[3]))
while time.time() < float(sys.argv[4]):  # all start together
    pass
ports = _ports.allocate([f"p{i}" for i in range(5)], udp={"p0"}, registry=Path(sys.argv[1]))
print(json.dumps(sorted(ports.values())), flush=True)
sys.stdin.read()  # alive, as a starting cluster is, until the test is done
"""


def _free_range(size: int) -> tuple[int, int]:
    """Return a run of ``size`` ports below the ephemeral range that are all free now."""
    for low in range(23000, 32000, size):
        if all(_ports.is_free(p, udp=True) for p in range(low, low + size)):
            return low, low + size - 1
    pytest.skip("no run of free ports on this machine")


def test_ports_are_distinct_free_and_below_the_ephemeral_range(tmp_path: Path) -> None:
    names = ["etcdPort", "etcdPeerPort", "kubeApiserverPort", "dns"]
    ports = _ports.allocate(names, udp={"dns"}, registry=tmp_path)
    assert list(ports) == names
    assert len(set(ports.values())) == len(names)
    low, high = [int(n) for n in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()]
    for port in ports.values():
        assert _ports.RANGE[0] <= port < low or port > high
        assert _ports.is_free(port, udp=True)


def test_a_port_in_use_is_never_chosen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    low, high = _free_range(5)
    monkeypatch.setattr(_ports, "RANGE", (low, high))
    with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        tcp.bind(("127.0.0.1", low))
        tcp.listen()
        udp.bind(("127.0.0.1", low + 1))  # taken for UDP only: fine for TCP, not for DNS
        ports = _ports.allocate(["a", "b", "dns"], udp={"dns"}, registry=tmp_path)
    assert low not in ports.values()
    assert ports["dns"] != low + 1
    assert set(ports.values()) <= set(range(low, high + 1))


def test_reserved_ports_are_skipped_until_released(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    low, high = _free_range(4)
    monkeypatch.setattr(_ports, "RANGE", (low, high))
    first = _ports.allocate(["a", "b"], registry=tmp_path)
    second = _ports.allocate(["c", "d"], registry=tmp_path)
    assert set(first.values()).isdisjoint(second.values())
    with pytest.raises(_ports.ClusterError, match="Could not find a free port"):
        _ports.allocate(["e"], registry=tmp_path)  # all four are reserved, though free
    _ports.release(first.values(), registry=tmp_path)
    assert set(_ports.allocate(["e", "f"], registry=tmp_path).values()) == set(first.values())


def test_fixed_ports_are_kept_and_reserved(tmp_path: Path) -> None:
    fixed = _ports.allocate(["x"], registry=tmp_path)["x"]
    _ports.release([fixed], registry=tmp_path)
    ports = _ports.allocate(
        ["kubeApiserverPort", "y"], fixed={"kubeApiserverPort": fixed}, registry=tmp_path
    )
    assert ports["kubeApiserverPort"] == fixed and ports["y"] != fixed
    table = json.loads((tmp_path / "ports.json").read_text())
    assert table[str(fixed)]["for"] == "kubeApiserverPort"
    assert table[str(fixed)]["pid"] == os.getpid()


def test_reservations_of_exited_processes_and_old_ones_are_dropped(tmp_path: Path) -> None:
    exited = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(exited.stdout)
    table = {
        "23001": {"for": "a", "owner": "", "pid": dead_pid, "until": time.time() + 100},
        "23002": {"for": "b", "owner": "", "pid": os.getpid(), "until": time.time() - 1},
        "23003": {"for": "c", "owner": "", "pid": os.getpid(), "until": time.time() + 100},
    }
    (tmp_path / "ports.json").write_text(json.dumps(table))
    _ports.reserve({"d": 23004}, registry=tmp_path)
    assert set(json.loads((tmp_path / "ports.json").read_text())) == {"23003", "23004"}


def test_another_processs_reservation_is_not_released(tmp_path: Path) -> None:
    table = {"23005": {"for": "a", "owner": "", "pid": os.getppid(), "until": time.time() + 100}}
    (tmp_path / "ports.json").write_text(json.dumps(table))
    _ports.release([23005], registry=tmp_path)
    assert "23005" in json.loads((tmp_path / "ports.json").read_text())


def test_processes_choosing_at_the_same_moment_get_distinct_ports(tmp_path: Path) -> None:
    # 6 processes x 5 ports from 40: without the registry's lock, random choices collide.
    low, high = _free_range(40)
    start = time.time() + 2.0
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ALLOCATE, str(tmp_path), str(low), str(high), str(start)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(6)
    ]
    try:
        chosen = [json.loads(p.stdout.readline()) for p in procs]  # type: ignore[union-attr]
    finally:
        for p in procs:
            p.communicate("", timeout=30)
    every = [port for ports in chosen for port in ports]
    assert len(every) == 30 and len(set(every)) == 30, chosen
    assert all(low <= port <= high for port in every)


def test_a_process_choosing_waits_while_another_holds_the_registry(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    low, high = _free_range(10)
    args = [sys.executable, "-c", ALLOCATE, str(tmp_path), str(low), str(high), "0"]
    with open(tmp_path / "ports.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as another process does while it chooses
        proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        try:
            with pytest.raises(subprocess.TimeoutExpired):
                proc.communicate(timeout=3)
            assert not (tmp_path / "ports.json").exists()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    out, _ = proc.communicate("", timeout=30)
    assert len(json.loads(out)) == 5


def test_requested_port_that_is_taken_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("COURSE_APISERVER_PORT", str(port))
        with pytest.raises(_ports.PortInUseError, match=rf"Port {port} .*already in use.*unset"):
            _ports.requested_port("COURSE_APISERVER_PORT")


def test_listening_means_this_process_listens_there() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        assert not _ports.listening(os.getpid(), port), "bound is not listening"
        server.listen()
        assert _ports.listening(os.getpid(), port)
        assert not _ports.listening(os.getppid(), port), "another process does not listen there"


def test_config_hands_kwokctl_every_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_STATE_DIR", str(tmp_path / "state"))
    ports = {key: 24000 + i for i, key in enumerate(_embedded_kwokctl.OPTION_KEYS)}
    options = next(
        yaml.safe_load_all(_embedded_kwokctl.config_file({**ports, "dns": 1}).read_text())
    )
    assert {k: options["options"].get(k) for k in ports} == ports
    assert "dns" not in options["options"], "kwokctl has no CoreDNS: its port is ours"
    assert set(_embedded_kwokctl.OPTION_KEYS) == {
        "etcdPort",
        "etcdPeerPort",
        "kubeApiserverPort",
        "kubeControllerManagerPort",
        "kubeSchedulerPort",
        "kwokControllerPort",
    }


@pytest.mark.parametrize(
    ("component", "line", "port"),
    [
        (
            "etcd",
            '{"level":"fatal","msg":"discovery failed","error":"listen tcp '
            '127.0.0.1:26227: bind: address already in use"}',
            26227,
        ),
        (
            "kwok-controller",
            'level=ERROR msg="Failed to run server" err="listen tcp '
            '127.0.0.1:21233: bind: address already in use"',
            21233,
        ),
        (
            "kube-apiserver",
            "E1202 failed to listen on 127.0.0.1:20486: listen tcp "
            "127.0.0.1:20486: bind: address already in use",
            20486,
        ),
    ],
)
def test_a_failed_bind_in_a_component_log_names_the_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, component: str, line: str, port: int
) -> None:
    monkeypatch.setenv("COURSE_STATE_DIR", str(tmp_path / "state"))
    logs = _embedded.cluster_dir() / "logs"
    logs.mkdir(parents=True)
    (logs / f"{component}.log").write_text("starting\n")
    assert _embedded_kwokctl.port_taken({}) is None
    (logs / f"{component}.log").write_text(f"starting\n{line}\n")
    taken = _embedded_kwokctl.port_taken({})
    assert taken is not None and taken.port == port
    assert str(taken) == (
        f"port {port} was taken by another program "
        f"({component}: listen tcp 127.0.0.1:{port}: bind: address already in use)"
    )


def test_a_user_without_a_writable_home_keeps_the_registry_in_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A system account (Binder-box test's course-learner) has no home directory.
    class Entry:
        pw_dir = str(tmp_path / "missing-home" / "nested")

    (tmp_path / "missing-home").mkdir(mode=0o500)  # cannot create the home under it
    monkeypatch.setattr(_ports.pwd, "getpwuid", lambda uid: Entry())
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    if os.access(tmp_path / "missing-home", os.W_OK):  # root ignores the mode
        monkeypatch.setattr(Path, "mkdir", _refuse_under(tmp_path / "missing-home"))
    assert _ports.registry_dir() == tmp_path / "cache" / "ports"
    assert (tmp_path / "cache" / "ports").is_dir()


def _refuse_under(root: Path) -> Any:
    real = Path.mkdir

    def mkdir(self: Path, *args: Any, **kwargs: Any) -> None:
        if self.is_relative_to(root):
            raise PermissionError(13, "Permission denied", str(self))
        real(self, *args, **kwargs)

    return mkdir
