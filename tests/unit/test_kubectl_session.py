"""The kubectl a learner types: one-context kubeconfig, the pinned binary first on PATH."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from course_helpers.kube import _kubectl

FAKE_KUBECTL = """#!/bin/sh
if [ "$1" = version ] && [ "$3" = -o ]; then
  echo '{{"clientVersion": {{"gitVersion": "{version}"}}}}'
  exit 0
elif [ "$1" = version ]; then
  echo 'Client Version: {version}'
  exit 0
fi
echo "fake kubectl $*"
"""


def fake_kubectl(directory: Path, version: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "kubectl"
    path.write_text(FAKE_KUBECTL.format(version=version))
    path.chmod(0o755)
    return path


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COURSE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))  # nothing built here
    monkeypatch.delenv("KWOK_KUBECTL_BINARY", raising=False)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    return tmp_path / "state"


def _two_kubeconfigs(tmp: Path) -> str:
    first = tmp / "a" / "config"
    first.parent.mkdir()
    first.write_text(
        yaml.safe_dump(
            {
                "current-context": "prod",
                "clusters": [
                    {"name": "prod", "cluster": {"server": "https://10.0.0.1"}},
                    {
                        "name": "kind-kind",
                        "cluster": {
                            "server": "https://127.0.0.1:6443",
                            "certificate-authority": "ca.crt",
                        },
                    },
                ],
                "users": [
                    {"name": "prod-admin", "user": {"token": "secret-prod-token"}},
                    {
                        "name": "kind-kind",
                        "user": {"client-certificate": "certs/me.crt", "client-key": "/abs/me.key"},
                    },
                ],
                "contexts": [
                    {"name": "prod", "context": {"cluster": "prod", "user": "prod-admin"}},
                    {
                        "name": "kind-kind",
                        "context": {"cluster": "kind-kind", "user": "kind-kind", "namespace": "x"},
                    },
                ],
            }
        )
    )
    second = tmp / "b.yaml"
    second.write_text(
        yaml.safe_dump(
            {
                "clusters": [{"name": "kind-kind", "cluster": {"server": "https://shadowed"}}],
                "contexts": [{"name": "other", "context": {"cluster": "kind-kind"}}],
            }
        )
    )
    return f"{first}{os.pathsep}{second}"


def test_the_copy_holds_only_the_chosen_context(tmp_path: Path) -> None:
    config = _kubectl.single_context(_two_kubeconfigs(tmp_path), "kind-kind")
    assert [c["name"] for c in config["contexts"]] == ["kind-kind"]
    assert config["current-context"] == "kind-kind"
    assert config["contexts"][0]["context"]["namespace"] == "x"
    (cluster,) = config["clusters"]
    assert cluster["cluster"]["server"] == "https://127.0.0.1:6443", "the first file wins"
    assert cluster["cluster"]["certificate-authority"] == str(tmp_path / "a" / "ca.crt")
    (user,) = config["users"]
    assert user["user"]["client-certificate"] == str(tmp_path / "a" / "certs" / "me.crt")
    assert user["user"]["client-key"] == "/abs/me.key"
    assert "secret-prod-token" not in yaml.safe_dump(config)


def test_an_unknown_context_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no context 'nope'"):
        _kubectl.single_context(_two_kubeconfigs(tmp_path), "nope")


def test_export_writes_a_private_file_and_puts_kubectl_first(
    state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _two_kubeconfigs(tmp_path)
    monkeypatch.setenv("KUBECONFIG", source)
    pinned = fake_kubectl(tmp_path / "pinned", "v1.36.1")
    monkeypatch.setenv("KWOK_KUBECTL_BINARY", str(pinned))
    for _ in range(2):  # a second connect() changes nothing more
        path = _kubectl.export("kind-kind", False, "v1.36.1", log=lambda _m: None)
    assert path == state / "kubectl" / "kubeconfig"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert yaml.safe_load(path.read_text())["contexts"][0]["name"] == "kind-kind"
    assert os.environ["KUBECONFIG"] == str(path)
    entries = os.environ["PATH"].split(os.pathsep)
    assert entries[0] == str(state / "kubectl" / "bin") and entries.count(entries[0]) == 1
    assert (state / "kubectl" / "bin" / "kubectl").resolve() == pinned
    assert os.listdir(state / "kubectl" / "bin") == ["kubectl"]
    # connect() keeps reading the user's kubeconfig, not the copy.
    assert _kubectl.user_kubeconfig() == source
    # A shell with this environment runs that kubectl.
    out = subprocess.run(["sh", "-c", "kubectl get pods"], capture_output=True, text=True)
    assert out.stdout.startswith("fake kubectl get pods")


def test_an_unrelated_old_kubectl_never_runs(state: Path, tmp_path: Path) -> None:
    fake_kubectl(tmp_path / "old", "v1.32.3")
    os.environ["PATH"] = f"{tmp_path / 'old'}{os.pathsep}/usr/bin:/bin"
    messages: list[str] = []
    assert _kubectl.install_kubectl("v1.36.1", log=messages.append) is None
    out = subprocess.run([str(_kubectl.kubectl())], capture_output=True, text=True)
    assert out.returncode == 1
    assert "course-cluster install" in out.stderr and "fake kubectl" not in out.stdout
    assert "not built" in messages[0]


def test_a_kubectl_within_one_minor_version_is_used_when_none_is_built(
    state: Path, tmp_path: Path
) -> None:
    own = fake_kubectl(tmp_path / "own", "v1.35.2")
    os.environ["PATH"] = f"{own.parent}{os.pathsep}/usr/bin:/bin"
    messages: list[str] = []
    assert _kubectl.install_kubectl("v1.36.0", log=messages.append) == own
    assert (state / "kubectl" / "bin" / "kubectl").resolve() == own
    assert "v1.35.2" in messages[0]


def test_env_lines_are_shell_exports(state: Path) -> None:
    lines = _kubectl.env_lines()
    out = subprocess.run(
        ["sh", "-c", "\n".join([*lines, 'echo "$KUBECONFIG"; echo "$PATH"'])],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert out[0] == str(state / "kubectl" / "kubeconfig")
    assert out[1].startswith(f"{state / 'kubectl' / 'bin'}:/usr/bin")


def test_forget_embedded_removes_only_the_embedded_copy(state: Path, tmp_path: Path) -> None:
    path = _kubectl.write_kubeconfig(_two_kubeconfigs(tmp_path), "kind-kind")
    _kubectl.forget_embedded("kwok-course")
    assert path.exists()
    path.write_text(yaml.safe_dump({"current-context": "kwok-course"}))
    _kubectl.forget_embedded("kwok-course")
    assert not path.exists()
