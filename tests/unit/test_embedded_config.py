from __future__ import annotations

import socket
from importlib import resources
from pathlib import Path

import pytest
import yaml

from course_helpers.cluster import _dns, _embedded, _embedded_kwokctl, _nodes
from course_helpers.errors import ClusterError, PortInUseError
from course_helpers.kube import _namespaces


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COURSE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("COURSE_KUBECONFIG", raising=False)
    return tmp_path / "state"


def test_config_binds_to_loopback_and_carries_all_stages(state: Path) -> None:
    docs = list(yaml.safe_load_all(_embedded_kwokctl.config_file().read_text()))
    options = docs[0]
    assert options["kind"] == "KwokctlConfiguration"
    assert options["options"]["bindAddress"] == "127.0.0.1"
    stages = {d["metadata"]["name"] for d in docs[1:] if d["kind"] == "Stage"}
    assert {
        "course-node-initialize",
        "course-node-heartbeat",
        "course-pod-ready",
        "course-job-pod-succeeds",
        "course-job-pod-fails",
        "course-job-container-restarts",
        "course-pod-delete",
        "course-pvc-provision",
        "course-pv-delete",
    } <= stages
    assert len(stages) == len(docs) - 1


def test_storage_class_is_the_default_one_the_volume_stages_select() -> None:
    text = (resources.files("course_helpers.cluster") / "kwok" / "storageclass.yaml").read_text()
    storage_class = yaml.safe_load(text)
    annotations = storage_class["metadata"]["annotations"]
    assert annotations["storageclass.kubernetes.io/is-default-class"] == "true"
    volumes = (resources.files("course_helpers.cluster") / "kwok" / "volumes.yaml").read_text()
    assert f"self.spec.storageClassName == '{storage_class['metadata']['name']}'" in volumes


def test_kubeconfig_path_is_stable_and_overridable(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _embedded.kubeconfig_path() == state / "kubeconfig"
    monkeypatch.setenv("COURSE_KUBECONFIG", "/tmp/elsewhere")
    assert str(_embedded.kubeconfig_path()) == "/tmp/elsewhere"


def test_port_in_use_is_refused_before_anything_starts(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("COURSE_APISERVER_PORT", str(port))
        with pytest.raises(PortInUseError, match=rf"Port {port} .*already in use.*unset"):
            _embedded.up(log=lambda _m: None, build=False)
    assert not _embedded.cluster_dir().exists()


def test_port_that_is_not_a_number_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_DNS_PORT", "fifty")
    with pytest.raises(ClusterError, match="not a port number"):
        _embedded.requested_port("COURSE_DNS_PORT")


def test_down_without_a_cluster_says_so(state: Path) -> None:
    messages: list[str] = []
    assert _embedded.down(log=messages.append) is False
    assert _embedded.down(log=messages.append) is False
    assert messages == ["no embedded cluster to delete"] * 2
    assert _embedded.stop(log=messages.append) is False
    assert messages[-1] == "no embedded cluster to stop"


def test_corefile_binds_to_loopback_and_serves_the_cluster_domain() -> None:
    text = _dns.corefile("/k/config", "kwok-course", 5353)
    assert text.startswith(".:5353 {")
    assert "bind 127.0.0.1" in text
    assert "kubernetes cluster.local" in text
    assert "kubeconfig /k/config kwok-course" in text


def test_nodes_have_readable_names_labels_and_no_taints() -> None:
    bodies = [_nodes.node_body(f"worker-{i}", i) for i in (1, 2, 3)]
    labels = [b["metadata"]["labels"] for b in bodies]  # type: ignore[index]
    assert [lbl[_nodes.ZONE_LABEL] for lbl in labels] == ["zone-a", "zone-b", "zone-c"]
    assert [lbl[_nodes.DISK_LABEL] for lbl in labels] == ["ssd", "ssd", "hdd"]
    assert all(b["spec"]["taints"] == [] for b in bodies)  # type: ignore[index]
    assert len({b["spec"]["podCIDR"] for b in bodies}) == 3  # type: ignore[index]


@pytest.mark.parametrize("bad", ["", "Upper", "-dash", "under_score", "x" * 60])
def test_namespace_topics_are_validated(bad: str) -> None:
    with pytest.raises(ValueError, match="not a valid topic"):
        _namespaces.namespace_name(bad)
