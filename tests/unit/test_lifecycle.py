"""The embedded cluster's life without a cluster: launches never build, zones, saved copies."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from course_helpers.cluster import _backup, _embedded, _embedded_kwokctl, _embedded_resume, _ports
from course_helpers.cluster._process import is_ours
from course_helpers.errors import BinaryError
from course_helpers.kube import _session

# Stands in for the Go toolchain: any call to it is a build, which a launch must never start.
FAKE_GO = """#!/bin/sh
echo "go $*" >> "$(dirname "$0")/go-was-called"
exit 1
"""


@pytest.fixture
def no_binaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty binaries cache, a `go` that records calls, and nothing else of ours on PATH."""
    fake_bin = tmp_path / "fakebin"
    fake_bin.mkdir()
    go = fake_bin / "go"
    go.write_text(FAKE_GO)
    go.chmod(0o755)
    for name in list(os.environ):
        if name.startswith(("KWOK_", "COURSE_", "BINDER_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}/usr/bin{os.pathsep}/bin")
    return fake_bin


def test_up_never_builds_and_says_to_install(no_binaries: Path) -> None:
    with pytest.raises(BinaryError) as error:
        _embedded.up(log=lambda _m: None)
    message = str(error.value)
    assert "binaries are not built" in message
    assert "kube-apiserver" in message
    assert "Run `course-cluster install`" in message
    assert not (no_binaries / "go-was-called").exists(), "starting the cluster ran go"
    assert not _embedded.cluster_dir().exists()


def test_on_binder_the_message_says_to_rebuild_the_image(
    no_binaries: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BINDER_LAUNCH_HOST", "https://binder.example.invalid/")
    with pytest.raises(BinaryError, match=r"Binder image .* build failed.*Rebuild the image"):
        _embedded.up(log=lambda _m: None)
    assert not (no_binaries / "go-was-called").exists()


def test_connect_never_builds(no_binaries: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_CLUSTER", "embedded")
    with pytest.raises(BinaryError, match="course-cluster install"):
        _session.connect(log=lambda _m: None)
    assert not (no_binaries / "go-was-called").exists()


def _course_cluster(command: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run ``course-cluster COMMAND`` from this checkout, as a learner's shell would."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run(
        [sys.executable, "-m", "course_helpers.cli", command],
        env=env,
        text=True,
        timeout=120,
        check=False,
        **kwargs,
    )


def test_course_cluster_up_never_builds(no_binaries: Path) -> None:
    proc = _course_cluster("up", capture_output=True)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "binaries are not built" in proc.stderr
    assert "course-cluster install" in proc.stderr
    assert not (no_binaries / "go-was-called").exists()


def test_controller_manager_runs_in_utc_whatever_the_learners_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COURSE_STATE_DIR", str(tmp_path / "state"))
    options = next(yaml.safe_load_all(_embedded_kwokctl.config_file().read_text()))
    patches = {p["name"]: p for p in options["componentsPatches"]}
    assert patches["kube-controller-manager"]["extraEnvs"] == [{"name": "TZ", "value": "UTC"}]


def _fake_controller_manager(env_tz: str | None) -> subprocess.Popen[bytes]:
    """A process that looks like ours (its command line names the cluster directory)."""
    env = {k: v for k, v in os.environ.items() if k != "TZ"}
    if env_tz is not None:
        env["TZ"] = env_tz
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)", str(_embedded.cluster_dir())],
        env=env,
    )
    pids = _embedded.cluster_dir() / "pids"
    pids.mkdir(parents=True, exist_ok=True)
    (pids / "kube-controller-manager.pid").write_text(str(proc.pid))
    deadline = time.monotonic() + 10
    while not is_ours(proc.pid, _embedded.cluster_dir()):  # until it has exec'd
        assert time.monotonic() < deadline, "the stand-in process did not start"
        time.sleep(0.01)
    return proc


@pytest.mark.parametrize(("tz", "zone"), [("UTC", "UTC"), (":Europe/Berlin", "Europe/Berlin")])
def test_cronjob_zone_is_read_from_the_controller_managers_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tz: str, zone: str
) -> None:
    monkeypatch.setenv("COURSE_STATE_DIR", str(tmp_path / "state"))
    assert _embedded.cronjob_zone() is None, "no controller-manager: unknown"
    proc = _fake_controller_manager(tz)
    try:
        assert _embedded.cronjob_zone() == zone
    finally:
        proc.kill()
        proc.wait()
    assert _embedded.cronjob_zone() is None, "a dead pid says nothing"


def test_cronjob_zone_without_tz_is_the_local_zone_so_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COURSE_STATE_DIR", str(tmp_path / "state"))
    proc = _fake_controller_manager(None)
    try:
        assert _embedded.cronjob_zone() is None
    finally:
        proc.kill()
        proc.wait()


def test_cluster_info_says_which_zone_cronjobs_use() -> None:
    base: dict[str, Any] = {
        "context": "c",
        "server": "s",
        "version": "v",
        "embedded": True,
        "simulated": True,
        "can_add_nodes": True,
        "dns": "d",
    }
    assert "CronJob time zone: UTC" in str(_session.ClusterInfo(**base, cronjob_zone="UTC"))
    own = str(_session.ClusterInfo(**base))
    assert "CronJob time zone: the controller-manager's local zone (unknown here)" in own


