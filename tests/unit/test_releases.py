"""`course-cluster install` downloads verified release binaries, and builds when it cannot.

The release servers are out of reach here, so a local server on 127.0.0.1
(tests/release_mirror.py) serves the same layout with small fake binaries;
tests/integration/test_releases_real.py downloads a real one.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from release_mirror import fake_binaries, serve, write_mirror

from course_helpers.cluster import _binaries, _download, _pins, _releases
from course_helpers.errors import BuildError

FAILING_GO = (
    'if [ "$1" = env ]; then echo go1.26.8; exit 0; fi\n'
    'echo "compile: the build was attempted" >&2\nexit 1\n'
)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache, no binaries on PATH, and a Go that fails loudly if a build is tried."""
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    for recipe in _binaries.recipes():
        for binary in recipe.binaries:
            monkeypatch.delenv(binary.env_var, raising=False)
    go = tmp_path / "go"
    go.write_text("#!/bin/sh\n" + FAILING_GO)
    go.chmod(go.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("COURSE_GO", str(go))
    monkeypatch.delenv("COURSE_RELEASES", raising=False)
    return tmp_path / "cache"


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, list[str]]]:
    """The release layout of every component with fake binaries, served on 127.0.0.1."""
    root = tmp_path / "mirror"
    write_mirror(root, fake_binaries(tmp_path / "fakes"))
    with serve(root) as (address, requests):
        monkeypatch.setenv("COURSE_RELEASES_MIRROR", address)
        yield root, requests


def _install(only: list[str] | None = None) -> tuple[dict[str, Path], list[str]]:
    lines: list[str] = []
    return _binaries.install(lines.append, only=only), lines


def _fallbacks(lines: list[str]) -> list[str]:
    return [line for line in lines if "no verified release download" in line]


def test_release_layout_matches_what_each_project_publishes() -> None:
    urls = {
        c: [(a.url, a.checksum_url) for a in _releases.assets(c, "linux", "amd64")]
        for c in ("kubernetes", "etcd", "kwok", "coredns")
    }
    k = f"https://dl.k8s.io/release/{_pins.KUBERNETES}/bin/linux/amd64"
    assert urls["kubernetes"] == [
        (f"{k}/{n}", f"{k}/{n}.sha256")
        for n in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
    ]
    e = f"https://github.com/etcd-io/etcd/releases/download/{_pins.ETCD}"
    assert urls["etcd"] == [(f"{e}/etcd-{_pins.ETCD}-linux-amd64.tar.gz", f"{e}/SHA256SUMS")]
    kw = f"https://github.com/kubernetes-sigs/kwok/releases/download/{_pins.KWOK}"
    api = f"https://api.github.com/repos/kubernetes-sigs/kwok/releases/tags/{_pins.KWOK}"
    assert urls["kwok"] == [(f"{kw}/kwok-linux-amd64", api), (f"{kw}/kwokctl-linux-amd64", api)]
    c = f"https://github.com/coredns/coredns/releases/download/{_pins.COREDNS}"
    tgz = f"{c}/coredns_{_pins.COREDNS[1:]}_linux_amd64.tgz"
    assert urls["coredns"] == [(tgz, f"{tgz}.sha256")]
    # Kubernetes publishes server binaries for Linux only; etcd ships zips for macOS.
    assert _releases.assets("kubernetes", "darwin", "arm64") == ()
    assert _releases.assets("etcd", "darwin", "arm64")[0].archive == "zip"


def test_mirror_keeps_the_layout_under_the_original_host(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "https://dl.k8s.io/release/v1.36.1/bin/linux/amd64/kubectl"
    assert _releases.mirrored(url) == url
    monkeypatch.setenv("COURSE_RELEASES_MIRROR", "http://127.0.0.1:9/")
    assert (
        _releases.mirrored(url)
        == "http://127.0.0.1:9/dl.k8s.io/release/v1.36.1/bin/linux/amd64/kubectl"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 64 + "\n", "a" * 64),
        ("b" * 64 + "  other.tgz\n" + "C" * 64 + "  file.tgz\n", "c" * 64),
        ("d" * 64 + " *file.tgz\n", "d" * 64),
    ],
)
def test_published_digest_formats(text: str, expected: str) -> None:
    asset = _releases.Asset("https://x/v1/file.tgz", "https://x/v1/SUMS", "sums", {"x": "x"})
    assert _download.published_digest(asset, text) == expected


@pytest.mark.parametrize(
    "text", ["", "not a digest\n", "e" * 64 + "  other.tgz\n", "f" * 63 + "\n"]
)
def test_a_missing_digest_is_never_guessed(text: str) -> None:
    asset = _releases.Asset("https://x/v1/file.tgz", "https://x/v1/SUMS", "sums", {"x": "x"})
    with pytest.raises(_download.Unavailable, match=r"no published SHA-256 for file\.tgz"):
        _download.published_digest(asset, text)


