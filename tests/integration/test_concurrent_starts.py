"""Two embedded clusters started at the same moment on one machine both come up.

Two ``course-cluster up`` processes, each with a COURSE_STATE_DIR of its own
(as two kernels, or a test beside a learner's kernel), wait for the same
instant and start together. Left to kwokctl, both chose the same ports (it
takes the first free one counting down from 32767) and one cluster's nodes
never became Ready. The shared test cluster is left alone; both clusters are
deleted at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]

# `course-cluster up`, started at an agreed instant (after the imports, which take a while).
UP_AT = """
import sys, time
from course_helpers import cli
while time.time() < float(sys.argv[1]):
    time.sleep(0.001)
sys.exit(cli.main(["up", "--nodes", "1"]))
"""


# `course-cluster up` where another program takes kwok-controller's port the moment the
# course has chosen it (the race no registry can prevent): the start must say so and retry.
UP_WITH_SQUATTER = """
import socket, sys
from course_helpers import cli
from course_helpers.cluster import _ports
choose, squatters = _ports.allocate, []
def allocate(names, *args, **kwargs):
    ports = choose(names, *args, **kwargs)
    if not squatters and "kwokControllerPort" in ports:
        squatter = socket.socket()
        squatter.bind(("127.0.0.1", ports["kwokControllerPort"]))
        squatter.listen()
        squatters.append(squatter)
        print("squatting on", ports["kwokControllerPort"], flush=True)
    return ports
_ports.allocate = allocate
sys.exit(cli.main(["up", "--nodes", "1"]))
"""


def _env(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COURSE_", "KUBECONFIG"))}
    env.update(COURSE_STATE_DIR=str(state), COURSE_CLUSTER="embedded", PYTHONPATH=str(REPO))
    return env


@pytest.fixture
def states(tmp_path: Path) -> Iterator[list[Path]]:
    paths = [tmp_path / "a" / "state", tmp_path / "b" / "state"]
    yield paths
    for state in paths:  # also after a failed start: no process may outlive the test
        subprocess.run(
            [sys.executable, "-m", "course_helpers.cli", "down"],
            env=_env(state),
            capture_output=True,
            timeout=180,
            check=False,
        )


def _ports(state: Path) -> dict[str, int]:
    kwok = state / "kwok" / "clusters" / "course" / "kwok.yaml"
    options = next(yaml.safe_load_all(kwok.read_text()))["options"]
    ports = {key: int(value) for key, value in options.items() if key.endswith("Port") and value}
    ports.pop("securePort", None)
    ports["dns"] = json.loads((state / "cluster.json").read_text())["dns_port"]
    return ports


def _ready_nodes(state: Path) -> list[str]:
    api = k8s_config.new_client_from_config(config_file=str(state / "kubeconfig"))
    try:
        nodes = k8s.CoreV1Api(api).list_node(_request_timeout=10).items
    finally:
        api.close()
    return [
        n.metadata.name
        for n in nodes
        if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])
    ]


def test_two_clusters_started_at_the_same_moment_both_come_up(states: list[Path]) -> None:
    at = time.time() + 5  # both processes have imported everything by then
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", UP_AT, str(at)],
            env=_env(state),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for state in states
    ]
    outputs = [p.communicate(timeout=400)[0] for p in procs]
    for proc, out in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, out
        assert "embedded cluster ready" in out, out

    first, second = (_ports(state) for state in states)
    assert len(first) == len(second) == 7, (first, second)  # etcd x2, 4 components, DNS
    assert set(first.values()).isdisjoint(second.values()), (first, second)
    for state in states:
        assert _ready_nodes(state) == ["worker-1"]


def test_a_port_taken_as_the_cluster_starts_is_reported_and_the_start_retried(
    states: list[Path],
) -> None:
    state = states[0]
    proc = subprocess.run(
        [sys.executable, "-c", UP_WITH_SQUATTER],
        env=_env(state),
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    squatted = int(out.split("squatting on ", 1)[1].split()[0])
    assert f"port {squatted} was taken by another program" in out, out
    assert "starting it again on new ports" in out, out
    assert "embedded cluster ready" in out, out
    assert _ports(state)["kwokControllerPort"] != squatted
    assert _ready_nodes(state) == ["worker-1"]