def _obj(kind: str, **extra: Any) -> dict[str, Any]:
    meta = {
        "name": "x",
        "namespace": "course-lab",
        "uid": "1234",
        "resourceVersion": "99",
        "creationTimestamp": "2026-01-01T00:00:00Z",
        "managedFields": [{}],
        "labels": {"app": "x"},
    }
    return {"apiVersion": "v1", "kind": kind, "metadata": meta, "status": {"x": 1}, **extra}


def test_saved_objects_lose_identity_status_and_bindings() -> None:
    cm = _backup._clean("ConfigMap", _obj("ConfigMap", data={"k": "v"}))
    assert cm == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "x", "namespace": "course-lab", "labels": {"app": "x"}},
        "data": {"k": "v"},
    }
    svc = _backup._clean("Service", _obj("Service", spec={"clusterIP": "10.96.0.9", "ports": []}))
    assert svc["spec"] == {"ports": []}
    headless = _backup._clean("Service", _obj("Service", spec={"clusterIP": "None"}))
    assert headless["spec"] == {"clusterIP": "None"}, "a headless Service must stay headless"
    pvc = _obj("PersistentVolumeClaim", spec={"volumeName": "pv-1", "resources": {}})
    pvc["metadata"]["annotations"] = {"pv.kubernetes.io/bind-completed": "yes", "mine": "1"}
    cleaned = _backup._clean("PersistentVolumeClaim", pvc)
    assert cleaned["spec"] == {"resources": {}}
    assert cleaned["metadata"]["annotations"] == {"mine": "1"}
    uid_labels = {"controller-uid": "1234", "batch.kubernetes.io/controller-uid": "1234"}
    job = _obj(
        "Job",
        spec={
            "selector": {"matchLabels": dict(uid_labels)},
            "template": {"metadata": {"labels": {**uid_labels, "job-name": "x"}}},
        },
    )
    job["metadata"]["labels"].update(uid_labels)
    cleaned = _backup._clean("Job", job)
    assert "selector" not in cleaned["spec"]
    assert cleaned["spec"]["template"]["metadata"]["labels"] == {"job-name": "x"}
    assert cleaned["metadata"]["labels"] == {"app": "x"}


def test_only_the_learners_own_objects_are_saved() -> None:
    assert _backup._worth_saving("ConfigMap", _obj("ConfigMap"))
    owned = _obj("Job")
    owned["metadata"]["ownerReferences"] = [{"kind": "CronJob", "name": "backup"}]
    assert not _backup._worth_saving("Job", owned)
    automatic = _obj("ConfigMap")
    automatic["metadata"]["name"] = "kube-root-ca.crt"
    assert not _backup._worth_saving("ConfigMap", automatic)
    token = _obj("Secret", type="kubernetes.io/service-account-token")
    assert not _backup._worth_saving("Secret", token)


def test_ports_taken_while_the_cluster_was_stopped_move_everywhere_they_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COURSE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("COURSE_KUBECONFIG", raising=False)
    monkeypatch.setattr(_ports, "registry_dir", lambda: tmp_path)  # not this machine's
    with socket.socket() as squatter, socket.socket() as spare:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        spare.bind(("127.0.0.1", 0))
        free = spare.getsockname()[1]
        spare.close()  # free now: must stay as it is
        cluster = _embedded.cluster_dir()
        cluster.mkdir(parents=True)
        (cluster / "kwok.yaml").write_text(
            "kind: KwokctlConfiguration\n"
            "components:\n"
            f"- args: [--etcd-servers=http://127.0.0.1:{taken}, --secure-port={taken}]\n"
            f"- args: [--secure-port={free}, --node-port={taken}]\n"
            f"  metricsDiscovery: {{host: 127.0.0.1:{taken}}}\n"
            f"  ports: [{{port: {taken}}}]\n"
            f"options: {{etcdPort: {taken}, kubeApiserverPort: {free}, replicas: {taken}}}\n"
        )
        (cluster / "kubeconfig.yaml").write_text(f"server: https://127.0.0.1:{free}\n")
        messages: list[str] = []
        assert _embedded_resume._move_taken_ports(messages.append)
    text = (cluster / "kwok.yaml").read_text()
    options = next(yaml.safe_load_all(text))["options"]
    moved = options["etcdPort"]
    assert moved != taken and options["kubeApiserverPort"] == free
    assert options["replicas"] == taken, "a number that is not a port must not change"
    assert f"127.0.0.1:{moved}" in text and f"127.0.0.1:{taken}" not in text
    assert f"port: {moved}" in text
    assert f"--secure-port={moved}" in text and f"--node-port={moved}" in text
    assert f"--secure-port={free}" in text
    assert (cluster / "kubeconfig.yaml").read_text() == f"server: https://127.0.0.1:{free}\n"
    assert messages == [
        f"ports of the embedded cluster taken by another program meanwhile: "
        f"moved {taken} -> {moved}"
    ]
    assert not _embedded_resume._move_taken_ports(messages.append), "nothing left to move"


def test_course_cluster_status_into_a_closed_pipe_shows_no_traceback(no_binaries: Path) -> None:
    """`course-cluster status | head -1`: the reader leaves before the lines are written."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write the command makes fails with EPIPE, deterministically
    try:
        proc = _course_cluster("status", stdout=write_end, stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr, proc.stderr
