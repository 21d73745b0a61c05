from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from course_helpers.errors import ClusterError, ContextRefusedError
from course_helpers.kube import _session


@pytest.mark.parametrize(
    ("context", "server", "local"),
    [
        ("kind-kind", "https://127.0.0.1:6443", True),
        ("minikube", "https://192.168.49.2:8443", True),
        ("k3d-dev", "https://0.0.0.0:6550", True),
        ("docker-desktop", "https://kubernetes.docker.internal:6443", True),
        ("kwok-course", "https://127.0.0.1:32764", True),
        ("my-laptop", "https://localhost:6443", True),
        ("dev", "https://[::1]:6443", True),
        ("prod", "https://k8s.example.invalid:6443", False),
        ("gke_project_zone_cluster", "https://10.1.2.3", False),
    ],
)
def test_looks_local(context: str, server: str, local: bool) -> None:
    assert _session.looks_local(context, server) is local


def _kubeconfig(path: Path, contexts: dict[str, str], current: str) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": current,
        "clusters": [{"name": n, "cluster": {"server": s}} for n, s in contexts.items()],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": n, "context": {"cluster": n, "user": "u"}} for n in contexts],
    }
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def user_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = _kubeconfig(
        tmp_path / "config",
        {
            "prod": "https://k8s.example.invalid:6443",
            "kind-gone": "https://127.0.0.1:1",
        },
        current="prod",
    )
    monkeypatch.setenv("KUBECONFIG", str(path))
    monkeypatch.delenv("COURSE_CLUSTER", raising=False)
    monkeypatch.delenv("COURSE_ALLOW_REMOTE", raising=False)
    monkeypatch.delenv("COURSE_CONTEXT", raising=False)
    return path


def test_explicit_remote_context_is_refused(user_kubeconfig: Path) -> None:
    with pytest.raises(
        ContextRefusedError,
        match=r"'prod'.*does not look like a local.*"
        r"COURSE_ALLOW_REMOTE=1",
    ):
        _session.connect(context="prod")


def test_remote_current_context_falls_back_with_an_explanation(
    user_kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _session._use_context("prod", explicit=False) is None
    assert "Using the embedded cluster instead" in capsys.readouterr().out


def test_unreachable_local_context_is_a_clear_error(user_kubeconfig: Path) -> None:
    with pytest.raises(ClusterError, match=r"'kind-gone'.*not reachable.*kind get clusters"):
        _session.connect(context="kind-gone")


def test_unknown_context_lists_the_known_ones(user_kubeconfig: Path) -> None:
    with pytest.raises(ClusterError, match=r"No kubeconfig context called 'nope'.*prod"):
        _session.connect(context="nope")
