"""A learner's work survives a crash, a reboot, a kernel restart and ``course-cluster stop``.

One throw-away embedded cluster in its own COURSE_STATE_DIR (the shared test
cluster is left alone), started by ``course-cluster up`` with the learner's
TZ set to a zone far from UTC. Every test writes a ConfigMap into a course
namespace from a "kernel" (a fresh Python process calling ``ch.connect()``,
``ch.namespace()`` and ``ch.apply()``), does the damage, and checks from
another fresh kernel that ``ch.connect()`` brings the object back. Tests do
not depend on each other's order: each starts with a ``connect()``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

import course_helpers as ch
from course_helpers.cluster._process import is_ours, kill_if_ours

pytestmark = pytest.mark.integration

#: The learner's zone: five and a half hours from UTC, no daylight saving.
LEARNER_TZ = "Asia/Kolkata"

WRITE = """
import sys
import course_helpers as ch
ch.connect(nodes=1, log=lambda m: print("log:", m, flush=True))
ns = ch.namespace(sys.argv[1])
ch.apply(f'''
apiVersion: v1
kind: ConfigMap
metadata:
  name: lab-notes
data:
  answer: "{sys.argv[2]}"
''', ns)
print("written", flush=True)
if len(sys.argv) > 3:  # stay alive, like a kernel, until killed
    import time
    time.sleep(600)
"""

READ = """
import json, sys, time
import course_helpers as ch
started = time.monotonic()
info = ch.connect(nodes=1, log=lambda m: print("log:", m, flush=True))
seconds = time.monotonic() - started
cm = ch.get("ConfigMap", "lab-notes", "course-" + sys.argv[1])
print(json.dumps({"data": cm and cm.get("data"), "seconds": seconds,
                  "zone": info.cronjob_zone, "dns_port": info.dns_port}))