def test_downloads_every_component_verified_and_builds_nothing(
    cache: Path, mirror: tuple[Path, list[str]]
) -> None:
    found, lines = _install()
    assert sorted(found) == sorted(_releases_names())
    assert not _fallbacks(lines), lines
    for recipe in _binaries.recipes():
        source = (cache / "bin" / recipe.key / ".source").read_text()
        assert source.startswith("downloaded\n"), source
        assert "sha256:" in source
    assert all(path.is_relative_to(cache) for path in found.values())
    _, requests = mirror
    assert any(r.endswith("/SHA256SUMS") for r in requests)
    assert any(r.endswith(f"/releases/tags/{_pins.KWOK}") for r in requests)
    # A second install finds everything and fetches nothing more.
    before = len(requests)
    _install()
    assert len(requests) == before


def _releases_names() -> list[str]:
    return [b.name for r in _binaries.recipes() for b in r.binaries]


def test_a_corrupted_file_is_refused_and_the_component_is_built(
    cache: Path, mirror: tuple[Path, list[str]], tmp_path: Path
) -> None:
    root, _ = mirror
    tarball = next(root.rglob(f"etcd-{_pins.ETCD}-*.tar.gz"))
    data = bytearray(tarball.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tarball.write_bytes(bytes(data))
    lines: list[str] = []
    with pytest.raises(BuildError, match="the build was attempted"):
        _binaries.install(lines.append, only=["etcd"])
    (line,) = _fallbacks(lines)
    assert "does not match its published SHA-256" in line
    assert line.endswith("building from pinned Go modules")
    assert not list((cache / "bin").glob("etcd-*/etcd")), "a corrupted download was cached"


@pytest.mark.parametrize("component", ["kubernetes", "etcd", "coredns"])
def test_a_missing_checksum_file_means_building(
    cache: Path, mirror: tuple[Path, list[str]], component: str
) -> None:
    root, _ = mirror
    platform = _releases.host_platform()
    assert platform
    asset = _releases.assets(component, *platform)[-1]
    checksum = root / asset.checksum_url.split("://", 1)[1]
    checksum.unlink()
    lines: list[str] = []
    with pytest.raises(BuildError, match="the build was attempted"):
        _binaries.install(lines.append, only=[component])
    (line,) = _fallbacks(lines)
    assert "HTTP 404" in line, line
    assert not list((cache / "bin").glob(f"{component}-*/.complete"))


def test_a_release_without_a_digest_for_the_file_means_building(
    cache: Path, mirror: tuple[Path, list[str]]
) -> None:
    root, _ = mirror
    api = next(root.rglob(f"releases/tags/{_pins.KWOK}"))
    api.write_text(api.read_text().replace('"digest"', '"no-digest"', 1))
    lines: list[str] = []
    with pytest.raises(BuildError, match="the build was attempted"):
        _binaries.install(lines.append, only=["kwok"])
    (line,) = _fallbacks(lines)
    assert "no published SHA-256 for kwok-" in line, line


def test_a_downloaded_binary_of_another_version_is_refused(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "mirror"
    write_mirror(root, fake_binaries(tmp_path / "old", {"etcd": "v3.5.0"}), ["etcd"])
    with serve(root) as (address, _):
        monkeypatch.setenv("COURSE_RELEASES_MIRROR", address)
        lines: list[str] = []
        with pytest.raises(BuildError, match="the build was attempted"):
            _binaries.install(lines.append, only=["etcd"])
    (line,) = _fallbacks(lines)
    assert "the downloaded etcd reports version 3.5.0, expected v3.6.10" in line


def test_offline_says_so_once_per_component_and_builds(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve(cache.parent) as (address, _):
        pass  # the port is closed again: nothing listens there now
    monkeypatch.setenv("COURSE_RELEASES_MIRROR", address)
    lines: list[str] = []
    with pytest.raises(BuildError, match="the build was attempted"):
        _binaries.install(lines.append)
    (line,) = _fallbacks(lines)  # the first component's build fails, so one line
    assert "cannot reach 127.0.0.1" in line, line


def test_an_unreachable_host_is_tried_once_per_install(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve(cache.parent) as (address, _):
        pass
    monkeypatch.setenv("COURSE_RELEASES_MIRROR", address)
    session = _download.Session()
    lines: list[str] = []
    for recipe in _binaries.recipes():
        with pytest.raises(_download.Unavailable, match="cannot reach"):
            _binaries.download(recipe, lines.append, session)
    assert list(session.unreachable) == [address.split("://", 1)[1]]


def test_releases_off_never_downloads(
    cache: Path, mirror: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COURSE_RELEASES", "off")
    lines: list[str] = []
    with pytest.raises(BuildError, match="the build was attempted"):
        _binaries.install(lines.append, only=["coredns"])
    (line,) = _fallbacks(lines)
    assert "COURSE_RELEASES=off" in line
    assert mirror[1] == []
