"""binder/start on a fresh launch and on a second launch with the cluster already up.

Runs the script as Binder does (``binder/start <jupyter command>``) with a
stand-in for JupyterLab, a HOME and a COURSE_STATE_DIR of its own; the built
binaries are reused through COURSE_CACHE_DIR. The shared test cluster is left
alone, and the cluster started here is stopped at the end.
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

from course_helpers.cluster._paths import cache_dir

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
START = REPO / "binder" / "start"

# Stands in for `jupyter lab ...`: records its arguments and what it was given.
STAND_IN = """
import json, os, sys
with open(sys.argv[1], "w") as out:
    json.dump({"args": sys.argv[2:], "KUBECONFIG": os.environ.get("KUBECONFIG"),
               "PATH": os.environ["PATH"]}, out)
"""

# What a notebook does: connect() as the kernel would, with the kernel's environment.
CONNECT = """
import json
import course_helpers as ch
from course_helpers.cluster import _embedded
info = ch.connect(log=lambda m: print("log:", m))
print(json.dumps({"embedded": info.embedded, "server": info.server, "nodes": info.nodes,
                  "kubeconfig": str(_embedded.kubeconfig_path())}))
"""


def _run(env: dict[str, str], *cmd: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(cmd), env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def launch_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A clean launch environment: own HOME and state, the real binaries cache."""
    binaries = str(cache_dir())  # read with the real HOME, before it is replaced
    home = tmp_path / "home"
    home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COURSE_", "KUBECONFIG", "XDG_", "KWOK_"))
    }
    env.update(
        HOME=str(home),
        COURSE_STATE_DIR=str(tmp_path / "state"),
        COURSE_CACHE_DIR=binaries,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    yield env
    _run(env, sys.executable, "-m", "course_helpers.cli", "down", timeout=180)


def _launch(env: dict[str, str], record: Path) -> dict[str, object]:
    cmd = [str(START), sys.executable, "-c", STAND_IN, str(record), "--ip=0.0.0.0", "lab"]
    started = time.monotonic()
    proc = _run(env, *cmd, timeout=60)
    assert proc.returncode == 0, proc.stderr
    # The cluster starts in the background: the command must not wait for it.
    assert time.monotonic() - started < 20, "binder/start waited for the cluster"
    recorded: dict[str, object] = json.loads(record.read_text())
    return recorded


def _wait_for_log(log: Path, ended: int, timeout: float = 180) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text() if log.exists() else ""
        if text.count("== course-cluster up exited") >= ended:
            return text
        time.sleep(0.5)
    raise AssertionError(f"course-cluster up did not finish; {log}:\n{text[-3000:]}")


def _pids(state: Path) -> set[int]:
    files = [*(state / "kwok/clusters/course/pids").glob("*.pid"), state / "coredns/coredns.pid"]
    return {int(f.read_text()) for f in files if f.exists()}


def test_start_brings_the_cluster_up_and_a_second_launch_reuses_it(
    launch_env: dict[str, str], tmp_path: Path
) -> None:
    state = Path(launch_env["COURSE_STATE_DIR"])
    log = state / "binder-start.log"
    kubeconfig = state / "kubeconfig"
    for_kubectl = state / "kubectl" / "kubeconfig"

    first = _launch(launch_env, tmp_path / "first.json")
    assert first["args"] == ["--ip=0.0.0.0", "lab"], "the stand-in did not get its arguments"
    assert first["KUBECONFIG"] == str(for_kubectl)

    text = _wait_for_log(log, ended=1)
    assert "== course-cluster up exited with status 0" in text, text
    assert "embedded cluster ready" in text, text
    status = _run(launch_env, sys.executable, "-m", "course_helpers.cli", "status")
    assert status.returncode == 0, status.stdout + status.stderr

    # The kubeconfig is where connect() looks, and its current context is the cluster.
    config = yaml.safe_load(kubeconfig.read_text())
    assert config["current-context"] == "kwok-course"
    # A terminal's kubectl: the pinned one, first on PATH, with only the cluster's context.
    kubectl_dir = Path(str(first["PATH"]).split(os.pathsep)[0])
    assert os.listdir(kubectl_dir) == ["kubectl"], first["PATH"]
    terminal = {**launch_env, "PATH": str(first["PATH"]), "KUBECONFIG": str(for_kubectl)}
    contexts = _run(terminal, "kubectl", "config", "get-contexts", "-o", "name")
    assert contexts.stdout.split() == ["kwok-course"], contexts.stderr
    version = _run(terminal, "kubectl", "version", "-o", "json")
    assert '"gitVersion": "v1.36.1"' in version.stdout, version.stdout + version.stderr

    # A kernel with the launch's environment (KUBECONFIG, no COURSE_CLUSTER) reuses it.
    kernel_env = {**launch_env, "KUBECONFIG": str(first["KUBECONFIG"])}
    connected = _run(kernel_env, sys.executable, "-c", CONNECT)
    assert connected.returncode == 0, connected.stderr
    info = json.loads(connected.stdout.strip().splitlines()[-1])
    assert info["embedded"] is True
    assert info["kubeconfig"] == str(kubeconfig)
    assert info["nodes"] == ["worker-1", "worker-2", "worker-3"]
    assert "embedded cluster already running" in connected.stdout
    pids = _pids(state)
    server = json.loads((state / "cluster.json").read_text())["server"]

    # Second launch (a restarted server, say) with the cluster up: nothing breaks.
    second = _launch(launch_env, tmp_path / "second.json")
    assert second["args"] == ["--ip=0.0.0.0", "lab"]
    assert second["KUBECONFIG"] == str(for_kubectl)
    text = _wait_for_log(log, ended=2)
    assert text.count("== course-cluster up exited with status 0") == 2, text
    assert "embedded cluster already running" in text.split("binder/start")[-1], text
    assert _run(launch_env, sys.executable, "-m", "course_helpers.cli", "status").returncode == 0
    assert _pids(state) == pids, "the second launch replaced the running cluster"
    assert json.loads((state / "cluster.json").read_text())["server"] == server


FAKE_GO = """#!/bin/sh
echo "go $*" >> "$(dirname "$0")/go-was-called"
exit 1
"""


def test_a_launch_without_binaries_never_builds_and_says_why(
    launch_env: dict[str, str], tmp_path: Path
) -> None:
    """An image whose build lost the binaries: the launch logs why, connect() says what to do."""
    fake_bin = tmp_path / "fakebin"
    fake_bin.mkdir()
    (fake_bin / "go").write_text(FAKE_GO)
    (fake_bin / "go").chmod(0o755)
    env = {
        **launch_env,
        "COURSE_CACHE_DIR": str(tmp_path / "empty-cache"),
        "PATH": f"{fake_bin}{os.pathsep}{launch_env['PATH']}",
        "BINDER_LAUNCH_HOST": "https://binder.example.invalid/",
    }
    state = Path(env["COURSE_STATE_DIR"])
    recorded = _launch(env, tmp_path / "launch.json")
    assert recorded["args"] == ["--ip=0.0.0.0", "lab"], "JupyterLab must start anyway"
    text = _wait_for_log(state / "binder-start.log", ended=1, timeout=60)
    assert "== course-cluster up exited with status 2" in text, text
    assert "binaries are not built" in text and "Rebuild the image" in text, text
    assert not (state / "kwok/clusters/course").exists()

    kernel = _run(env, sys.executable, "-c", "import course_helpers as ch; ch.connect()")
    assert kernel.returncode != 0
    assert "BinaryError" in kernel.stderr and "Rebuild the image" in kernel.stderr, kernel.stderr
    assert not (fake_bin / "go-was-called").exists(), "a launch ran the Go toolchain"
