"""Lifecycle of a throw-away embedded cluster in its own state directory.

The shared test cluster is left alone: every command here runs with its own
COURSE_STATE_DIR, reusing the built binaries.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client as k8s

import course_helpers as ch
from course_helpers.cluster._paths import state_dir
from course_helpers.kube._namespaces import managed_namespaces
from course_helpers.kube._session import api_client

pytestmark = pytest.mark.integration


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "course_helpers.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def own_state(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {**os.environ, "COURSE_STATE_DIR": str(tmp_path / "state")}
    env.pop("COURSE_KUBECONFIG", None)
    yield env
    _cli(env, "down")


def _pids(state: Path) -> list[int]:
    files = [*(state / "kwok/clusters/course/pids").glob("*.pid"), state / "coredns/coredns.pid"]
    return [int(f.read_text()) for f in files if f.exists()]


def test_dead_cluster_is_resumed_and_down_twice_is_harmless(own_state: dict[str, str]) -> None:
    state = Path(own_state["COURSE_STATE_DIR"])
    first = _cli(own_state, "up", "--nodes", "1")
    assert first.returncode == 0, first.stderr
    assert "embedded cluster ready" in first.stdout
    pids = _pids(state)
    assert len(pids) == 6  # etcd, apiserver, controller-manager, scheduler, kwok, coredns
    for pid in pids:
        os.kill(pid, signal.SIGKILL)

    status = _cli(own_state, "status")
    assert status.returncode == 1
    assert "not running" in status.stdout and "resumes it" in status.stdout

    again = _cli(own_state, "up", "--nodes", "1")
    assert again.returncode == 0, again.stderr
    assert "resuming it with its data" in again.stdout, again.stdout
    assert _cli(own_state, "status").returncode == 0
    assert set(_pids(state)).isdisjoint(pids)

    down = _cli(own_state, "down")
    assert down.returncode == 0 and "stopped and deleted" in down.stdout, down.stdout
    assert "it held no course namespaces" in down.stdout
    assert not (state / "kwok/clusters/course").exists()
    twice = _cli(own_state, "down")
    assert twice.returncode == 0 and "no embedded cluster to delete" in twice.stdout
    assert _cli(own_state, "status").returncode == 1


def test_everything_listens_on_loopback_only(cluster: ch.ClusterInfo) -> None:
    pids = set(_pids(state_dir()))
    assert pids, "the shared test cluster should be running"
    listening = subprocess.run(
        ["ss", "-Hltnup"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    ours = [line for line in listening if any(f"pid={pid}," in line for pid in pids)]
    assert ours, "no listening sockets found for the cluster's processes"
    for line in ours:
        local = line.split()[4]
        assert local.startswith("127.0.0.1:"), line


def test_helpers_refuse_namespaces_they_did_not_create(cluster: ch.ClusterInfo) -> None:
    core = k8s.CoreV1Api(api_client())
    core.create_namespace({"metadata": {"name": "not-the-course"}})
    try:
        with pytest.raises(ch.ClusterError, match="was not created by the course helpers"):
            ch.apply("job-single", "not-the-course")
        with pytest.raises(ch.ClusterError, match="was not created by the course helpers"):
            ch.delete("Job", "anything", "not-the-course")
        assert "not-the-course" not in managed_namespaces()
        names = [n.metadata.name for n in core.list_namespace().items]
        assert "not-the-course" in names
    finally:
        core.delete_namespace("not-the-course")


def test_bad_manifest_leaves_the_cluster_untouched(namespace: str) -> None:
    two_docs = (
        ch.manifest("job-fixed-completions")
        + "\n---\n"
        + "apiVersion: batch/v1\nkind: Job\nmetadata: {}\n"
    )
    with pytest.raises(ch.ManifestError, match=r"document 2 .* missing metadata\.name"):
        ch.apply(two_docs, namespace)
    assert ch.get("Job", "render-frames", namespace) is None


def test_applying_twice_is_harmless(namespace: str) -> None:
    first = ch.apply("statefulset-web", namespace)
    second = ch.apply("statefulset-web", namespace)
    assert [o["metadata"]["uid"] for o in first] == [o["metadata"]["uid"] for o in second]