"""

POD_READY = """
import sys
import course_helpers as ch
ch.connect(nodes=1, log=lambda m: None)
ns = ch.namespace(sys.argv[1])
ch.apply('''
apiVersion: v1
kind: Pod
metadata:
  name: probe
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "sleep 3600"]
''', ns)
ch.blocking.wait_for("pod", "probe", ns, "condition=Ready", timeout=60)
print("Ready", flush=True)
"""


def _env(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COURSE_", "KUBECONFIG"))}
    env.update(COURSE_STATE_DIR=str(state), COURSE_CLUSTER="embedded", TZ=LEARNER_TZ)
    return env


def _run(state: Path, *cmd: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(cmd), env=_env(state), capture_output=True, text=True, timeout=timeout, check=False
    )


def _cli(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run(state, sys.executable, "-m", "course_helpers.cli", *args)


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("resilience") / "state"
    try:
        up = _cli(path, "up", "--nodes", "1")
        assert up.returncode == 0, up.stdout + up.stderr
        yield path
    finally:  # also when the start failed half-way: no process may outlive the tests
        _cli(path, "down")


def _pids(state: Path) -> dict[str, int]:
    files = [*(state / "kwok/clusters/course/pids").glob("*.pid"), state / "coredns/coredns.pid"]
    return {f.stem: int(f.read_text()) for f in files if f.exists()}


def _kill(state: Path, names: list[str]) -> None:
    """SIGKILL the named processes of this cluster (as a crash or a reboot does)."""
    pids = _pids(state)
    for name in names:
        assert kill_if_ours(pids[name], state, signal=signal.SIGKILL), f"{name} was not running"
    deadline = time.monotonic() + 10
    while any(is_ours(pids[n], state) for n in names) and time.monotonic() < deadline:
        time.sleep(0.05)


def _pod_ready(state: Path, topic: str) -> None:
    proc = _run(state, sys.executable, "-c", POD_READY, topic)
    kwok_log = (state / "kwok/clusters/course/logs/kwok-controller.log").read_text()[-2000:]
    assert proc.returncode == 0 and "Ready" in proc.stdout, proc.stdout + proc.stderr + kwok_log


def _write(state: Path) -> tuple[str, str]:
    topic, answer = f"resilience-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    proc = _run(state, sys.executable, "-c", WRITE, topic, answer)
    assert proc.returncode == 0 and "written" in proc.stdout, proc.stdout + proc.stderr
    return topic, answer


def _read(state: Path, topic: str) -> tuple[dict[str, object], str]:
    proc = _run(state, sys.executable, "-c", READ, topic)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result, proc.stdout


def test_killed_apiserver_is_restarted_alone_and_the_work_is_there(state: Path) -> None:
    topic, answer = _write(state)
    before = _pids(state)
    _kill(state, ["kube-apiserver"])
    result, log = _read(state, topic)
    assert result["data"] == {"answer": answer}, log
    assert "kube-apiserver not running: starting them again" in log
    assert "resumed" in log and "ready in" not in log, "the cluster was created afresh"
    after = _pids(state)
    assert after["kube-apiserver"] != before["kube-apiserver"]
    unchanged = {n: p for n, p in before.items() if n != "kube-apiserver"}
    assert {n: after[n] for n in unchanged} == unchanged, "only what died is restarted"
    print(f"resume after a killed kube-apiserver: connect() took {result['seconds']:.1f}s")


def test_every_process_killed_as_by_a_reboot_and_the_work_is_there(state: Path) -> None:
    topic, answer = _write(state)
    _kill(state, sorted(_pids(state)))
    status = _cli(state, "status")
    assert status.returncode == 1
    result, log = _read(state, topic)
    assert result["data"] == {"answer": answer}, log
    assert "resuming it with its data" in log and "ready in" not in log, log
    assert "cluster DNS answering" in log, "CoreDNS was not started again"
    assert _cli(state, "status").returncode == 0
    print(f"resume after every process was killed: connect() took {result['seconds']:.1f}s")
    # The new kwok-controller simulates the nodes at once, not when the dead one's
    # node leases expire (200 s): a pod is Ready well within POD_READY's 60 s.
    _pod_ready(state, topic)


def test_a_restarted_kernel_finds_the_work(state: Path) -> None:
    topic, answer = f"resilience-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    kernel = subprocess.Popen(
        [sys.executable, "-c", WRITE, topic, answer, "stay"],
        env=_env(state),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert kernel.stdout is not None
    for line in kernel.stdout:  # until the object is written
        if "written" in line:
            break
    else:
        pytest.fail("the kernel exited before writing its object")
    before = _pids(state)
    kernel.kill()  # what "Restart kernel" or a crashed kernel does
    kernel.wait(timeout=10)
    result, log = _read(state, topic)
    assert result["data"] == {"answer": answer}, log
    assert "already running" in log
    assert _pids(state) == before


def test_stop_keeps_the_data_and_up_resumes_it(state: Path) -> None:
    topic, answer = _write(state)
    stop = _cli(state, "stop")
    assert stop.returncode == 0, stop.stderr
    assert "its data stays in" in stop.stdout and "`course-cluster down` deletes it" in stop.stdout
    assert not any(is_ours(pid, state) for pid in _pids(state).values())
    status = _cli(state, "status")
    assert status.returncode == 1 and "its data is kept" in status.stdout, status.stdout
    up = _cli(state, "up")
    assert up.returncode == 0, up.stdout + up.stderr
    assert "resuming it with its data" in up.stdout and "resumed in" in up.stdout
    result, log = _read(state, topic)
    assert result["data"] == {"answer": answer}, log
    assert "already running" in log


def test_changed_kwok_stages_restart_kwok_controller_alone_and_the_work_is_there(
    state: Path,
) -> None:
    # A course update changed stages.yaml since this cluster was made: the cluster
    # must simulate containers the new way, without losing the learner's objects.
    topic, answer = _write(state)
    (state / "kwok-stages.sha256").write_text("made by an older course\n")
    before = _pids(state)
    result, log = _read(state, topic)
    assert result["data"] == {"answer": answer}, log
    assert "kwok stages) changed" in log and "restarting kwok-controller" in log, log
    assert "resumed in" in log and "ready in" not in log, "the cluster was created afresh"
    after = _pids(state)
    assert after["kwok-controller"] != before["kwok-controller"]
    unchanged = {n: p for n, p in before.items() if n != "kwok-controller"}
    assert {n: after[n] for n in unchanged} == unchanged, "only kwok-controller restarts"
    config = (state / "kwok/clusters/course/kwok.yaml").read_text()
    stages = (Path(ch.__file__).parent / "cluster/kwok/stages.yaml").read_text()
    assert stages.strip() in config, "kwok.yaml does not hold the course's stages"
    result, log = _read(state, topic)
    assert "already running" in log and "kwok stages" not in log, "refreshed twice"
    # kwok-controller runs on the rewritten stages, at once: a pod becomes Ready.
    _pod_ready(state, topic)
    assert is_ours(after["kwok-controller"], state)


def test_unusable_data_gives_a_fresh_cluster_with_the_work_restored(state: Path) -> None:
    topic, answer = _write(state)
    stop = _cli(state, "stop")  # saves a copy of the course namespaces
    assert stop.returncode == 0, stop.stderr
    db = state / "kwok/clusters/course/etcd/member/snap/db"
    assert db.exists()
    db.write_bytes(b"not a bbolt database" * 4096)
    result, log = _read(state, topic)
    assert "THE EMBEDDED CLUSTER COULD NOT BE RESUMED" in log, log
    assert "a fresh cluster is started" in log
    assert f"ConfigMap course-{topic}/lab-notes" in log and "Restored" in log, log
    assert result["data"] == {"answer": answer}, log
    assert (state / "unusable-cluster/etcd/member/snap/db").exists(), "the old data was not kept"
    assert _cli(state, "status").returncode == 0


def test_ports_taken_meanwhile_move_and_the_work_is_there(state: Path) -> None:
    topic, answer = _write(state)
    kwok_yaml = state / "kwok/clusters/course/kwok.yaml"
    etcd_port = int(next(yaml.safe_load_all(kwok_yaml.read_text()))["options"]["etcdPort"])
    assert _cli(state, "stop").returncode == 0
    with socket.socket() as squatter:  # another program took the port meanwhile
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", etcd_port))
        squatter.listen()
        result, log = _read(state, topic)
        assert result["data"] == {"answer": answer}, log
        assert f"moved {etcd_port} -> " in log, log
        assert "resumed" in log and "ready in" not in log, "the cluster was created afresh"
    options = next(yaml.safe_load_all(kwok_yaml.read_text()))["options"]
    assert int(options["etcdPort"]) != etcd_port
    assert f"127.0.0.1:{etcd_port}" not in kwok_yaml.read_text()


def test_kwok_controllers_port_taken_meanwhile_and_kubectl_logs_still_reach_it(
    state: Path,
) -> None:
    kwok_yaml = state / "kwok/clusters/course/kwok.yaml"
    kwok_port = int(
        next(yaml.safe_load_all(kwok_yaml.read_text()))["options"]["kwokControllerPort"]
    )
    assert _cli(state, "stop").returncode == 0
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", kwok_port))
        squatter.listen()
        topic = f"resilience-{uuid.uuid4().hex[:6]}"
        _pod_ready(state, topic)  # resumes the cluster on a new port for kwok-controller
    options = next(yaml.safe_load_all(kwok_yaml.read_text()))["options"]
    assert int(options["kwokControllerPort"]) != kwok_port
    # The nodes advertise the new port, where `kubectl logs` finds kwok's kubelet endpoint.
    kubectl = [
        str(state / "kubectl/bin/kubectl"),
        "--kubeconfig",
        str(state / "kubectl/kubeconfig"),
    ]
    logs = subprocess.run(
        [*kubectl, "logs", "probe", "-n", f"course-{topic}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "connection refused" not in logs.stderr and logs.returncode == 0, logs.stderr


def test_controller_manager_reads_schedules_in_utc_whatever_the_learners_tz(state: Path) -> None:
    """Prove the zone with the real CronJob controller: a daily schedule one minute ahead in UTC."""
    result, log = _read(state, "zone-probe")
    assert result["zone"] == "UTC", log
    kcm = _pids(state)["kube-controller-manager"]
    environ = Path(f"/proc/{kcm}/environ").read_bytes().split(b"\0")
    assert b"TZ=UTC" in environ and f"TZ={LEARNER_TZ}".encode() not in environ
    # The next whole minute at least 20 s away, as a daily "M H * * *" in UTC. In the
    # learner's zone (UTC+5:30) that schedule is 5.5 hours away, so a Job now proves UTC.
    now = datetime.now(UTC)
    fire = (now + timedelta(seconds=80)).replace(second=0, microsecond=0)
    if fire - now > timedelta(seconds=60):
        fire -= timedelta(minutes=1)
    schedule = f"{fire.minute} {fire.hour} * * *"
    script = f"""
import course_helpers as ch
ch.connect(nodes=1, log=lambda m: None)
ns = ch.namespace("zone-probe")
ch.apply('''
apiVersion: batch/v1
kind: CronJob
metadata:
  name: daily
spec:
  schedule: "{schedule}"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{{name: c, image: busybox}}]
''', ns)
found = ch.until("CronJob", ns, lambda cjs: bool(cjs and cjs[0].get("status", {{}})
                 .get("lastScheduleTime")), "the CronJob's first Job", timeout=100)
print(found[0]["status"]["lastScheduleTime"])
"""
    proc = _run(state, sys.executable, "-c", script, timeout=180)
    assert proc.returncode == 0, f"schedule {schedule!r} (UTC) never fired:\n{proc.stderr}"
    fired = proc.stdout.strip().splitlines()[-1]
    assert fired == fire.strftime("%Y-%m-%dT%H:%M:00Z"), fired
