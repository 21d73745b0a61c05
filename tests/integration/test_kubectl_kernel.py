"""In a real IPython kernel, ``!kubectl`` and ``%%kubectl`` reach the helpers' cluster.

The kernel starts with a user kubeconfig that has another (remote) context as its
current one, and with ``/usr/bin`` (an unrelated old kubectl on these machines) on
PATH. After ``ch.connect()`` its kubectl must be the pinned one and see only the
embedded cluster's context.
"""

from __future__ import annotations

import os
import queue
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import start_new_kernel

import course_helpers as ch
from course_helpers.cluster import _binaries
from course_helpers.kube import _kubectl

pytestmark = pytest.mark.integration


def execute(client: BlockingKernelClient, code: str, timeout: float = 180) -> dict[str, Any]:
    """Run ``code``; return its stdout, stderr, errors and the reply's status."""
    msg_id = client.execute(code)
    out: dict[str, Any] = {"stdout": "", "stderr": "", "errors": []}
    while True:
        try:
            msg = client.get_iopub_msg(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no answer from the kernel for {code!r}: {out}") from None
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            out[content["name"]] += content["text"]
        elif kind == "error":
            out["errors"].append(f"{content['ename']}: {content['evalue']}")
        elif kind == "status" and content["execution_state"] == "idle":
            break
    out["status"] = client.get_shell_msg(timeout=timeout)["content"]["status"]
    return out


@pytest.fixture
def kernel(cluster: ch.ClusterInfo, tmp_path: Path) -> Iterator[BlockingKernelClient]:
    decoy = tmp_path / "user-kubeconfig"
    decoy.write_text(
        yaml.safe_dump(
            {
                "current-context": "prod",
                "clusters": [{"name": "prod", "cluster": {"server": "https://10.0.0.1:6443"}}],
                "users": [{"name": "prod", "user": {"token": "never-copied"}}],
                "contexts": [{"name": "prod", "context": {"cluster": "prod", "user": "prod"}}],
            }
        )
    )
    ours = str(_kubectl.bin_dir())
    path = [p for p in os.environ["PATH"].split(os.pathsep) if p != ours]
    env = {
        **os.environ,
        "KUBECONFIG": str(decoy),
        "PATH": os.pathsep.join([*path, "/usr/bin"]),
        "PYTHONPATH": str(Path(ch.__file__).resolve().parents[1]),
    }
    env.pop(_kubectl.ORIGINAL_KUBECONFIG, None)
    manager, client = start_new_kernel(kernel_name="python3", env=env, startup_timeout=120)
    try:
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_bang_and_cell_kubectl_reach_only_the_helpers_cluster(
    kernel: BlockingKernelClient, namespace: str
) -> None:
    connected = execute(
        kernel, f"import course_helpers as ch\ninfo = ch.connect(log=print)\nns = {namespace!r}"
    )
    assert connected["status"] == "ok", connected

    shell = execute(
        kernel,
        "!which kubectl; readlink -f $(which kubectl); echo $KUBECONFIG; stat -c %a $KUBECONFIG\n"
        "!kubectl config get-contexts -o name\n"
        '!kubectl version -o json | grep -c \'"gitVersion": "v1.36.1"\'',
    )
    lines = shell["stdout"].split()
    assert lines[0] == str(_kubectl.bin_dir() / "kubectl")
    assert lines[1] == str(Path(os.path.realpath(_binaries.paths()["kubectl"])))
    assert lines[2] == str(_kubectl.kubeconfig_path()) and lines[3] == "600"
    assert lines[4:] == ["kwok-course", "2"], "one context; client and server are v1.36.1"
    assert "never-copied" not in _kubectl.kubeconfig_path().read_text()

    applied = execute(
        kernel,
        "%%kubectl apply -n {ns} -f -\n"
        "apiVersion: v1\nkind: ConfigMap\n"
        "metadata:\n  name: from-a-cell\ndata:\n  greeting: hello\n",
    )
    assert applied["stdout"] == "configmap/from-a-cell created\n", applied
    read = execute(
        kernel, "%kubectl get configmap from-a-cell -n $ns -o jsonpath={{.data.greeting}}"
    )
    assert read["stdout"] == "hello", read
    config_map = ch.get("ConfigMap", "from-a-cell", namespace)
    assert config_map is not None and config_map["data"] == {"greeting": "hello"}

    failing = execute(kernel, "%kubectl get nosuchkind -n {ns}")
    assert failing["status"] == "ok" and failing["errors"] == []
    assert failing["stderr"] == 'error: the server doesn\'t have a resource type "nosuchkind"\n'

    # logs -f ends when the container ends, as on a real node (kwok alone would not).
    execute(
        kernel,
        "%%kubectl apply -n {ns} -f -\n"
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: ticker\nspec:\n  template:\n"
        "    metadata:\n      annotations:\n        course.kwok/run-for: 3s\n"
        "    spec:\n      restartPolicy: Never\n      containers:\n      - name: tick\n"
        "        image: busybox:1.37\n"
        '        command: ["sh", "-c", "echo one; sleep 1; echo two; sleep 2; echo three"]\n',
    )
    followed = execute(
        kernel, "%kubectl logs -f job/ticker -n {ns} --pod-running-timeout=60s", timeout=90
    )
    assert followed["stdout"] == "one\ntwo\nthree\n", followed
    assert "the container has ended" in followed["stderr"]

    refused = execute(kernel, "%kubectl get pods --kubeconfig=/root/.kube/config")
    assert refused["stderr"].startswith("%kubectl: --kubeconfig is not accepted here")
